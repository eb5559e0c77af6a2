"""What the portal shell shows on every page: the notification bell, and the admin dashboard's sidebar."""

from functools import cache

from accounts.selectors import notification_unread_count, notifications_latest
from zora.portal_nav import NavItem, nav_links

DASHBOARD_NAV = (
    NavItem("overview", "Overview", ("overview",)),
    NavItem("applications", "Vendor applications", ("applications", "application"), "vendor_applications"),
    NavItem("orders", "Orders", ("orders", "order"), "orders"),
    NavItem("vendors", "Vendors", ("vendors", "vendor")),
    NavItem("users", "Users", ("users", "user")),
    NavItem("products", "Products", ("products",)),
    NavItem("support", "Support inbox", ("support", "thread"), "email_threads"),
    NavItem("activity", "Activity log", ("activity",)),
    NavItem("announcements", "Announcements", ("announcements",)),
)


def dashboard_portal(request):
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "dashboard" or not request.user.is_staff:
        return {}
    return {"dashboard_nav": nav_links("dashboard", DASHBOARD_NAV)}


def notification_bell(request):
    """Read once, and only when a template shows the bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_count": cache(lambda: notification_unread_count(user=user)),
        "notifications": cache(lambda: notifications_latest(user=user)),
    }
