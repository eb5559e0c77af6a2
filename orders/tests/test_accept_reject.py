"""Accepting with a preparation estimate, rejecting and cancelling with a reason: thin services
over the same locked, stale-checked move as order_transition."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AdminActivityLog, Notification
from catalog.models import Product
from orders.models import Order, OrderStatusHistory
from orders.services import SHOP_REJECT_REASONS, order_accept, order_cancel, order_reject, order_transition
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db

Status = Order.Status
Reason = Order.RejectReason


@pytest.fixture
def order(customer, vendor):
    return factories.OrderFactory(customer=customer, vendor=vendor)


def put_in(order, status):
    order.status = status
    order.save()
    return order


def test_accepting_records_the_estimate_and_tells_the_customer(order, vendor):
    before = timezone.now()
    accepted = order_accept(actor=vendor.owner, order=order, prep_minutes=20, expected_status=Status.PENDING)
    after = timezone.now()

    order.refresh_from_db()
    assert order.status == Status.CONFIRMED == accepted.status
    assert order.prep_minutes == 20
    assert before <= order.accepted_at <= after
    assert order.estimated_ready_at == order.accepted_at + timedelta(minutes=20)
    move = order.status_history.get()
    assert (move.from_status, move.to_status, move.changed_by) == ("pending", "confirmed", vendor.owner)
    assert move.note.startswith("Ready in about 20 minutes (around ")
    notification = Notification.objects.get(user=order.customer)
    assert notification.title == f"Your order {order.number} has been confirmed"
    assert notification.body == move.note


def test_a_busy_shop_adds_its_extra_time(order, vendor):
    vendor.opening_status = "busy"
    vendor.busy_extra_minutes = 15
    vendor.save()

    order_accept(actor=vendor.owner, order=order, prep_minutes=20)

    order.refresh_from_db()
    assert order.prep_minutes == 35
    assert order.estimated_ready_at - order.accepted_at == timedelta(minutes=35)


def test_a_busy_shop_without_an_extra_margin_quotes_the_prep_time(order, vendor):
    vendor.opening_status = "busy"
    vendor.save()
    order_accept(actor=vendor.owner, order=order, prep_minutes=30)
    order.refresh_from_db()
    assert order.estimated_ready_at - order.accepted_at == timedelta(minutes=30)


@pytest.mark.parametrize("prep_minutes", [0, -5, 241, "20", 12.5, None, True])
def test_accept_refuses_a_prep_time_out_of_range(order, vendor, prep_minutes, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        order_accept(actor=vendor.owner, order=order, prep_minutes=prep_minutes)
    assert refusal.value.field == "prep_minutes"


def test_accept_shares_the_stale_and_legality_checks(order, vendor):
    member = factories.VendorStaffFactory(vendor=vendor).user
    order_accept(actor=member, order=order, prep_minutes=10, expected_status=Status.PENDING)

    with pytest.raises(Conflict) as refusal:
        order_accept(actor=vendor.owner, order=order, prep_minutes=10, expected_status=Status.PENDING)
    assert (refusal.value.code, refusal.value.details) == ("stale_status", {"current_status": "confirmed"})
    with pytest.raises(Conflict) as refusal:
        order_accept(actor=vendor.owner, order=order, prep_minutes=10)
    assert refusal.value.code == "illegal_transition"
    assert OrderStatusHistory.objects.count() == 1


@pytest.mark.parametrize("actor_kind", ["customer", "other_vendor", "stranger"])
def test_outsiders_cannot_accept_reject_or_cancel(order, actor_kind):
    actor = {
        "customer": lambda: order.customer,
        "other_vendor": lambda: factories.VendorFactory().owner,
        "stranger": factories.UserFactory,
    }[actor_kind]()
    with pytest.raises(NotFound):
        order_accept(actor=actor, order=order, prep_minutes=10)
    with pytest.raises(NotFound):
        order_reject(actor=actor, order=order, reason_code=Reason.TOO_BUSY)
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_an_admin_accepting_is_logged(order, admin_user):
    order_accept(actor=admin_user, order=order, prep_minutes=10)
    assert AdminActivityLog.objects.values_list("action", "details__to").get() == ("order_status_changed", "confirmed")


def test_rejecting_a_new_order_keeps_the_reason_restocks_and_tells_the_customer(order, vendor):
    item = order.items.get()
    order_reject(
        actor=vendor.owner,
        order=order,
        reason_code=Reason.OUT_OF_STOCK,
        reason_text="  No sourdough left today ",
        expected_status=Status.PENDING,
    )
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert order.cancel_reason_code == "out_of_stock"
    assert order.cancel_reason == "Some items are out of stock: No sourdough left today"
    assert Product.objects.get(pk=item.product_id).stock == 50 + item.quantity
    notification = Notification.objects.get(user=order.customer)
    assert (notification.title, notification.body) == (
        f"Your order {order.number} has been cancelled",
        "Some items are out of stock: No sourdough left today",
    )


def test_a_reason_from_the_list_needs_no_words(order, vendor):
    order_reject(actor=vendor.owner, order=order, reason_code=Reason.CLOSING_SOON)
    order.refresh_from_db()
    assert order.cancel_reason == "The shop is closing soon"


@pytest.mark.parametrize("status", [Status.CONFIRMED, Status.PREPARING])
def test_the_shop_cancels_an_accepted_order_with_a_reason(order, vendor, status):
    put_in(order, status)
    order_reject(actor=vendor.owner, order=order, reason_code=Reason.OTHER, reason_text="Oven broke")
    order.refresh_from_db()
    assert (order.status, order.cancel_reason_code, order.cancel_reason) == (Status.CANCELLED, "other", "Oven broke")


@pytest.mark.parametrize("status", [Status.READY, Status.OUT_FOR_DELIVERY, Status.DELIVERED, Status.CANCELLED])
def test_too_late_to_reject(order, vendor, status):
    put_in(order, status)
    with pytest.raises(Conflict) as refusal:
        order_reject(actor=vendor.owner, order=order, reason_code=Reason.TOO_BUSY)
    assert refusal.value.code == "illegal_transition"


def test_reject_refuses_a_stale_status(order, vendor):
    put_in(order, Status.PREPARING)
    with pytest.raises(Conflict) as refusal:
        order_reject(actor=vendor.owner, order=order, reason_code=Reason.TOO_BUSY, expected_status=Status.PENDING)
    assert refusal.value.code == "stale_status"


@pytest.mark.parametrize(
    ("reason_code", "reason_text", "field"),
    [
        ("bored", "", "reason_code"),
        (Reason.NOT_ACCEPTED_IN_TIME, "", "reason_code"),
        (Reason.OTHER, "   ", "reason_text"),
        (Reason.TOO_BUSY, "x" * 1001, "reason_text"),
    ],
)
def test_reject_refuses_bad_reasons(order, vendor, reason_code, reason_text, field, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        order_reject(actor=vendor.owner, order=order, reason_code=reason_code, reason_text=reason_text)
    assert refusal.value.field == field


def test_the_deadlines_reason_is_not_one_a_person_gives():
    codes = [code for code, _label in SHOP_REJECT_REASONS]
    assert Reason.NOT_ACCEPTED_IN_TIME not in codes
    assert {Reason.OUT_OF_STOCK, Reason.TOO_BUSY, Reason.OTHER} <= set(codes)


def test_a_customer_cancelling_is_recorded_as_their_request(order, customer):
    order_cancel(actor=customer, order=order, reason="Ordered twice")
    order.refresh_from_db()
    assert (order.cancel_reason_code, order.cancel_reason) == ("customer_request", "Ordered twice")


def test_confirming_through_the_plain_transition_still_records_when(order, vendor):
    order_transition(actor=vendor.owner, order=order, to_status=Status.CONFIRMED)
    order.refresh_from_db()
    assert order.accepted_at is not None
    assert (order.prep_minutes, order.estimated_ready_at) == (None, None)
