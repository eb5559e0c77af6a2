"""Every write to carts and orders: the cart, checkout, and the order's life."""

import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminActivityLog, Notification, Profile, User
from accounts.services import (
    activity_log_record,
    notification_create,
    notification_create_for_vendor_staff,
    validate_choice,
    validate_coordinate,
    validate_optional_text,
    validate_required_text,
)
from catalog.models import Product, StockMovement
from catalog.services import inventory_alerts_sync, money, stock_movement_record, whole_number
from orders import selectors
from orders.models import CartItem, Checkout, Order, OrderItem, OrderNote, OrderStatusHistory
from vendors.access import user_manages_vendor
from vendors.geo import delivery_distance_km
from vendors.models import Vendor
from vendors.selectors import vendor_open_state
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.versions import ensure_unchanged

# No 0/O, 1/I/L or U/V look-alikes: numbers are read out over the phone.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
ORDER_NUMBER_LENGTH = 8
ORDER_NUMBER_ATTEMPTS = 10
CUSTOMER_CANCELLABLE = {Order.Status.PENDING, Order.Status.CONFIRMED}
STATUS_NEWS = {
    Order.Status.PENDING: "has been placed",
    Order.Status.CONFIRMED: "has been confirmed",
    Order.Status.PREPARING: "is being prepared",
    Order.Status.READY: "is ready",
    Order.Status.OUT_FOR_DELIVERY: "is out for delivery",
    Order.Status.DELIVERED: "has been delivered",
    Order.Status.CANCELLED: "has been cancelled",
    Order.Status.REFUNDED: "has been refunded",
}
MAX_PREP_MINUTES = 240
REASON_TEXT_MAX_LENGTH = 1000
NOTE_MAX_LENGTH = 2000
# The reasons a person may give; the deadline's own reason is the system's alone.
SHOP_REJECT_REASONS = [
    (code, label) for code, label in Order.RejectReason.choices if code != Order.RejectReason.NOT_ACCEPTED_IN_TIME
]


def _portal_order_url(order: Order) -> str:
    return reverse("vendor:order-detail", kwargs={"pk": order.pk})


def _insufficient_stock(product: Product, requested: int) -> Conflict:
    return Conflict(
        f"Only {product.stock} of {product.name} left.",
        code="insufficient_stock",
        field="quantity",
        product_id=product.pk,
        available=product.stock,
        requested=requested,
    )


def _ensure_available(product: Product, *, shop_must_be_open: bool) -> None:
    """A cart may hold items of a shop that is closed for the night; checkout may not."""
    if not product.is_active:
        raise RuleViolation(
            f"{product.name} is no longer sold.", code="product_unavailable", field="product", product_id=product.pk
        )
    vendor = product.vendor
    if not vendor.is_active:
        raise RuleViolation(
            f"{vendor.name} is not taking orders right now.",
            code="vendor_unavailable",
            field="product",
            vendor_id=vendor.pk,
            product_id=product.pk,
        )
    if shop_must_be_open:
        state = vendor_open_state(vendor=vendor)
        if not state.is_open:
            raise RuleViolation(
                f"{vendor.name} is not taking orders right now: {state.reason[:1].lower()}{state.reason[1:]}.",
                code="vendor_unavailable",
                field="product",
                vendor_id=vendor.pk,
                product_id=product.pk,
                reason=state.reason,
                opens_next=state.opens_next.isoformat() if state.opens_next else None,
            )


def _orderable_product(product: Product, *, shopper=None) -> Product:
    """The product as it is now in the database, refused if it cannot be bought.

    Given the `shopper` who is reaching for it, a product they cannot see in the catalogue (unlisted,
    or of a suspended shop) is refused as if it did not exist: its name and its shop's are not theirs
    to learn. A line already in their cart was seen, so its refusals may name it.
    """
    current = Product.objects.select_related("vendor").filter(pk=product.pk).first()
    listed = current is not None and current.is_active and current.vendor.is_active
    if current is None or not (shopper is None or listed or user_manages_vendor(user=shopper, vendor=current.vendor)):
        raise NotFound("No such product.", field="product")
    _ensure_available(current, shop_must_be_open=False)
    return current


