"""Order notes (internal or for the customer), who sees them live, and the order's timeline."""

from datetime import timedelta

import pytest

from accounts.models import Notification
from orders.models import Order, OrderNote
from orders.selectors import order_latest_move, order_next_moves, order_timeline
from orders.services import (
    cart_add_item,
    order_accept,
    order_acceptance_expire,
    order_cancel,
    order_checkout,
    order_note_add,
    order_reject,
    order_transition,
)
from realtime.models import Event
from realtime.policies import STAFF, user_group, vendor_group
from tests import factories
from zora.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(customer, vendor):
    cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor))
    (order,) = order_checkout(customer=customer)
    return order


def latest_audience(note):
    event = Event.objects.filter(table="order_notes").order_by("-id").first()
    assert event.record["id"] == note.pk
    return set(event.audience)


def test_an_internal_note_stays_with_the_shop_and_the_platform(placed, vendor):
    member = factories.VendorStaffFactory(vendor=vendor).user
    Notification.objects.all().delete()

    note = order_note_add(actor=member, order=placed, body="  Regular: extra napkins  ")

    assert (note.author, note.body, note.is_internal) == (member, "Regular: extra napkins", True)
    assert latest_audience(note) == {vendor_group(vendor.pk), STAFF}
    assert not Notification.objects.exists()


def test_a_note_for_the_customer_reaches_them(placed, vendor):
    Notification.objects.all().delete()

    note = order_note_add(actor=vendor.owner, order=placed, body="Running 5 minutes late", is_internal=False)

    assert latest_audience(note) == {vendor_group(vendor.pk), STAFF, user_group(placed.customer_id)}
    notification = Notification.objects.get(user=placed.customer)
    assert notification.title == f"A note from {vendor.name} about your order {placed.number}"
    assert notification.body == "Running 5 minutes late"


def test_a_platform_admin_may_add_notes(placed, admin_user):
    assert order_note_add(actor=admin_user, order=placed, body="Called the shop").author == admin_user


@pytest.mark.parametrize("actor_kind", ["customer", "other_vendor", "stranger"])
def test_outsiders_cannot_add_notes(placed, actor_kind, nothing_written):
    actor = {
        "customer": lambda: placed.customer,
        "other_vendor": lambda: factories.VendorFactory().owner,
        "stranger": factories.UserFactory,
    }[actor_kind]()
    with nothing_written(), pytest.raises(NotFound):
        order_note_add(actor=actor, order=placed, body="Hello")


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_a_note_needs_words_within_the_limit(placed, vendor, body, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        order_note_add(actor=vendor.owner, order=placed, body=body)
    assert refusal.value.field == "body"


def test_the_timeline_tells_who_did_what_and_when(placed, vendor, customer):
    clerk = factories.VendorStaffFactory(vendor=vendor, user=factories.UserFactory(full_name="Sam Clerk")).user
    vendor.owner.full_name = "Olu Owner"
    vendor.owner.save()
    order_accept(actor=clerk, order=placed, prep_minutes=15)
    order_note_add(actor=clerk, order=placed, body="Customer allergic to nuts")
    order_note_add(actor=vendor.owner, order=placed, body="On its way soon", is_internal=False)
    order_transition(actor=clerk, order=placed, to_status=Order.Status.PREPARING)

    timeline = order_timeline(order=placed)

    assert [(entry.actor_name, entry.action, entry.is_note) for entry in timeline] == [
        (customer.get_full_name(), "placed the order", False),
        ("Sam Clerk", "accepted the order", False),
        ("Sam Clerk", "added an internal note", True),
        ("Olu Owner", "wrote to the customer", True),
        ("Sam Clerk", "started preparing it", False),
    ]
    assert timeline[1].detail.startswith("Ready in about 15 minutes")
    assert timeline[2].detail == "Customer allergic to nuts"
    assert [entry.at for entry in timeline] == sorted(entry.at for entry in timeline)
    latest = order_latest_move(order=placed)
    assert (latest.to_status, latest.changed_by) == ("preparing", clerk)


def test_the_timeline_orders_notes_between_moves_by_time(placed, vendor):
    note = order_note_add(actor=vendor.owner, order=placed, body="Before accepting")
    OrderNote.objects.filter(pk=note.pk).update(created_at=placed.created_at - timedelta(seconds=1))
    assert order_timeline(order=placed)[0].detail == "Before accepting"


@pytest.mark.parametrize(
    ("how", "actor_name", "action"),
    [
        ("shop_rejects", "owner", "rejected the order"),
        ("customer_cancels", "customer", "cancelled the order"),
        ("deadline", "Zora", "rejected the order"),
    ],
)
def test_the_timeline_says_who_turned_the_order_down(placed, vendor, customer, how, actor_name, action):
    if how == "shop_rejects":
        order_reject(actor=vendor.owner, order=placed, reason_code="too_busy")
    elif how == "customer_cancels":
        order_cancel(actor=customer, order=placed)
    else:
        order_acceptance_expire(order=placed, now=placed.accept_by)
    names = {"owner": vendor.owner.get_full_name(), "customer": customer.get_full_name(), "Zora": "Zora"}

    last = order_timeline(order=placed)[-1]

    assert (last.actor_name, last.action) == (names[actor_name], action)


def test_cancelling_after_acceptance_reads_as_a_cancellation(placed, vendor):
    order_accept(actor=vendor.owner, order=placed, prep_minutes=10)
    order_reject(actor=vendor.owner, order=placed, reason_code="other", reason_text="Oven broke")
    last = order_timeline(order=placed)[-1]
    assert (last.action, last.detail) == ("cancelled the order", "Oven broke")


def test_the_next_moves_offered_are_the_legal_ones_and_refunds_only_to_admins(placed, vendor, admin_user):
    assert order_next_moves(order=placed, user=vendor.owner) == ["confirmed", "cancelled"]
    placed.status = Order.Status.DELIVERED
    assert order_next_moves(order=placed, user=vendor.owner) == []
    assert order_next_moves(order=placed, user=admin_user) == ["refunded"]
