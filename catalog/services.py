"""Every write to the catalog: categories, products, stock, inventory alerts,
reviews and wishlists."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AdminActivityLog, Notification
from accounts.services import (
    activity_log_record,
    notification_create_for_vendor_staff,
    require_platform_admin,
    validate_required_text,
)
from catalog.models import Category, InventoryAlert, Product, Review, WishlistItem
from orders.models import Order
from vendors.access import user_manages_vendor
from vendors.services import vendor_rating_refresh
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation

CENT = Decimal("0.01")
MAX_PRICE = Decimal("99999999.99")
PRODUCT_NAME_MAX_LENGTH = Product._meta.get_field("name").max_length
MAX_STOCK = 2**31 - 1  # the column is a 32-bit integer
EDITABLE_PRODUCT_FIELDS = {
    "name",
    "description",
    "price",
    "stock",
    "low_stock_threshold",
    "category",
    "images",
    "is_active",
}
# Changing either of these can raise, escalate or resolve an inventory alert.
STOCK_FIELDS = {"stock", "low_stock_threshold"}
SEVERITY_RANK = {
    InventoryAlert.Severity.WARNING: 1,
    InventoryAlert.Severity.CRITICAL: 2,
    InventoryAlert.Severity.EMERGENCY: 3,
}


def money(value) -> Decimal:
    """Round to whole pence, the way a till does (half up)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def whole_number(value, *, field: str, minimum: int, maximum: int | None = None) -> int:
    """An int within bounds; booleans and floats are refused rather than coerced."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number.", code="not_an_integer", field=field)
    if value < minimum:
        raise InvalidInput(f"{field} must be at least {minimum}.", code="min_value", field=field)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{field} must be at most {maximum}.", code="max_value", field=field)
    return value


def _price(value) -> Decimal:
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("price must be a number.", field="price") from None
    if not price.is_finite():
        raise InvalidInput("price must be a number.", field="price")
    if price < 0:
        raise InvalidInput("price must not be negative.", code="min_value", field="price")
    if price.as_tuple().exponent < -2:
        raise InvalidInput("price has at most 2 decimal places.", code="max_decimal_places", field="price")
    if price > MAX_PRICE:
        raise InvalidInput(f"price must be at most {MAX_PRICE}.", code="max_value", field="price")
    return price.quantize(CENT)


def _images(value) -> list:
    if not isinstance(value, list) or not all(isinstance(url, str) and url for url in value):
        raise InvalidInput("images must be a list of image URLs.", field="images")
    return value


def _category(value) -> Category | None:
    if value is None or isinstance(value, Category):
        return value
    raise InvalidInput("category must be a category or empty.", field="category")


def _require_manager(actor, vendor) -> None:
    if not user_manages_vendor(user=actor, vendor=vendor):
        raise NotFound("No such product.", field="product")


def _log_admin_product_change(actor, action: str, product: Product, details: dict) -> None:
    """Admins editing a shop's catalogue leave a trace; the shop's own team does not need one."""
    if actor.is_staff:
        activity_log_record(
            admin=actor, action=action, category=AdminActivityLog.Category.PRODUCT, entity=product, details=details
        )


def _validated_product_fields(fields: dict) -> dict:
    validators = {
        "name": lambda value: validate_required_text(value, field="name", max_length=PRODUCT_NAME_MAX_LENGTH),
        "description": lambda value: value or "",
        "price": _price,
        "stock": lambda value: whole_number(value, field="stock", minimum=0, maximum=MAX_STOCK),
        "low_stock_threshold": lambda value: whole_number(value, field="low_stock_threshold", minimum=0),
        "category": _category,
        "images": _images,
        "is_active": bool,
    }
    return {name: validators[name](value) for name, value in fields.items()}


@transaction.atomic
def category_create(*, actor, name, description="") -> Category:
    require_platform_admin(actor)
    name = validate_required_text(name, field="name", max_length=Category._meta.get_field("name").max_length)
    slug = slugify(name)
    if not slug:
        raise InvalidInput("name must contain letters or digits.", code="blank", field="name")
    if Category.objects.filter(slug=slug).exists() or Category.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A category named {name!r} already exists.", code="duplicate", field="name")
    category = Category(name=name, slug=slug, description=description)
    category.save()
    activity_log_record(
        admin=actor, action="category_created", category=AdminActivityLog.Category.PRODUCT, entity=category
    )
    return category


@transaction.atomic
def product_create(
    *,
    actor,
    vendor,
    name,
    price,
    stock=0,
    category=None,
    description="",
    low_stock_threshold=5,
    images=None,
    is_active=True,
) -> Product:
    _require_manager(actor, vendor)
    fields = _validated_product_fields(
        {
            "name": name,
            "price": price,
            "stock": stock,
            "category": category,
            "description": description,
            "low_stock_threshold": low_stock_threshold,
            "images": [] if images is None else images,
            "is_active": is_active,
        }
    )
    product = Product(vendor=vendor, **fields)
    product.save()
    inventory_alerts_sync(product=product)
    _log_admin_product_change(actor, "product_created", product, {"name": product.name})
    return product


@transaction.atomic
def product_update(*, actor, product, **fields) -> Product:
    _require_manager(actor, product.vendor)
    unknown = set(fields) - EDITABLE_PRODUCT_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"{field} cannot be changed here.", code="unknown_field", field=field)
    changes = _validated_product_fields(fields)
    product = Product.objects.select_for_update().get(pk=product.pk)
    for name, value in changes.items():
        setattr(product, name, value)
    product.save()
    if STOCK_FIELDS & changes.keys():
        inventory_alerts_sync(product=product)
    _log_admin_product_change(actor, "product_updated", product, {name: str(value) for name, value in changes.items()})
    return product


@transaction.atomic
def product_adjust_stock(*, actor, product, delta=None, stock=None, reason="") -> Product:
    """Set stock absolutely (a stock-take) or by a delta (a delivery, a breakage)."""
    if (delta is None) == (stock is None):
        raise InvalidInput("Give exactly one of delta or stock.", code="exactly_one", field="delta")
    _require_manager(actor, product.vendor)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if stock is not None:
        new_stock = whole_number(stock, field="stock", minimum=0, maximum=MAX_STOCK)
    else:
        new_stock = product.stock + whole_number(
            delta, field="delta", minimum=-product.stock, maximum=MAX_STOCK - product.stock
        )
    previous = product.stock
    product.stock = new_stock
    product.save()
    inventory_alerts_sync(product=product)
    _log_admin_product_change(
        actor, "product_stock_adjusted", product, {"from": previous, "to": new_stock, "reason": reason}
    )
    return product


def _wanted_alerts(stock: int, threshold: int) -> dict[str, str]:
    """The open alerts a stock level calls for, by type → severity.

    The rule is a function of the current level only, so any sequence of
    changes ends in the same alerts as jumping straight to the final level:
    - stockout is open exactly while stock == 0 (emergency);
    - low_stock is open while stock <= threshold (a threshold of 0 turns it
      off): warning, critical at or below half the threshold, emergency at 0.
    So an empty shelf shows both, rising above 0 resolves the stockout, and
    rising above the threshold resolves both.
    """
    wanted = {}
    if stock == 0:
        wanted[InventoryAlert.Type.STOCKOUT] = InventoryAlert.Severity.EMERGENCY
    if threshold > 0 and stock <= threshold:
        if stock == 0:
            wanted[InventoryAlert.Type.LOW_STOCK] = InventoryAlert.Severity.EMERGENCY
        elif stock * 2 <= threshold:
            wanted[InventoryAlert.Type.LOW_STOCK] = InventoryAlert.Severity.CRITICAL
        else:
            wanted[InventoryAlert.Type.LOW_STOCK] = InventoryAlert.Severity.WARNING
    return wanted


def _alert_message(product: Product, alert_type: str) -> str:
    if alert_type == InventoryAlert.Type.STOCKOUT:
        return f"{product.name} is out of stock."
    return f"{product.name} is running low: {product.stock} left (threshold {product.low_stock_threshold})."


def _notify_alert(alert: InventoryAlert, product: Product) -> None:
    notification_create_for_vendor_staff(
        vendor=product.vendor,
        type=Notification.Type.STOCK,
        title=alert.message,
        data={"alert_id": alert.pk, "product_id": product.pk, "type": alert.type, "severity": alert.severity},
    )


def _alert_track_stock(alert: InventoryAlert, product: Product) -> bool:
    """Copy the current level onto the alert; True when anything changed."""
    message = _alert_message(product, alert.type)
    changed = (alert.stock_level, alert.threshold, alert.message) != (
        product.stock,
        product.low_stock_threshold,
        message,
    )
    alert.stock_level, alert.threshold, alert.message = product.stock, product.low_stock_threshold, message
    return changed


@transaction.atomic
def inventory_alerts_sync(*, product) -> None:
    """Bring the product's open alerts in line with its stock (see _wanted_alerts).

    One open alert per product and type: a severity change updates that row.
    Escalation puts an acknowledged alert back to active and tells the team
    again; de-escalation keeps the acknowledgement.
    """
    product = Product.objects.select_for_update().select_related("vendor").get(pk=product.pk)
    wanted = _wanted_alerts(product.stock, product.low_stock_threshold)
    open_alerts = {
        alert.type: alert
        for alert in InventoryAlert.objects.filter(product=product).exclude(status=InventoryAlert.Status.RESOLVED)
    }
    for alert_type in InventoryAlert.Type.values:
        alert, severity = open_alerts.get(alert_type), wanted.get(alert_type)
        if alert is None and severity is None:
            continue
        if alert is None:
            alert = InventoryAlert(product=product, vendor=product.vendor, type=alert_type, severity=severity)
            _alert_track_stock(alert, product)
            alert.save()
            _notify_alert(alert, product)
        elif severity is None:
            alert.status = InventoryAlert.Status.RESOLVED
            alert.resolved_at = timezone.now()
            _alert_track_stock(alert, product)
            alert.save()
        else:
            escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]
            alert.severity = severity
            if escalated:
                alert.status = InventoryAlert.Status.ACTIVE
                alert.acknowledged_by = None
                alert.acknowledged_at = None
            if _alert_track_stock(alert, product) or escalated:
                alert.save()
            if escalated:
                _notify_alert(alert, product)


@transaction.atomic
def inventory_alert_acknowledge(*, actor, alert) -> InventoryAlert:
    """Someone has seen it; acknowledging twice is harmless, a resolved alert is over."""
    alert = InventoryAlert.objects.select_for_update().select_related("vendor").get(pk=alert.pk)
    if not user_manages_vendor(user=actor, vendor=alert.vendor):
        raise NotFound("No such alert.", field="alert")
    if alert.status == InventoryAlert.Status.RESOLVED:
        raise Conflict("This alert is already resolved.", code="alert_resolved", field="alert")
    if alert.status == InventoryAlert.Status.ACTIVE:
        alert.status = InventoryAlert.Status.ACKNOWLEDGED
        alert.acknowledged_by = actor
        alert.acknowledged_at = timezone.now()
        alert.save()
        if actor.is_staff:
            activity_log_record(
                admin=actor,
                action="inventory_alert_acknowledged",
                category=AdminActivityLog.Category.PRODUCT,
                entity=alert,
            )
    return alert


@transaction.atomic
def product_rating_refresh(*, product) -> Product:
    """Recompute from the reviews themselves, so the aggregate can never drift."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    aggregate = Review.objects.filter(product=product).aggregate(average=Avg("rating"), count=Count("id"))
    product.rating_avg = money(aggregate["average"] or 0)
    product.rating_count = aggregate["count"]
    product.save(update_fields=["rating_avg", "rating_count", "updated_at"])
    return product


