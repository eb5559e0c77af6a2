"""The admin dashboard's overview: the whole marketplace today, live.

Each card group is a partial with one view, refreshed when a row of the
tables it counts changes; who is online comes from presence on
`realtime:online`, counted in the browser (static/js/zora-dashboard.js).
"""

from dataclasses import dataclass
from datetime import datetime

from django.shortcuts import render
from django.utils import timezone

from accounts.portal.access import platform_admin_view
from catalog.models import InventoryAlert
from orders.models import Order
from orders.stats import daily_chart, orders_today, today_start
from support.models import EmailThread
from vendors.models import Vendor, VendorApplication

FEED_LENGTH = 12


def overview_figures() -> dict:
    now = timezone.now()
    today = orders_today()
    pending = Order.objects.filter(status=Order.Status.PENDING)
    shops = Vendor.objects.filter(is_active=True)
    return {
        "orders_today": today["count"],
        "revenue_today": today["revenue"],
        "orders_waiting": pending.count(),
        "orders_late": pending.filter(accept_by__lt=now).count(),
        "customers_today": Order.objects.filter(created_at__gte=today_start()).values("customer").distinct().count(),
        "shops_open": shops.exclude(opening_status=Vendor.OpeningStatus.CLOSED).count(),
        "shops_paused": shops.filter(opening_status=Vendor.OpeningStatus.CLOSED).count(),
        "applications_pending": VendorApplication.objects.filter(status__in=VendorApplication.OPEN_STATUSES).count(),
        "threads_open": EmailThread.objects.filter(status=EmailThread.Status.OPEN).count(),
    }


@dataclass(frozen=True)
class FeedEntry:
    at: datetime
    kind: str
    text: str
    url: str = ""


def activity_feed() -> list[FeedEntry]:
    """The latest of each kind of thing the platform team watches, newest first."""
    entries = [
        FeedEntry(order.created_at, "order", f"Order {order.number} at {order.vendor.name}, £{order.total}")
        for order in Order.objects.select_related("vendor").order_by("-created_at")[:FEED_LENGTH]
    ]
    entries += [
        FeedEntry(
            application.updated_at,
            "application",
            f"{application.business_name}: application {application.get_status_display().lower()}",
        )
        for application in VendorApplication.objects.order_by("-updated_at")[:FEED_LENGTH]
    ]
    entries += [
        FeedEntry(thread.created_at, "support", f"Support thread: {thread.subject}")
        for thread in EmailThread.objects.order_by("-created_at")[:FEED_LENGTH]
    ]
    entries += [
        FeedEntry(alert.created_at, "stock", f"Sold out: {alert.product.name} at {alert.vendor.name}")
        for alert in InventoryAlert.objects.filter(severity=InventoryAlert.Severity.EMERGENCY)
        .select_related("product", "vendor")
        .order_by("-created_at")[:FEED_LENGTH]
    ]
    entries += [
        FeedEntry(vendor.updated_at, "shop", f"{vendor.name} paused: {vendor.pause_reason or 'by the shop'}")
        for vendor in Vendor.objects.filter(opening_status=Vendor.OpeningStatus.CLOSED, is_active=True).order_by(
            "-updated_at"
        )[:FEED_LENGTH]
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:FEED_LENGTH]


@platform_admin_view
def overview(request):
    context = {"figures": overview_figures(), "chart": daily_chart(), "feed": activity_feed()}
    return render(request, "dashboard/overview.html", context)


@platform_admin_view
def overview_figures_partial(request):
    return render(request, "dashboard/overview.html#figures", {"figures": overview_figures(), "chart": daily_chart()})


@platform_admin_view
def overview_feed_partial(request):
    return render(request, "dashboard/overview.html#feed", {"feed": activity_feed()})