def _own_cart_item(user, item_id) -> CartItem:
    item = CartItem.objects.select_for_update().select_related("product").filter(pk=item_id, user=user).first()
    if item is None:
        raise NotFound("No such item in your cart.", field="item_id")
    return item


@transaction.atomic
def cart_add_item(*, user, product, quantity=1) -> CartItem:
    """Adds to the existing line for that product, so every device sees one line."""
    quantity = whole_number(quantity, field="quantity", minimum=1)
    product = _orderable_product(product, shopper=user)
    try:
        with transaction.atomic():
            return _cart_line_add(user, product, quantity)
    except IntegrityError:
        # Another device created the line between our read and our insert; add to it.
        return _cart_line_add(user, product, quantity)


def _cart_line_add(user, product: Product, quantity: int) -> CartItem:
    item = CartItem.objects.select_for_update().filter(user=user, product=product).first()
    if item is None:
        item = CartItem(user=user, product=product, quantity=0)
    item.quantity += quantity
    if item.quantity > product.stock:
        raise _insufficient_stock(product, item.quantity)
    item.save()
    return item


@transaction.atomic
def cart_set_quantity(*, user, item_id, quantity, seen_version=None) -> CartItem:
    """Replaces the line's quantity; `seen_version` refuses it if another device changed the line since."""
    quantity = whole_number(quantity, field="quantity", minimum=1)
    item = _own_cart_item(user, item_id)
    ensure_unchanged(entity=item, seen_version=seen_version)
    product = _orderable_product(item.product)
    if quantity > product.stock:
        raise _insufficient_stock(product, quantity)
    item.quantity = quantity
    item.save()
    return item


@transaction.atomic
def cart_remove_item(*, user, item_id) -> None:
    _own_cart_item(user, item_id).delete()


@transaction.atomic
def cart_clear(*, user) -> int:
    items = list(CartItem.objects.select_for_update().filter(user=user))
    for item in items:
        item.delete()
    return len(items)


def _delivery_destination(customer, address, lat, lng) -> tuple[str, Decimal | None, Decimal | None]:
    """The address given, else the customer's saved default with its coordinates."""
    lat = validate_coordinate(lat, field="delivery_lat", limit=90)
    lng = validate_coordinate(lng, field="delivery_lng", limit=180)
    address = (address or "").strip()
    if address:
        return address, lat, lng
    profile = Profile.objects.filter(user=customer).first()
    if profile is None or not profile.default_address.strip():
        raise InvalidInput(
            "Give a delivery address or save a default one in your profile.",
            code="required",
            field="delivery_address",
        )
    return (
        profile.default_address.strip(),
        profile.default_lat if lat is None else lat,
        profile.default_lng if lng is None else lng,
    )


def _ensure_delivers_to(vendor: Vendor, lat, lng) -> None:
    """The shop's delivery radius, where both the shop and the address have coordinates; an address
    without them (typed, not picked on the map) cannot be measured and is taken as given."""
    distance = delivery_distance_km(vendor, lat, lng)
    if distance is not None and distance > float(vendor.delivery_radius_km):
        raise RuleViolation(
            f"{vendor.name} delivers within {vendor.delivery_radius_km} km; this address is {distance:.1f} km away.",
            code="outside_delivery_radius",
            field="delivery_address",
        )


def _random_order_number() -> str:
    return "ZR-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(ORDER_NUMBER_LENGTH))


def _order_create_numbered(**fields) -> Order:
    """Insert the order under a fresh random number, drawing again on the rare clash."""
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        number = _random_order_number()
        try:
            with transaction.atomic():
                order = Order(number=number, **fields)
                order.save()
                return order
        except IntegrityError:
            if not Order.objects.filter(number=number).exists():
                raise
    raise RuntimeError(f"No free order number after {ORDER_NUMBER_ATTEMPTS} draws.")


