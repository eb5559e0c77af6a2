import itertools

import pytest

from accounts.models import AdminActivityLog, Notification
from catalog.models import InventoryAlert, Product, StockMovement
from catalog.services import inventory_alerts_sync
from orders.models import Order, OrderStatusHistory
from orders.services import order_cancel, order_transition
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.versions import version_of

pytestmark = pytest.mark.django_db

Status = Order.Status
ALL_PAIRS = list(itertools.product(Status.values, repeat=2))
# The business rules (docs/domain.md, "Orders"), written out here rather than read from
# Order.TRANSITIONS: the table under test must not supply its own expected answer.
LEGAL_MOVES = {
    ("pending", "confirmed"),
    ("pending", "cancelled"),
    ("confirmed", "preparing"),
    ("confirmed", "cancelled"),
    ("preparing", "ready"),
    ("preparing", "cancelled"),
    ("ready", "out_for_delivery"),
    ("out_for_delivery", "delivered"),
    ("delivered", "refunded"),
}


def is_legal(from_status, to_status):
    return (from_status, to_status) in LEGAL_MOVES


@pytest.fixture
def order(customer, vendor):
    return factories.OrderFactory(customer=customer, vendor=vendor)


def put_in(order, status):
    order.status = status
    order.save()
    return order


def test_the_table_holds_exactly_the_legal_moves():
    assert set(Order.TRANSITIONS) == set(Status.values)
    table = {(from_status, to_status) for from_status, moves in Order.TRANSITIONS.items() for to_status in moves}
    assert table == LEGAL_MOVES


@pytest.mark.parametrize(("from_status", "to_status"), ALL_PAIRS)
def test_every_pair_of_the_state_machine(order, admin_user, from_status, to_status):
    put_in(order, from_status)

    if is_legal(from_status, to_status):
        moved = order_transition(actor=admin_user, order=order, to_status=to_status, note="by the table")
        assert moved.status == to_status
        order.refresh_from_db()
        assert order.status == to_status
        assert list(order.status_history.values_list("from_status", "to_status", "changed_by", "note")) == [
            (from_status, to_status, admin_user.pk, "by the table")
        ]
        notification = Notification.objects.get(user=order.customer)
        assert notification.type == "order"
        assert notification.data == {"order_id": order.pk, "number": order.number, "status": to_status}
    else:
        with pytest.raises(Conflict) as refusal:
            order_transition(actor=admin_user, order=order, to_status=to_status)
        assert (refusal.value.code, refusal.value.field) == ("illegal_transition", "to_status")
        assert refusal.value.message == f"An order cannot go from {from_status} to {to_status}."
        assert refusal.value.details == {"from_status": from_status, "to_status": to_status}
        order.refresh_from_db()
        assert order.status == from_status
        assert not OrderStatusHistory.objects.exists()
        assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("from_status", "to_status"), [pair for pair in ALL_PAIRS if is_legal(*pair) and pair[1] != Status.REFUNDED]
)
def test_vendor_staff_make_every_legal_move_except_refunds(order, vendor, from_status, to_status):
    member = factories.VendorStaffFactory(vendor=vendor).user
    put_in(order, from_status)
    order_transition(actor=member, order=order, to_status=to_status)
    order.refresh_from_db()
    assert order.status == to_status
    assert not AdminActivityLog.objects.exists(), "only admins leave an audit trail"


def test_only_a_platform_admin_refunds_and_it_is_logged(order, vendor, admin_user):
    put_in(order, Status.DELIVERED)
    with pytest.raises(RuleViolation) as refusal:
        order_transition(actor=vendor.owner, order=order, to_status=Status.REFUNDED)
    assert (refusal.value.code, refusal.value.field) == ("refund_admin_only", "to_status")
    assert refusal.value.message == "Only the platform team can refund an order."

    order_transition(
        actor=admin_user,
        order=order,
        to_status=Status.REFUNDED,
        note="damaged",
        request_meta={"ip": "203.0.113.9", "user_agent": "Dashboard"},
    )
    entry = AdminActivityLog.objects.get()
    assert (entry.action, entry.category, entry.entity_id, entry.ip_address) == (
        "order_refunded",
        "refund",
        str(order.pk),
        "203.0.113.9",
    )
    assert entry.details == {"from": "delivered", "to": "refunded", "note": "damaged"}


