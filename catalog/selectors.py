"""Reads of the catalog that are more than a one-line query."""

from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet

from accounts.services import validate_choice
from catalog.models import InventoryAlert, Product, Review, WishlistItem
from vendors.models import Vendor
from zora.errors import InvalidInput

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
    products = Product.objects.filter(vendor=vendor).select_related("category")
    if not include_inactive:
        products = products.filter(is_active=True)
    return products


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


def wishlist_for_user(*, user) -> QuerySet[WishlistItem]:
    return WishlistItem.objects.filter(user=user).select_related("product__vendor")
