"""Reads of carts and orders, with the joins done up front (no N+1)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import User
from accounts.services import validate_choice
from catalog.services import money
from orders.models import CartItem, Order, OrderItem, OrderNote, OrderStatusHistory
from vendors.access import user_manages_vendor
from vendors.models import Vendor
from zora.errors import NotFound


def delivery_fee_per_order() -> Decimal:
    """Each vendor delivers separately, so each order carries the fee once."""
    return money(settings.DELIVERY_FEE)


@dataclass
class CartVendorGroup:
    """The part of the cart that will become one order at checkout."""

    vendor: Vendor
    items: list[CartItem] = field(default_factory=list)
    subtotal: Decimal = Decimal("0.00")
    delivery_fee: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.delivery_fee


@dataclass
class CartSummary:
    items: list[CartItem]
    groups: list[CartVendorGroup]

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def subtotal(self) -> Decimal:
        return sum((group.subtotal for group in self.groups), Decimal("0.00"))

    @property
    def delivery_fee(self) -> Decimal:
        return sum((group.delivery_fee for group in self.groups), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.delivery_fee


def cart_items_for_user(*, user) -> QuerySet[CartItem]:
    return CartItem.objects.filter(user=user).select_related("product__vendor").order_by("id")


def cart_summary(*, user) -> CartSummary:
    """The cart as checkout will split it: one group per vendor, each with its own fee."""
    items = list(cart_items_for_user(user=user))
    groups: dict[int, CartVendorGroup] = {}
    fee = delivery_fee_per_order()
    for item in items:
        vendor = item.product.vendor
        group = groups.setdefault(vendor.pk, CartVendorGroup(vendor=vendor, delivery_fee=fee))
        group.items.append(item)
        group.subtotal += money(item.product.price * item.quantity)
    return CartSummary(items=items, groups=[groups[vendor_id] for vendor_id in sorted(groups)])


def _orders_with_details() -> QuerySet[Order]:
    return Order.objects.select_related("vendor", "customer").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id")),
        Prefetch("status_history", queryset=OrderStatusHistory.objects.select_related("changed_by")),
        Prefetch("order_notes", queryset=OrderNote.objects.filter(is_internal=False), to_attr="notes_for_customer"),
    )


def _filter_status(orders: QuerySet[Order], status: str | None) -> QuerySet[Order]:
    if status is None:
        return orders
    validate_choice(status, Order.Status.choices, field="status")
    return orders.filter(status=status)


def order_list_for_customer(*, customer, status: str | None = None) -> QuerySet[Order]:
    return _filter_status(_orders_with_details().filter(customer=customer), status)


def order_list_for_vendor(*, vendor: Vendor, status: str | None = None) -> QuerySet[Order]:
    return _filter_status(_orders_with_details().filter(vendor=vendor), status)


def order_detail(*, user, order_id) -> Order:
    """The order if this user may see it: its customer, its vendor's team, or an admin."""
    order = _orders_with_details().filter(pk=order_id).first()
    if order is None or not (order.customer_id == user.pk or user_manages_vendor(user=user, vendor=order.vendor)):
        raise NotFound("No such order.", field="order")
    return order


# Acceptance deadlines -------------------------------------------------------------------------
# Each query below is both what a sweep looks for and what its service re-checks under the lock.


def acceptance_deadline(*, placed_at: datetime) -> datetime:
    return placed_at + timedelta(minutes=settings.ORDER_ACCEPT_MINUTES)


def _awaiting_acceptance(now: datetime) -> QuerySet[Order]:
    return Order.objects.filter(status=Order.Status.PENDING, accept_by__gt=now)


def orders_due_acceptance_reminder(*, now: datetime) -> QuerySet[Order]:
    placed_before = now - timedelta(minutes=settings.ORDER_ACCEPT_REMINDER_MINUTES)
    return _awaiting_acceptance(now).filter(reminded_at=None, created_at__lte=placed_before)


