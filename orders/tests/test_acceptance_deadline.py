"""The acceptance deadline: checkout sets it, the shop is reminded, the platform team warned,
and at the deadline the order is rejected for the shop, each step once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from catalog.models import Product
from orders import timed
from orders.models import Order
from orders.services import (
    cart_add_item,
    order_accept,
    order_acceptance_escalate,
    order_acceptance_expire,
    order_acceptance_remind,
    order_checkout,
)
from tests import factories
from zora.scheduling import registered_timed_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(customer, vendor):
    """A fresh order over checkout, with the shop's notification of it cleared away."""
    product = factories.ProductFactory(vendor=vendor, stock=10)
    cart_add_item(user=customer, product=product, quantity=3)
    (order,) = order_checkout(customer=customer)
    Notification.objects.all().delete()
    return order


def minutes_after_placing(order, minutes):
    return order.created_at + timedelta(minutes=minutes)


def titles(user):
    return list(Notification.objects.filter(user=user).order_by("id").values_list("title", flat=True))


def test_checkout_gives_each_order_its_deadline(customer, settings):
    settings.ORDER_ACCEPT_MINUTES = 8
    for shop in factories.VendorFactory.create_batch(2):
        cart_add_item(user=customer, product=factories.ProductFactory(vendor=shop))
    before = timezone.now()
    orders = order_checkout(customer=customer)
    after = timezone.now()
    assert len(orders) == 2
    for order in orders:
        assert before + timedelta(minutes=8) <= order.accept_by <= after + timedelta(minutes=8)
        assert (order.reminded_at, order.escalated_at, order.accepted_at) == (None, None, None)


def test_the_shop_is_reminded_once_after_the_reminder_mark(placed, vendor, settings):
    settings.ORDER_ACCEPT_REMINDER_MINUTES = 3
    clerk = factories.VendorStaffFactory(vendor=vendor).user
    assert not order_acceptance_remind(order=placed, now=minutes_after_placing(placed, 2.9))

    now = minutes_after_placing(placed, 3)
    assert order_acceptance_remind(order=placed, now=now)
    assert not order_acceptance_remind(order=placed, now=now + timedelta(seconds=30)), "only once"

    placed.refresh_from_db()
    assert placed.reminded_at == now
    for member in (vendor.owner, clerk):
        (title,) = titles(member)
        assert title.startswith(f"Order {placed.number} is waiting: accept it by ")
    assert not Notification.objects.filter(user=placed.customer).exists()


def test_the_platform_team_is_warned_once_after_the_escalation_mark(placed, vendor, settings):
    settings.ORDER_ACCEPT_ESCALATE_MINUTES = 5
    admins = factories.AdminFactory.create_batch(2)
    retired_admin = factories.AdminFactory(is_active=False)
    assert not order_acceptance_escalate(order=placed, now=minutes_after_placing(placed, 4.9))

    assert order_acceptance_escalate(order=placed, now=minutes_after_placing(placed, 5))
    assert not order_acceptance_escalate(order=placed, now=minutes_after_placing(placed, 6))

    placed.refresh_from_db()
    assert placed.escalated_at == minutes_after_placing(placed, 5)
    for admin in admins:
        assert titles(admin) == [f"{vendor.name} has not accepted order {placed.number}"]
    assert titles(retired_admin) == []
    assert titles(vendor.owner) == [], "the shop gets its own reminder, not the platform's warning"


def test_at_the_deadline_the_order_is_rejected_restocked_and_everyone_told(placed, vendor):
    product = Product.objects.get(order_items__order=placed)
    assert product.stock == 7
    assert not order_acceptance_expire(order=placed, now=placed.accept_by - timedelta(seconds=1))

    assert order_acceptance_expire(order=placed, now=placed.accept_by)
    assert not order_acceptance_expire(order=placed, now=placed.accept_by + timedelta(minutes=1))

    placed.refresh_from_db()
    assert placed.status == Order.Status.CANCELLED
    assert placed.cancel_reason_code == Order.RejectReason.NOT_ACCEPTED_IN_TIME
    assert placed.cancel_reason == "The shop did not accept the order in time"
    product.refresh_from_db()
    assert product.stock == 10
    move = placed.status_history.order_by("id").last()
    assert (move.from_status, move.to_status, move.changed_by) == ("pending", "cancelled", None)
    (to_customer,) = Notification.objects.filter(user=placed.customer)
    assert to_customer.title == f"Your order {placed.number} has been cancelled"
    assert to_customer.body == "The shop did not accept the order in time"
    assert titles(vendor.owner) == [f"Order {placed.number} was rejected automatically"]


def test_an_accepted_order_is_neither_reminded_warned_nor_rejected(placed, vendor):
    factories.AdminFactory()
    order_accept(actor=vendor.owner, order=placed, prep_minutes=15)
    Notification.objects.all().delete()
    late = placed.accept_by + timedelta(hours=1)

    assert not order_acceptance_remind(order=placed, now=late)
    assert not order_acceptance_escalate(order=placed, now=late)
    assert not order_acceptance_expire(order=placed, now=late)

    placed.refresh_from_db()
    assert placed.status == Order.Status.CONFIRMED
    assert not Notification.objects.exists()


def test_no_reminder_or_warning_once_the_deadline_has_passed(placed):
    factories.AdminFactory()
    assert not order_acceptance_remind(order=placed, now=placed.accept_by)
    assert not order_acceptance_escalate(order=placed, now=placed.accept_by)
    assert not Notification.objects.exists()


def test_orders_placed_before_deadlines_existed_never_expire(vendor):
    old = factories.OrderFactory(vendor=vendor, accept_by=None)
    far_future = timezone.now() + timedelta(days=30)
    assert not order_acceptance_expire(order=old, now=far_future)
    assert not order_acceptance_remind(order=old, now=far_future)


def test_the_sweeps_are_registered_and_apply_each_due_step_once(customer, vendor):
    names = {change.name for change in registered_timed_changes()}
    assert {
        "orders.timed.expire_unaccepted_orders",
        "orders.timed.escalate_unaccepted_orders",
        "orders.timed.remind_unaccepted_orders",
    } <= names

    factories.AdminFactory()
    for _ in range(3):
        cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor))
        order_checkout(customer=customer)
    orders = list(Order.objects.order_by("id"))
    order_accept(actor=vendor.owner, order=orders[0], prep_minutes=10)
    placed_at = max(order.created_at for order in orders)

    at_six_minutes = placed_at + timedelta(minutes=6)
    assert timed.remind_unaccepted_orders(at_six_minutes) == 2
    assert timed.escalate_unaccepted_orders(at_six_minutes) == 2
    assert timed.expire_unaccepted_orders(at_six_minutes) == 0
    assert timed.remind_unaccepted_orders(at_six_minutes) == 0

    at_the_deadline = max(order.accept_by for order in orders)
    assert timed.expire_unaccepted_orders(at_the_deadline) == 2
    assert timed.expire_unaccepted_orders(at_the_deadline) == 0
    assert list(Order.objects.order_by("id").values_list("status", flat=True)) == [
        "confirmed",
        "cancelled",
        "cancelled",
    ]