def _checkout_claim(customer, idempotency_key) -> tuple[Checkout, list[Order] | None]:
    """Record this attempt, or find the earlier one that used the same key.

    On PostgreSQL a second insert of the same (customer, key) waits for the
    first transaction; if that one commits, the insert fails and we answer
    with its orders; if it rolled back, this attempt simply proceeds.
    """
    if idempotency_key is not None:
        earlier = Checkout.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier, list(earlier.orders.order_by("id"))
    try:
        with transaction.atomic():
            return Checkout.objects.create(customer=customer, idempotency_key=idempotency_key), None
    except IntegrityError:
        earlier = Checkout.objects.get(customer=customer, idempotency_key=idempotency_key)
        return earlier, list(earlier.orders.order_by("id"))


def _locked_cart_products(lines: list[CartItem]) -> dict[int, Product]:
    """Lock every product in the cart, always in id order, so concurrent checkouts
    queue behind each other instead of deadlocking."""
    products = (
        Product.objects.select_for_update(of=("self",))
        .select_related("vendor")
        .filter(pk__in={line.product_id for line in lines})
        .order_by("pk")
    )
    return {product.pk: product for product in products}


@transaction.atomic
def order_checkout(
    *, customer, idempotency_key=None, delivery_address=None, delivery_lat=None, delivery_lng=None, notes=""
) -> list[Order]:
    """Turn the cart into one order per vendor, all or nothing."""
    if idempotency_key is not None and not (isinstance(idempotency_key, str) and 0 < len(idempotency_key) <= 255):
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters.", field="idempotency_key")
    checkout, earlier_orders = _checkout_claim(customer, idempotency_key)
    if earlier_orders is not None:
        return earlier_orders

    lines = list(CartItem.objects.select_for_update().filter(user=customer).order_by("id"))
    if not lines:
        raise RuleViolation("Your cart is empty.", code="cart_empty", field="cart")
    address, lat, lng = _delivery_destination(customer, delivery_address, delivery_lat, delivery_lng)
    products = _locked_cart_products(lines)
    lines_by_vendor: dict[int, list[CartItem]] = defaultdict(list)
    for line in lines:
        product = products[line.product_id]
        _ensure_available(product, shop_must_be_open=True)
        _ensure_delivers_to(product.vendor, lat, lng)
        if line.quantity > product.stock:
            raise _insufficient_stock(product, line.quantity)
        lines_by_vendor[product.vendor_id].append(line)

    fee = selectors.delivery_fee_per_order()
    accept_by = selectors.acceptance_deadline(placed_at=timezone.now())
    orders = []
    for vendor_id in sorted(lines_by_vendor):
        vendor_lines = lines_by_vendor[vendor_id]
        subtotal = sum(
            (money(products[line.product_id].price * line.quantity) for line in vendor_lines), Decimal("0.00")
        )
        order = _order_create_numbered(
            checkout=checkout,
            customer=customer,
            vendor=products[vendor_lines[0].product_id].vendor,
            subtotal=subtotal,
            delivery_fee=fee,
            total=subtotal + fee,
            delivery_address=address,
            delivery_lat=lat,
            delivery_lng=lng,
            notes=(notes or "").strip(),
            accept_by=accept_by,
        )
        OrderStatusHistory(order=order, to_status=Order.Status.PENDING, changed_by=customer).save()
        for line in vendor_lines:
            _order_line_take(order, products[line.product_id], line.quantity)
        orders.append(order)

    for line in lines:
        line.delete()
    for order in orders:
        notification_create_for_vendor_staff(
            vendor=order.vendor,
            action_url=_portal_order_url(order),
            type=Notification.Type.ORDER,
            title=f"New order {order.number}",
            body=f"{order.items.count()} item(s), total £{order.total}.",
            data={"order_id": order.pk, "number": order.number},
        )
    return orders


def _order_line_take(order: Order, product: Product, quantity: int) -> None:
    """Snapshot the line as sold and take it off the shelf."""
    OrderItem(
        order=order,
        product=product,
        product_name=product.name,
        unit_price=product.price,
        quantity=quantity,
        line_total=money(product.price * quantity),
    ).save()
    product.stock -= quantity
    product.save(update_fields=["stock", "updated_at"])
    stock_movement_record(
        product=product,
        actor=order.customer,
        delta=-quantity,
        stock_before=product.stock + quantity,
        reason=StockMovement.Reason.SALE,
        note=f"Order {order.number}",
    )
    inventory_alerts_sync(product=product)


