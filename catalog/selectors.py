"""Reads of the catalog that are more than a one-line query."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When

from accounts.services import validate_choice
from catalog.models import InventoryAlert, Product, Review, StockMovement, WishlistItem
from orders.models import Order, OrderItem
from vendors.models import Vendor
from zora.errors import InvalidInput

SALES_VELOCITY_WINDOW = timedelta(days=7)
SEVERITY_ORDER = (
    InventoryAlert.Severity.EMERGENCY,
    InventoryAlert.Severity.CRITICAL,
    InventoryAlert.Severity.WARNING,
)

PRODUCT_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "newest": ("-created_at", "-id"),
    "rating": ("-rating_avg", "-rating_count", "id"),
}


def _price_bound(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        bound = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{field} must be a number.", field=field) from None
    if not bound.is_finite() or bound < 0:
        raise InvalidInput(f"{field} must be a non-negative number.", field=field)
    return bound


def product_list(
    *,
    search: str = "",
    category=None,
    vendor=None,
    min_price=None,
    max_price=None,
    in_stock: bool | None = None,
    ordering: str = "name",
) -> QuerySet[Product]:
    """What customers may browse: active products of active vendors."""
    products = Product.objects.filter(is_active=True, vendor__is_active=True).select_related("vendor", "category")
    if search:
        products = products.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if category is not None:
        products = products.filter(category=category)
    if vendor is not None:
        products = products.filter(vendor=vendor)
    low = _price_bound(min_price, "min_price")
    high = _price_bound(max_price, "max_price")
    if low is not None:
        products = products.filter(price__gte=low)
    if high is not None:
        products = products.filter(price__lte=high)
    if low is not None and high is not None and low > high:
        raise InvalidInput("min_price must not exceed max_price.", field="min_price")
    if in_stock is True:
        products = products.filter(stock__gt=0)
    elif in_stock is False:
        products = products.filter(stock=0)
    if ordering not in PRODUCT_ORDERINGS:
        raise InvalidInput(
            f"ordering must be one of: {', '.join(PRODUCT_ORDERINGS)}.", code="invalid_choice", field="ordering"
        )
    return products.order_by(*PRODUCT_ORDERINGS[ordering])


def product_list_for_vendor(*, vendor: Vendor, include_inactive: bool = True) -> QuerySet[Product]:
    """The vendor portal's view of its own catalogue, hidden products included."""
    products = (
        Product.objects.filter(vendor=vendor).select_related("vendor", "category").prefetch_related("uploaded_images")
    )
    if not include_inactive:
        products = products.filter(is_active=True)
    return products


def products_due_stock_restore(*, now: datetime) -> QuerySet[Product]:
    """Products held "out of stock until" a time that has come."""
    return Product.objects.filter(stock_to_restore__isnull=False, out_of_stock_until__lte=now)


def product_sales_velocity(*, product: Product, now: datetime) -> Decimal:
    """Units sold per day over the last week (cancelled orders do not count), or since the product
    was listed when that is more recent, counting at least one day so a first sale is not a stampede."""
    since = now - SALES_VELOCITY_WINDOW
    sold = (
        OrderItem.objects.filter(product=product, order__created_at__gte=since)
        .exclude(order__status=Order.Status.CANCELLED)
        .aggregate(units=Sum("quantity"))["units"]
    )
    if not sold:
        return Decimal("0.00")
    days = max(timedelta(days=1), min(SALES_VELOCITY_WINDOW, now - product.created_at)) / timedelta(days=1)
    return (Decimal(sold) / Decimal(str(days))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def stock_movements_for_product(*, product: Product) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(product=product).select_related("actor")


PRODUCT_STATES = {
    "all": Q(),
    "active": Q(is_active=True),
    "inactive": Q(is_active=False),
    "low": Q(stock__gt=0, stock__lte=F("low_stock_threshold")),
    "sold_out": Q(stock=0),
}


def product_search_for_vendor(*, vendor: Vendor, search: str = "", state: str = "all") -> QuerySet[Product]:
    """The shop's catalogue by name or description, narrowed to a state (active, low on stock, ...)."""
    validate_choice(state, [(name, name) for name in PRODUCT_STATES], field="state")
    products = product_list_for_vendor(vendor=vendor).filter(PRODUCT_STATES[state])
    if search:
        products = products.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return products


def inventory_alerts_open_for_vendor(*, vendor: Vendor) -> QuerySet[InventoryAlert]:
    """Alerts still to deal with, worst first: emergency, critical, warning; newest first within each."""
    rank = Case(
        *(When(severity=severity, then=Value(position)) for position, severity in enumerate(SEVERITY_ORDER)),
        output_field=IntegerField(),
    )
    return (
        InventoryAlert.objects.filter(vendor=vendor)
        .exclude(status=InventoryAlert.Status.RESOLVED)
        .select_related("product", "acknowledged_by")
        .annotate(severity_rank=rank)
        .order_by("severity_rank", "-created_at", "-id")
    )


def inventory_alert_list_for_vendor(*, vendor: Vendor, status: str | None = None) -> QuerySet[InventoryAlert]:
    alerts = InventoryAlert.objects.filter(vendor=vendor).select_related("product", "acknowledged_by")
    if status is not None:
        validate_choice(status, InventoryAlert.Status.choices, field="status")
        alerts = alerts.filter(status=status)
    return alerts


def review_list_for_product(*, product: Product) -> QuerySet[Review]:
    return Review.objects.filter(product=product).select_related("customer")


def review_list_for_vendor(*, vendor: Vendor) -> QuerySet[Review]:
    """Reviews of the shop itself, not of its products."""
    return Review.objects.filter(vendor=vendor, product__isnull=True).select_related("customer")


REVIEW_SUBJECTS = ("all", "shop", "products", "unanswered")


def review_list_for_vendor_staff(*, vendor: Vendor, about: str = "all") -> QuerySet[Review]:
    """Everything customers said about the shop and its products, for the team that answers."""
    validate_choice(about, [(subject, subject) for subject in REVIEW_SUBJECTS], field="about")
    reviews = Review.objects.filter(vendor=vendor).select_related("customer", "product", "replied_by")
    if about == "shop":
        reviews = reviews.filter(product__isnull=True)
    elif about == "products":
        reviews = reviews.filter(product__isnull=False)
    elif about == "unanswered":
        reviews = reviews.filter(reply="")
    return reviews


def product_in_order(*, order: Order, product_id: int) -> Product:
    """A product bought in `order`. Any other id, listed, unlisted or naming no product, gets the
    same refusal, so a review request cannot tell whether an unlisted product exists."""
    product = Product.objects.filter(order_items__order=order, pk=product_id).first()
    if product is None:
        raise InvalidInput("That product is not part of this order.", code="not_in_order", field="product")
    return product


def wishlist_for_user(*, user) -> QuerySet[WishlistItem]:
    return WishlistItem.objects.filter(user=user).select_related("product__vendor")


def product_search_for_admin(
    *, search: str = "", vendor_id: int | None = None, state: str = "all"
) -> QuerySet[Product]:
    """Every shop's products for moderation, by name or description, one shop or all, active or not."""
    validate_choice(state, [(name, name) for name in ("all", "active", "inactive")], field="state")
    products = Product.objects.filter(PRODUCT_STATES[state]).select_related("vendor", "category")
    if vendor_id is not None:
        products = products.filter(vendor_id=vendor_id)
    search = search.strip()
    if search:
        products = products.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return products.order_by("vendor__name", "name", "id")
