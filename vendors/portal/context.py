"""What every vendor portal page's shell shows: the sidebar and the orders the alarm waits on."""

from orders.models import Order
from zora.portal_nav import NavItem, nav_links

VENDOR_NAV = (
    NavItem("orders", "Orders", ("orders", "order-detail"), "orders"),
    NavItem("products", "Products", ("products", "product-create", "product-edit"), "products"),
    NavItem("inventory", "Inventory alerts", ("inventory",), "inventory_alerts"),
    NavItem("reviews", "Reviews", ("reviews",), "reviews"),
    NavItem("messages", "Messages", ("messages", "conversation"), "messages"),
    NavItem("shop-status", "Shop status", ("shop-status",)),
    NavItem("shop-profile", "Shop profile", ("shop-profile",)),
)


def vendor_portal(request):
    vendor = getattr(request, "vendor", None)
    if vendor is None:
        return {}
    pending = Order.objects.filter(vendor=vendor, status=Order.Status.PENDING).values_list("pk", flat=True)
    return {"vendor_nav": nav_links("vendor", VENDOR_NAV), "vendor_pending_order_ids": list(pending)}
