"""Every write to the catalog: categories, products, their images and stock,
inventory alerts, reviews and their replies, and wishlists."""

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Avg, Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AdminActivityLog, Notification
from accounts.services import (
    activity_log_record,
    notification_create_for_vendor_staff,
    require_platform_admin,
    validate_choice,
    validate_optional_text,
    validate_required_text,
)
from catalog import selectors
from catalog.models import (
    PRODUCT_IMAGE_FOLDER,
    Category,
    InventoryAlert,
    OutOfStockFor,
    Product,
    ProductImage,
    Review,
    StockMovement,
    WishlistItem,
)
from orders.models import Order
from vendors.access import user_manages_vendor
from vendors.services import vendor_rating_refresh
from zora import uploads
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.versions import ensure_unchanged

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
# What a person may give as the reason for changing stock by hand; the rest are the system's.
MANUAL_STOCK_REASONS = [
    (reason.value, reason.label)
    for reason in (
        StockMovement.Reason.RESTOCK,
        StockMovement.Reason.CORRECTION,
        StockMovement.Reason.DAMAGED,
        StockMovement.Reason.OTHER,
    )
]
STOCK_NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length
MAX_PRODUCT_IMAGES = 10
REPLY_MAX_LENGTH = 2000
MODERATION_REASON_MAX_LENGTH = 1000
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
    if product.stock:
        stock_movement_record(
            product=product,
            actor=actor,
            delta=product.stock,
            stock_before=0,
            reason=StockMovement.Reason.RESTOCK,
            note="Opening stock",
        )
    inventory_alerts_sync(product=product)
    _log_admin_product_change(actor, "product_created", product, {"name": product.name})
    return product


@transaction.atomic
def product_update(*, actor, product, seen_version=None, **fields) -> Product:
    """`seen_version` refuses the change if the product changed since (an edit, a sale, a stock change)."""
    _require_manager(actor, product.vendor)
    unknown = set(fields) - EDITABLE_PRODUCT_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"{field} cannot be changed here.", code="unknown_field", field=field)
    changes = _validated_product_fields(fields)
    logged = {name: str(value) for name, value in changes.items()}
    product = Product.objects.select_for_update().get(pk=product.pk)
    ensure_unchanged(entity=product, seen_version=seen_version)
    if changes.get("is_active") and product.moderation_reason:
        _refuse_reactivation_by_shop(actor, product)
        product.moderation_reason = ""
    new_stock = changes.pop("stock", product.stock)
    for name, value in changes.items():
        setattr(product, name, value)
    if "images" in changes:
        _images_in_step(product)
    if new_stock != product.stock:
        _stock_set(product, new_stock, actor=actor, reason=StockMovement.Reason.CORRECTION)
    else:
        product.save()
        if "low_stock_threshold" in changes:
            inventory_alerts_sync(product=product)
    _log_admin_product_change(actor, "product_updated", product, logged)
    return product


def _refuse_reactivation_by_shop(actor, product: Product) -> None:
    """The platform team's decision to take a product off sale is theirs to undo."""
    if not actor.is_staff:
        raise RuleViolation(
            f"The Zora team took {product.name} off sale: {product.moderation_reason} "
            "Contact the team to put it back on sale.",
            code="product_moderated",
            field="is_active",
        )


@transaction.atomic
def product_moderate(*, actor, product, active, reason="", seen_version=None, request_meta=None) -> Product:
    """The platform team taking a product off sale with a reason the shop's team is told, or putting it back.

    The reason stays on the product for the shop to see, and while it is there the shop cannot
    put the product back on sale itself.
    """
    require_platform_admin(actor)
    active = bool(active)
    if active:
        reason = validate_optional_text(reason, field="reason", max_length=MODERATION_REASON_MAX_LENGTH)
    else:
        reason = validate_required_text(reason, field="reason", max_length=MODERATION_REASON_MAX_LENGTH)
    product = Product.objects.select_for_update(of=("self",)).select_related("vendor").get(pk=product.pk)
    ensure_unchanged(entity=product, seen_version=seen_version)
    if active and product.is_active:
        raise Conflict(f"{product.name} is already on sale.", code="already_active", field="active")
    product.is_active = active
    product.moderation_reason = "" if active else reason
    product.save()
    if active:
        title, body = f"{product.name} is back on sale", reason or "The Zora team put it back on sale."
    else:
        title, body = f"The Zora team took {product.name} off sale", reason
    notification_create_for_vendor_staff(
        vendor=product.vendor,
        type=Notification.Type.SYSTEM,
        title=title,
        body=body,
        action_url=reverse("vendor:product-edit", kwargs={"pk": product.pk}),
        data={"product_id": product.pk, "is_active": active},
    )
    activity_log_record(
        admin=actor,
        action="product.reactivated" if active else "product.deactivated",
        category=AdminActivityLog.Category.PRODUCT,
        entity=product,
        details={"reason": reason, "vendor_id": product.vendor_id},
        request_meta=request_meta,
    )
    return product


