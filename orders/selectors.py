"""Reads of carts and orders, with the joins done up front (no N+1)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from accounts.services import validate_choice
from catalog.services import money
from orders.models import CartItem, Order, OrderItem, OrderStatusHistory
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