def orders_due_acceptance_escalation(*, now: datetime) -> QuerySet[Order]:
    placed_before = now - timedelta(minutes=settings.ORDER_ACCEPT_ESCALATE_MINUTES)
    return _awaiting_acceptance(now).filter(escalated_at=None, created_at__lte=placed_before)


def orders_past_acceptance_deadline(*, now: datetime) -> QuerySet[Order]:
    return Order.objects.filter(status=Order.Status.PENDING, accept_by__lte=now)


# The shop's order desk --------------------------------------------------------------------------


def _vendor_orders_matching(
    *, vendor: Vendor, placed_since: datetime | None, placed_before: datetime | None, search: str
) -> QuerySet[Order]:
    orders = Order.objects.filter(vendor=vendor)
    if placed_since is not None:
        orders = orders.filter(created_at__gte=placed_since)
    if placed_before is not None:
        orders = orders.filter(created_at__lt=placed_before)
    search = search.strip()
    if search:
        orders = orders.filter(
            Q(number__icontains=search)
            | Q(customer__full_name__icontains=search)
            | Q(customer__email__icontains=search)
        )
    return orders


def order_search_for_vendor(
    *,
    vendor: Vendor,
    statuses: list[str] | None = None,
    placed_since: datetime | None = None,
    placed_before: datetime | None = None,
    search: str = "",
) -> QuerySet[Order]:
    """The shop's orders as its order desk lists them: new ones first, then the latest."""
    orders = _vendor_orders_matching(
        vendor=vendor, placed_since=placed_since, placed_before=placed_before, search=search
    )
    if statuses is not None:
        orders = orders.filter(status__in=statuses)
    waiting_first = Case(When(status=Order.Status.PENDING, then=Value(0)), default=Value(1))
    return (
        orders.select_related("customer")
        .annotate(units=Sum("items__quantity"))
        .order_by(waiting_first, "-created_at", "-id")
    )


def order_status_counts_for_vendor(
    *, vendor: Vendor, placed_since: datetime | None = None, placed_before: datetime | None = None, search: str = ""
) -> dict[str, int]:
    """How many of the shop's matching orders are in each status (every status present, zeros included)."""
    orders = _vendor_orders_matching(
        vendor=vendor, placed_since=placed_since, placed_before=placed_before, search=search
    )
    counts = dict.fromkeys(Order.Status.values, 0)
    counts.update(orders.order_by().values_list("status").annotate(count=Count("id")))
    return counts


def order_details_for_vendor(*, vendor: Vendor) -> QuerySet[Order]:
    """The shop's orders with what an order's page shows joined up front."""
    return (
        Order.objects.filter(vendor=vendor)
        .select_related("vendor", "customer")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id")))
    )


def order_next_moves(*, order: Order, user) -> list[str]:
    """The statuses this user may move the order to now; refunds are the platform team's."""
    return [status for status in order.next_statuses if status != Order.Status.REFUNDED or user.is_staff]


def order_latest_move(*, order: Order) -> OrderStatusHistory | None:
    return order.status_history.select_related("changed_by").order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an order's story: who did what, and when."""

    at: datetime
    actor: User | None
    action: str
    detail: str = ""
    status: str = ""
    is_internal: bool | None = None

    @property
    def actor_name(self) -> str:
        return self.actor.get_full_name() if self.actor is not None else "Zora"

    @property
    def is_note(self) -> bool:
        return self.is_internal is not None


_MOVE_ACTIONS = {
    Order.Status.CONFIRMED: "accepted the order",
    Order.Status.PREPARING: "started preparing it",
    Order.Status.READY: "marked it ready",
    Order.Status.OUT_FOR_DELIVERY: "sent it out for delivery",
    Order.Status.DELIVERED: "marked it delivered",
    Order.Status.REFUNDED: "refunded it",
}