@transaction.atomic
def review_create(*, customer, order, rating, comment="", product=None) -> Review:
    """A review of a product in the order, or of the shop when product is None."""
    order = Order.objects.select_for_update().select_related("vendor").get(pk=order.pk)
    if order.customer_id != customer.pk:
        raise NotFound("No such order.", field="order")
    if order.status != Order.Status.DELIVERED:
        raise RuleViolation(
            "Only a delivered order can be reviewed.", code="order_not_delivered", field="order", status=order.status
        )
    rating = whole_number(rating, field="rating", minimum=1, maximum=5)
    if product is not None and not order.items.filter(product=product).exists():
        raise InvalidInput("That product is not part of this order.", code="not_in_order", field="product")
    # The order row lock above serialises reviews of one order, so this check cannot race.
    if Review.objects.filter(customer=customer, order=order, product=product).exists():
        subject = "product" if product else "shop"
        raise Conflict(
            f"You have already reviewed this {subject} for this order.",
            code="already_reviewed",
            field="product" if product else "order",
        )
    review = Review(customer=customer, order=order, vendor=order.vendor, product=product, rating=rating)
    review.comment = comment or ""
    review.save()
    if product is not None:
        product_rating_refresh(product=product)
    vendor_rating_refresh(vendor=order.vendor)
    return review


@transaction.atomic
def wishlist_add(*, user, product) -> WishlistItem:
    """Idempotent, so a double tap on the heart is harmless."""
    if not Product.objects.filter(pk=product.pk, is_active=True, vendor__is_active=True).exists():
        raise NotFound("No such product.", field="product")
    item, _ = WishlistItem.objects.get_or_create(user=user, product=product)
    return item


@transaction.atomic
def wishlist_remove(*, user, product) -> None:
    item = WishlistItem.objects.filter(user=user, product=product).first()
    if item is None:
        raise NotFound("That product is not on your wishlist.", field="product")
    item.delete()