def _order_restock(order: Order, *, actor, reason: str = StockMovement.Reason.CANCELLATION) -> None:
    """Put a cancelled (or refunded) order's items back on the shelf (products locked in id order)."""
    quantities = {item.product_id: item.quantity for item in order.items.exclude(product=None)}
    for product in Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk"):
        product.stock += quantities[product.pk]
        product.save(update_fields=["stock", "updated_at"])
        stock_movement_record(
            product=product,
            actor=actor,
            delta=quantities[product.pk],
            stock_before=product.stock - quantities[product.pk],
            reason=reason,
            note=f"Order {order.number}",
        )
        inventory_alerts_sync(product=product)


def _order_move(order: Order, to_status: str, *, actor, note: str, reason_code: str = "") -> None:
    """Apply an already-authorised, legal move and record it."""
    from_status = order.status
    order.status = to_status
    if to_status == Order.Status.CONFIRMED and order.accepted_at is None:
        order.accepted_at = timezone.now()
    if to_status == Order.Status.CANCELLED:
        order.cancel_reason = note
        order.cancel_reason_code = reason_code
        _order_restock(order, actor=actor)
    order.save()
    OrderStatusHistory(order=order, from_status=from_status, to_status=to_status, changed_by=actor, note=note).save()


def _customer_tell_move(order: Order, note: str) -> None:
    notification_create(
        user=order.customer,
        type=Notification.Type.ORDER,
        title=f"Your order {order.number} {STATUS_NEWS[order.status]}",
        body=note,
        data={"order_id": order.pk, "number": order.number, "status": order.status},
    )


def _locked_order(order: Order) -> Order:
    """Lock the row so two devices cannot both move the same order."""
    return Order.objects.select_for_update(of=("self",)).select_related("vendor").get(pk=order.pk)


def _locked_for_move(*, actor, order: Order, to_status: str, expected_status, seen_version=None) -> Order:
    """The order locked, once this actor may make this move from the status (or version) they saw."""
    order = _locked_order(order)
    if not user_manages_vendor(user=actor, vendor=order.vendor):
        raise NotFound("No such order.", field="order")
    ensure_unchanged(entity=order, seen_version=seen_version)
    validate_choice(to_status, Order.Status.choices, field="to_status")
    if expected_status is not None and expected_status != order.status:
        raise Conflict(
            f"The order is {order.status} now, not {expected_status}; reload and try again.",
            code="stale_status",
            field="expected_status",
            current_status=order.status,
        )
    if not order.can_transition_to(to_status):
        raise Conflict(
            f"An order cannot go from {order.status} to {to_status}.",
            code="illegal_transition",
            field="to_status",
            from_status=order.status,
            to_status=to_status,
        )
    if to_status == Order.Status.REFUNDED and not actor.is_staff:
        raise RuleViolation("Only the platform team can refund an order.", code="refund_admin_only", field="to_status")
    return order


def _staff_move(
    order: Order, to_status: str, *, actor, note: str, reason_code: str = "", request_meta=None, logged=None
) -> Order:
    """Make a move checked by `_locked_for_move`: record it, tell the customer, log an admin's hand."""
    from_status = order.status
    _order_move(order, to_status, actor=actor, note=note, reason_code=reason_code)
    _customer_tell_move(order, note)
    if actor.is_staff:
        refund = to_status == Order.Status.REFUNDED
        activity_log_record(
            admin=actor,
            action="order_refunded" if refund else "order_status_changed",
            category=AdminActivityLog.Category.REFUND if refund else AdminActivityLog.Category.ORDER,
            entity=order,
            details={"from": from_status, "to": to_status, "note": note, **(logged or {})},
            request_meta=request_meta,
        )
    return order


@transaction.atomic
def order_transition(
    *, actor, order, to_status, expected_status=None, note="", seen_version=None, request_meta=None
) -> Order:
    """The vendor's (or an admin's) move along Order.TRANSITIONS."""
    order = _locked_for_move(
        actor=actor, order=order, to_status=to_status, expected_status=expected_status, seen_version=seen_version
    )
    return _staff_move(order, to_status, actor=actor, note=(note or "").strip(), request_meta=request_meta)