def _move_action(order: Order, move: OrderStatusHistory) -> str:
    if not move.from_status:
        return "placed the order"
    if move.to_status != Order.Status.CANCELLED:
        return _MOVE_ACTIONS[move.to_status]
    by_customer = move.changed_by_id == order.customer_id
    if move.from_status == Order.Status.PENDING and not by_customer:
        return "rejected the order"
    return "cancelled the order"


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """Status moves and notes in the order they happened, internal notes included: for the shop's team."""
    moves = [
        TimelineEntry(
            at=move.created_at,
            actor=move.changed_by,
            action=_move_action(order, move),
            detail=move.note,
            status=move.to_status,
        )
        for move in order.status_history.select_related("changed_by").order_by("created_at", "id")
    ]
    notes = [
        TimelineEntry(
            at=note.created_at,
            actor=note.author,
            action="added an internal note" if note.is_internal else "wrote to the customer",
            detail=note.body,
            is_internal=note.is_internal,
        )
        for note in order.order_notes.select_related("author").order_by("created_at", "id")
    ]
    return sorted(moves + notes, key=lambda entry: entry.at)


# The platform team's view across every shop -----------------------------------------------------


def order_search_for_admin(
    *,
    status: str | None = None,
    vendor_id: int | None = None,
    placed_since: datetime | None = None,
    placed_before: datetime | None = None,
    customer: str = "",
    late: bool = False,
    now: datetime | None = None,
) -> QuerySet[Order]:
    """Every shop's orders, newest first. Late means still pending past its acceptance deadline
    (the sweep has not rejected it yet, or is behind)."""
    orders = _filter_status(Order.objects.all(), status or None)
    if vendor_id is not None:
        orders = orders.filter(vendor_id=vendor_id)
    if placed_since is not None:
        orders = orders.filter(created_at__gte=placed_since)
    if placed_before is not None:
        orders = orders.filter(created_at__lt=placed_before)
    customer = customer.strip()
    if customer:
        orders = orders.filter(
            Q(number__icontains=customer)
            | Q(customer__full_name__icontains=customer)
            | Q(customer__email__icontains=customer)
        )
    if late:
        orders = orders.filter(status=Order.Status.PENDING, accept_by__lte=now or timezone.now())
    return orders.select_related("vendor", "customer").order_by("-created_at", "-id")


def order_details_for_admin() -> QuerySet[Order]:
    """Any order with what its dashboard page shows joined up front."""
    return Order.objects.select_related("vendor", "customer").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.select_related("product").order_by("id"))
    )


@dataclass(frozen=True)
class VendorOrderHealth:
    """How a shop has served its customers over a window: what the platform team watches."""

    since: datetime
    orders: int
    cancelled: int
    auto_rejected: int
    average_acceptance: timedelta | None

    @property
    def average_acceptance_minutes(self) -> Decimal | None:
        if self.average_acceptance is None:
            return None
        return (Decimal(self.average_acceptance.total_seconds()) / 60).quantize(Decimal("0.1"))

    @property
    def cancellation_rate(self) -> Decimal | None:
        """Cancelled or rejected on the shop's side (not at the customer's request) out of every order
        placed, as a percentage."""
        if not self.orders:
            return None
        return (Decimal(self.cancelled) * 100 / Decimal(self.orders)).quantize(Decimal("0.1"))


def vendor_order_health(*, vendor: Vendor, days: int = 30, now: datetime | None = None) -> VendorOrderHealth:
    since = (now or timezone.now()) - timedelta(days=days)
    placed = Order.objects.filter(vendor=vendor, created_at__gte=since)
    figures = placed.aggregate(
        orders=Count("id"),
        cancelled=Count(
            "id",
            filter=Q(status=Order.Status.CANCELLED) & ~Q(cancel_reason_code=Order.RejectReason.CUSTOMER_REQUEST),
        ),
        auto_rejected=Count("id", filter=Q(cancel_reason_code=Order.RejectReason.NOT_ACCEPTED_IN_TIME)),
        average_acceptance=Avg(
            ExpressionWrapper(F("accepted_at") - F("created_at"), output_field=DurationField()),
            filter=Q(accepted_at__isnull=False),
        ),
    )
    return VendorOrderHealth(since=since, **figures)
