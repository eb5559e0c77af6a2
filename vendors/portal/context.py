"""What every vendor portal page's shell shows: the sidebar and the orders the alarm waits on."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from orders.models import Order


@dataclass(frozen=True)
class NavItem:
    name: str
    label: str
    url_names: tuple[str, ...]
    tables: str


VENDOR_NAV = (
    NavItem("orders", "Orders", ("orders", "order-detail"), "orders"),
    NavItem("products", "Products", ("products", "product-create", "product-edit"), "products"),
    NavItem("inventory", "Inventory alerts", ("inventory",), "inventory_alerts"),
    NavItem("reviews", "Reviews", ("reviews",), "reviews"),
    NavItem("messages", "Messages", ("messages", "conversation"), "messages"),
    NavItem("shop-status", "Shop status", ("shop-status",), ""),
    NavItem("shop-profile", "Shop profile", ("shop-profile",), ""),
)


def vendor_portal(request):
    vendor = getattr(request, "vendor", None)
    if vendor is None:
        return {}
    nav = []
    for item in VENDOR_NAV:
        try:
            url = reverse(f"vendor:{item.url_names[0]}")
        except NoReverseMatch:
            continue
        nav.append(
            {"name": item.name, "label": item.label, "url": url, "url_names": item.url_names, "tables": item.tables}
        )
    pending = Order.objects.filter(vendor=vendor, status=Order.Status.PENDING).values_list("pk", flat=True)
    return {"vendor_nav": nav, "vendor_pending_order_ids": list(pending)}