@transaction.atomic
def order_refund(
    *, actor, order, reason, restock=False, expected_status=None, seen_version=None, request_meta=None
) -> Order:
    """The platform team giving a delivered order's money back. The items go back on the shelf only
    when asked: a returned sealed jar can be sold again, a spoilt meal cannot."""
    reason = validate_required_text(reason, field="reason", max_length=REASON_TEXT_MAX_LENGTH)
    order = _locked_for_move(
        actor=actor,
        order=order,
        to_status=Order.Status.REFUNDED,
        expected_status=expected_status,
        seen_version=seen_version,
    )
    restock = bool(restock)
    if restock:
        _order_restock(order, actor=actor, reason=StockMovement.Reason.REFUND)
    note = f"{reason} (items put back in stock)" if restock else reason
    return _staff_move(
        order, Order.Status.REFUNDED, actor=actor, note=note, request_meta=request_meta, logged={"restock": restock}
    )


def _busy_extra_minutes(vendor: Vendor) -> int:
    """A busy shop quotes longer, by the margin it set for itself (zero unless busy)."""
    return getattr(vendor, "busy_extra_minutes", 0) or 0


def _clock(at: datetime) -> str:
    return timezone.localtime(at).strftime("%H:%M")


@transaction.atomic
def order_accept(*, actor, order, prep_minutes, expected_status=None, request_meta=None) -> Order:
    """The shop takes a new order and says when it will be ready, which the customer sees."""
    prep_minutes = whole_number(prep_minutes, field="prep_minutes", minimum=1, maximum=MAX_PREP_MINUTES)
    order = _locked_for_move(
        actor=actor, order=order, to_status=Order.Status.CONFIRMED, expected_status=expected_status
    )
    minutes = prep_minutes + _busy_extra_minutes(order.vendor)
    order.prep_minutes = minutes
    order.accepted_at = timezone.now()
    order.estimated_ready_at = order.accepted_at + timedelta(minutes=minutes)
    note = f"Ready in about {minutes} minutes (around {_clock(order.estimated_ready_at)})."
    return _staff_move(order, Order.Status.CONFIRMED, actor=actor, note=note, request_meta=request_meta)


def _reason_sentence(reason_code: str, reason_text: str) -> str:
    """What the customer reads: the reason's label, with the shop's own words if any."""
    if reason_code == Order.RejectReason.OTHER:
        return reason_text
    label = Order.RejectReason(reason_code).label
    return f"{label}: {reason_text}" if reason_text else label


@transaction.atomic
def order_reject(
    *, actor, order, reason_code, reason_text="", expected_status=None, seen_version=None, request_meta=None
) -> Order:
    """The shop (or the platform team) turning an order down: rejecting a new one, or cancelling one
    accepted, with a reason."""
    validate_choice(reason_code, SHOP_REJECT_REASONS, field="reason_code")
    reason_text = validate_optional_text(reason_text, field="reason_text", max_length=REASON_TEXT_MAX_LENGTH)
    if reason_code == Order.RejectReason.OTHER and not reason_text:
        raise InvalidInput(
            "Say why in a few words when the reason is not in the list.", code="required", field="reason_text"
        )
    order = _locked_for_move(
        actor=actor,
        order=order,
        to_status=Order.Status.CANCELLED,
        expected_status=expected_status,
        seen_version=seen_version,
    )
    note = _reason_sentence(reason_code, reason_text)
    return _staff_move(
        order, Order.Status.CANCELLED, actor=actor, note=note, reason_code=reason_code, request_meta=request_meta
    )


@transaction.atomic
def order_cancel(*, actor, order, reason="") -> Order:
    """The customer changing their mind, allowed until the shop starts preparing."""
    order = _locked_order(order)
    if order.customer_id != actor.pk:
        raise NotFound("No such order.", field="order")
    if order.status not in CUSTOMER_CANCELLABLE:
        raise RuleViolation(
            f"An order that is {order.status} can no longer be cancelled.",
            code="not_cancellable",
            field="order",
            status=order.status,
        )
    reason = (reason or "").strip()
    _order_move(
        order, Order.Status.CANCELLED, actor=actor, note=reason, reason_code=Order.RejectReason.CUSTOMER_REQUEST
    )
    notification_create_for_vendor_staff(
        vendor=order.vendor,
        action_url=_portal_order_url(order),
        type=Notification.Type.ORDER,
        title=f"Order {order.number} was cancelled by the customer",
        body=reason,
        data={"order_id": order.pk, "number": order.number, "status": order.status},
    )
    return order