@transaction.atomic
def stock_movement_record(*, product, actor, delta, stock_before, reason, note="") -> StockMovement:
    """The history line of a stock change made elsewhere (checkout's sale, a cancellation's restock)."""
    validate_choice(reason, StockMovement.Reason.choices, field="reason")
    movement = StockMovement(
        product=product,
        vendor_id=product.vendor_id,
        actor=actor,
        delta=delta,
        stock_before=stock_before,
        stock_after=stock_before + delta,
        reason=reason,
        note=(note or "").strip()[:STOCK_NOTE_MAX_LENGTH],
    )
    movement.save()
    return movement


def _stock_set(product: Product, new_stock: int, *, actor, reason: str, note: str = "", hold: bool = False) -> None:
    """Every stock change the catalog makes: the new level, its history line, the alerts.

    A change by anything but "out of stock until" itself ends a pending restore (`hold=False`):
    whoever set the stock by hand knows better than the remembered level.
    """
    stock_before = product.stock
    product.stock = new_stock
    if not hold:
        product.stock_to_restore = None
        product.out_of_stock_until = None
    product.save()
    if new_stock != stock_before:
        stock_movement_record(
            product=product,
            actor=actor,
            delta=new_stock - stock_before,
            stock_before=stock_before,
            reason=reason,
            note=note,
        )
    inventory_alerts_sync(product=product)


@transaction.atomic
def product_adjust_stock(
    *, actor, product, delta=None, stock=None, reason=StockMovement.Reason.OTHER, note="", seen_version=None
) -> Product:
    """Set stock absolutely (a stock-take) or by a delta (a delivery, a breakage), with the reason kept.
    A stock-take counted on an older version would undo the sales since: `seen_version` refuses it."""
    if (delta is None) == (stock is None):
        raise InvalidInput("Give exactly one of delta or stock.", code="exactly_one", field="delta")
    _require_manager(actor, product.vendor)
    reason = validate_choice(reason, MANUAL_STOCK_REASONS, field="reason")
    note = validate_optional_text(note, field="note", max_length=STOCK_NOTE_MAX_LENGTH)
    product = Product.objects.select_for_update().get(pk=product.pk)
    ensure_unchanged(entity=product, seen_version=seen_version)
    if stock is not None:
        new_stock = whole_number(stock, field="stock", minimum=0, maximum=MAX_STOCK)
    else:
        new_stock = product.stock + whole_number(
            delta, field="delta", minimum=-MAX_STOCK, maximum=MAX_STOCK - product.stock
        )
        if new_stock < 0:
            raise InvalidInput(
                f"Only {product.stock} of {product.name} in stock: you cannot take away {-delta}.",
                code="min_value",
                field="delta",
            )
    previous = product.stock
    _stock_set(product, new_stock, actor=actor, reason=reason, note=note)
    _log_admin_product_change(
        actor, "product_stock_adjusted", product, {"from": previous, "to": new_stock, "reason": reason, "note": note}
    )
    return product


def _end_of_local_day(now: datetime) -> datetime:
    tomorrow = timezone.localtime(now).date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time.min))


def _out_of_stock_until(choice: str, now: datetime) -> datetime | None:
    if choice == OutOfStockFor.END_OF_DAY:
        return _end_of_local_day(now)
    if choice == OutOfStockFor.FOUR_HOURS:
        return now + timedelta(hours=4)
    return None