def test_admin_moves_are_logged_as_order_activity(order, admin_user):
    order_transition(actor=admin_user, order=order, to_status=Status.CONFIRMED)
    assert AdminActivityLog.objects.values_list("action", "category").get() == ("order_status_changed", "order")


@pytest.mark.parametrize("actor_kind", ["customer", "other_vendor", "stranger"])
def test_outsiders_get_not_found(order, actor_kind):
    actor = {
        "customer": lambda: order.customer,
        "other_vendor": lambda: factories.VendorFactory().owner,
        "stranger": factories.UserFactory,
    }[actor_kind]()
    with pytest.raises(NotFound) as refusal:
        order_transition(actor=actor, order=order, to_status=Status.CONFIRMED)
    assert (refusal.value.message, refusal.value.field) == ("No such order.", "order")
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_stale_expected_status_is_a_conflict_with_the_current_one(order, vendor):
    order_transition(actor=vendor.owner, order=order, to_status=Status.CONFIRMED, expected_status=Status.PENDING)

    with pytest.raises(Conflict) as refusal:
        order_transition(actor=vendor.owner, order=order, to_status=Status.CONFIRMED, expected_status=Status.PENDING)
    assert (refusal.value.code, refusal.value.field) == ("stale_status", "expected_status")
    assert refusal.value.message == "The order is confirmed now, not pending; reload and try again."
    assert refusal.value.details == {"current_status": "confirmed"}


def test_a_move_made_from_an_outdated_page_is_refused(order, vendor):
    seen = version_of(order)
    order_transition(actor=vendor.owner, order=order, to_status=Status.CONFIRMED)

    with pytest.raises(Conflict) as refusal:
        order_transition(actor=vendor.owner, order=order, to_status=Status.PREPARING, seen_version=seen)
    assert refusal.value.code == "stale_version"
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED


def test_unknown_status_names_the_field(order, vendor):
    with pytest.raises(InvalidInput) as refusal:
        order_transition(actor=vendor.owner, order=order, to_status="lost")
    assert refusal.value.field == "to_status"


def test_vendor_cancellation_restocks_and_keeps_the_reason(order, vendor):
    item = order.items.get()
    product = item.product
    product.stock = 0
    product.save()
    inventory_alerts_sync(product=product)
    assert InventoryAlert.objects.filter(product=product, type="stockout", status="active").exists()

    order_transition(actor=vendor.owner, order=order, to_status=Status.CANCELLED, note="Oven broke")

    order.refresh_from_db()
    assert order.cancel_reason == "Oven broke"
    assert Product.objects.get(pk=product.pk).stock == item.quantity
    movement = StockMovement.objects.get(product=product, reason="cancellation")
    assert (movement.delta, movement.stock_before, movement.stock_after) == (item.quantity, 0, item.quantity)
    assert (movement.actor, movement.note) == (vendor.owner, f"Order {order.number}")
    assert not InventoryAlert.objects.filter(product=product, type="stockout").exclude(status="resolved").exists()


@pytest.mark.parametrize("status", [Status.PENDING, Status.CONFIRMED])
def test_customer_cancels_while_pending_or_confirmed(order, vendor, customer, status):
    put_in(order, status)
    item = order.items.get()

    order_cancel(actor=customer, order=order, reason="Changed my mind")

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, "Changed my mind")
    assert Product.objects.get(pk=item.product_id).stock == 50 + item.quantity
    assert order.status_history.values_list("from_status", "to_status", "changed_by").get() == (
        status,
        "cancelled",
        customer.pk,
    )
    assert Notification.objects.filter(user=vendor.owner, type="order").count() == 1


@pytest.mark.parametrize("status", [s for s in Status.values if s not in (Status.PENDING, Status.CONFIRMED)])
def test_customer_cannot_cancel_later(order, customer, status):
    put_in(order, status)
    with pytest.raises(RuleViolation) as refusal:
        order_cancel(actor=customer, order=order)
    assert refusal.value.code == "not_cancellable"
    order.refresh_from_db()
    assert order.status == status


def test_only_the_own_customer_cancels(order, vendor):
    for actor in (factories.UserFactory(), vendor.owner):
        with pytest.raises(NotFound):
            order_cancel(actor=actor, order=order)