@transaction.atomic
def order_note_add(*, actor, order, body, is_internal=True) -> OrderNote:
    """A remark by the shop's team or the platform: internal ones stay with them, the others the customer sees."""
    order = _locked_order(order)
    if not user_manages_vendor(user=actor, vendor=order.vendor):
        raise NotFound("No such order.", field="order")
    body = validate_required_text(body, field="body", max_length=NOTE_MAX_LENGTH)
    note = OrderNote(order=order, author=actor, body=body, is_internal=bool(is_internal))
    note.save()
    if not note.is_internal:
        notification_create(
            user=order.customer,
            type=Notification.Type.ORDER,
            title=f"A note from {order.vendor.name} about your order {order.number}",
            body=body,
            data={"order_id": order.pk, "number": order.number, "note_id": note.pk},
        )
    return note


# Acceptance deadline: run by the sweeps in orders/timed.py, once per order across processes.


def _locked_if_still_due(due: QuerySet[Order], order: Order) -> Order | None:
    """The order locked, if it is still due and no other process holds it; else None."""
    return due.select_for_update(skip_locked=True, of=("self",)).select_related("vendor").filter(pk=order.pk).first()


@transaction.atomic
def order_acceptance_remind(*, order, now=None) -> bool:
    """Nudge the shop's team once about an order still waiting for them."""
    now = now or timezone.now()
    order = _locked_if_still_due(selectors.orders_due_acceptance_reminder(now=now), order)
    if order is None:
        return False
    order.reminded_at = now
    order.save(update_fields=["reminded_at", "updated_at"])
    notification_create_for_vendor_staff(
        vendor=order.vendor,
        action_url=_portal_order_url(order),
        type=Notification.Type.ORDER,
        title=f"Order {order.number} is waiting: accept it by {_clock(order.accept_by)}",
        body="Accept or reject it now; at the deadline it is rejected automatically and the customer is told.",
        data={"order_id": order.pk, "number": order.number, "accept_by": order.accept_by.isoformat()},
    )
    return True


@transaction.atomic
def order_acceptance_escalate(*, order, now=None) -> bool:
    """Tell the platform team once that a shop is letting an order wait, while there is still time to call it."""
    now = now or timezone.now()
    order = _locked_if_still_due(selectors.orders_due_acceptance_escalation(now=now), order)
    if order is None:
        return False
    order.escalated_at = now
    order.save(update_fields=["escalated_at", "updated_at"])
    for admin in User.objects.filter(is_staff=True, is_active=True).order_by("id"):
        notification_create(
            user=admin,
            type=Notification.Type.ORDER,
            title=f"{order.vendor.name} has not accepted order {order.number}",
            action_url=reverse("dashboard:order", kwargs={"pk": order.pk}),
            body=f"It is rejected automatically at {_clock(order.accept_by)} unless the shop accepts it.",
            data={"order_id": order.pk, "number": order.number, "vendor_id": order.vendor_id},
        )
    return True


@transaction.atomic
def order_acceptance_expire(*, order, now=None) -> bool:
    """At the deadline the order is rejected for the shop: restocked, the customer told, the team too."""
    now = now or timezone.now()
    order = _locked_if_still_due(selectors.orders_past_acceptance_deadline(now=now), order)
    if order is None:
        return False
    reason = Order.RejectReason.NOT_ACCEPTED_IN_TIME
    _order_move(order, Order.Status.CANCELLED, actor=None, note=reason.label, reason_code=reason)
    _customer_tell_move(order, reason.label)
    notification_create_for_vendor_staff(
        vendor=order.vendor,
        action_url=_portal_order_url(order),
        type=Notification.Type.ORDER,
        title=f"Order {order.number} was rejected automatically",
        body=f"Nobody accepted it by {_clock(order.accept_by)}. The customer has been told and the items are back in stock.",
        data={"order_id": order.pk, "number": order.number, "status": order.status},
    )
    return True