@transaction.atomic
def product_mark_out_of_stock(*, actor, product, until) -> Product:
    """Sold out for now (the oven failed, the batch is gone): 0 on the shelf, the level remembered.

    It comes back by itself at the end of the day or after 4 hours (see catalog/timed.py), or by
    hand with `product_back_in_stock` when held indefinitely. Marking a product that is already
    held changes only when it comes back.
    """
    _require_manager(actor, product.vendor)
    until = validate_choice(until, OutOfStockFor.choices, field="until")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not product.held_out_of_stock:
        if product.stock == 0:
            raise RuleViolation(
                f"{product.name} is already out of stock; adjust its stock when more arrives.",
                code="already_out_of_stock",
                field="until",
            )
        product.stock_to_restore = product.stock
    product.out_of_stock_until = _out_of_stock_until(until, timezone.now())
    _stock_set(
        product,
        0,
        actor=actor,
        reason=StockMovement.Reason.OUT_OF_STOCK_UNTIL,
        note=OutOfStockFor(until).label,
        hold=True,
    )
    _log_admin_product_change(actor, "product_marked_out_of_stock", product, {"until": until})
    return product


def _stock_restore(product: Product, *, actor) -> None:
    """Put the remembered level back on top of whatever came back meanwhile (a cancelled order's items)."""
    _stock_set(
        product,
        product.stock + product.stock_to_restore,
        actor=actor,
        reason=StockMovement.Reason.RESTORED,
        note="Back in stock" if actor else "Back in stock at the time set",
    )


@transaction.atomic
def product_back_in_stock(*, actor, product) -> Product:
    """End "out of stock until" now, by hand."""
    _require_manager(actor, product.vendor)
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not product.held_out_of_stock:
        raise Conflict(f"{product.name} is not marked out of stock.", code="not_out_of_stock", field="product")
    _stock_restore(product, actor=actor)
    _log_admin_product_change(actor, "product_back_in_stock", product, {"stock": product.stock})
    return product


@transaction.atomic
def product_stock_restore_due(*, product, now=None) -> bool:
    """The timed restore: once, by whichever process locks the row first; False when not (or no longer) due."""
    now = now or timezone.now()
    product = (
        selectors.products_due_stock_restore(now=now)
        .select_for_update(skip_locked=True)
        .select_related("vendor")
        .filter(pk=product.pk)
        .first()
    )
    if product is None:
        return False
    _stock_restore(product, actor=None)
    notification_create_for_vendor_staff(
        vendor=product.vendor,
        type=Notification.Type.STOCK,
        title=f"{product.name} is back in stock ({product.stock})",
        action_url=reverse("vendor:product-edit", kwargs={"pk": product.pk}),
        data={"product_id": product.pk, "stock": product.stock},
    )
    return True


# Product images ---------------------------------------------------------------------------------


def _images_in_step(product: Product) -> None:
    """`Product.images` (what the API and the stream show) = the uploaded images in order, then any
    image URLs given from elsewhere. The caller saves the product, so the change is published."""
    uploaded_prefix = uploads.public_storage().url(f"{PRODUCT_IMAGE_FOLDER}/")
    elsewhere = [url for url in product.images if not url.startswith(uploaded_prefix)]
    product.images = [row.image.url for row in product.uploaded_images.order_by("position", "id")] + elsewhere


@transaction.atomic
def product_image_add(*, actor, product, upload) -> ProductImage:
    """Check the upload by its content, store it and its thumbnail under random names, list it last."""
    _require_manager(actor, product.vendor)
    picture = uploads.clean_image(upload, field="image")
    thumbnail = uploads.make_thumbnail(picture)
    product = Product.objects.select_for_update().get(pk=product.pk)
    existing = product.uploaded_images.aggregate(count=Count("id"), last=Max("position"))
    if existing["count"] >= MAX_PRODUCT_IMAGES:
        raise RuleViolation(
            f"A product has at most {MAX_PRODUCT_IMAGES} images; remove one first.",
            code="too_many_images",
            field="image",
        )
    image = ProductImage(product=product, position=0 if existing["last"] is None else existing["last"] + 1)
    image.image.save(picture.name, picture, save=False)
    image.thumbnail.save(thumbnail.name, thumbnail, save=False)
    image.save()
    _images_in_step(product)
    product.save()
    _log_admin_product_change(actor, "product_image_added", product, {"image": image.image.name})
    return image


@transaction.atomic
def product_image_remove(*, actor, image) -> Product:
    """The files go once the removal has committed, so a rolled-back removal loses nothing."""
    image = ProductImage.objects.select_related("product__vendor").get(pk=image.pk)
    _require_manager(actor, image.product.vendor)
    product = Product.objects.select_for_update().get(pk=image.product_id)
    files = [image.image, image.thumbnail]
    image.delete()
    _images_in_step(product)
    product.save()
    for stored in files:
        transaction.on_commit(lambda stored=stored: stored.storage.delete(stored.name))
    _log_admin_product_change(actor, "product_image_removed", product, {"image": files[0].name})
    return product


@transaction.atomic
def product_images_reorder(*, actor, product, image_ids) -> Product:
    """`image_ids` is every image of the product, main one first."""
    _require_manager(actor, product.vendor)
    product = Product.objects.select_for_update().get(pk=product.pk)
    images = {image.pk: image for image in product.uploaded_images.all()}
    if not isinstance(image_ids, list) or sorted(image_ids) != sorted(images):
        raise InvalidInput(
            "images must list each of this product's images exactly once.", code="not_a_permutation", field="images"
        )
    for position, image_id in enumerate(image_ids):
        image = images[image_id]
        if image.position != position:
            image.position = position
            image.save(update_fields=["position"])
    _images_in_step(product)
    product.save()
    _log_admin_product_change(actor, "product_images_reordered", product, {"order": image_ids})
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
        action_url=reverse("vendor:inventory"),
        data={"alert_id": alert.pk, "product_id": product.pk, "type": alert.type, "severity": alert.severity},
    )


def _estimated_stockout(stock: int, velocity: Decimal, now: datetime) -> datetime | None:
    """When the shelf empties at this pace (to the minute, so a resync within the minute changes nothing)."""
    if stock == 0 or velocity <= 0:
        return None
    return (now + timedelta(days=float(stock / velocity))).replace(second=0, microsecond=0)


def _alert_track_stock(alert: InventoryAlert, product: Product, velocity: Decimal, now: datetime) -> bool:
    """Copy the current level and pace onto the alert; True when anything changed."""
    tracked = (
        product.stock,
        product.low_stock_threshold,
        _alert_message(product, alert.type),
        velocity,
        _estimated_stockout(product.stock, velocity, now),
    )
    changed = tracked != (
        alert.stock_level,
        alert.threshold,
        alert.message,
        alert.sales_velocity_per_day,
        alert.estimated_stockout_at,
    )
    (
        alert.stock_level,
        alert.threshold,
        alert.message,
        alert.sales_velocity_per_day,
        alert.estimated_stockout_at,
    ) = tracked
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
    if not wanted and not open_alerts:
        return
    now = timezone.now()
    velocity = selectors.product_sales_velocity(product=product, now=now)
    for alert_type in InventoryAlert.Type.values:
        alert, severity = open_alerts.get(alert_type), wanted.get(alert_type)
        if alert is None and severity is None:
            continue
        if alert is None:
            alert = InventoryAlert(product=product, vendor=product.vendor, type=alert_type, severity=severity)
            _alert_track_stock(alert, product, velocity, now)
            alert.save()
            _notify_alert(alert, product)
        elif severity is None:
            alert.status = InventoryAlert.Status.RESOLVED
            alert.resolved_at = now
            _alert_track_stock(alert, product, velocity, now)
            alert.save()
        else:
            escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]
            alert.severity = severity
            if escalated:
                alert.status = InventoryAlert.Status.ACTIVE
                alert.acknowledged_by = None
                alert.acknowledged_at = None
            if _alert_track_stock(alert, product, velocity, now) or escalated:
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
    if product is not None:
        product = selectors.product_in_order(order=order, product_id=product.pk)
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
def review_reply(*, actor, review, body, seen_version=None) -> Review:
    """The shop's one public answer to a review; replying again rewrites it, unless the review changed
    since `seen_version` (a colleague's reply, which would otherwise be lost)."""
    review = Review.objects.select_for_update().select_related("vendor").get(pk=review.pk)
    if not user_manages_vendor(user=actor, vendor=review.vendor):
        raise NotFound("No such review.", field="review")
    ensure_unchanged(entity=review, seen_version=seen_version)
    review.reply = validate_required_text(body, field="body", max_length=REPLY_MAX_LENGTH)
    review.replied_at = timezone.now()
    review.replied_by = actor
    review.save()
    if actor.is_staff:
        activity_log_record(
            admin=actor,
            action="review_replied",
            category=AdminActivityLog.Category.REVIEW,
            entity=review,
            details={"reply": review.reply},
        )
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
