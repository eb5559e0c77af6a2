"""The shop's dashboard: today's figures, a 14-day revenue chart, latest orders and alerts.

Each card is a partial with its own view, refreshed live when an order, a
product or an alert of the shop changes, so every figure moves without a reload.
"""

from django.db.models import F
from django.shortcuts import render

from catalog.models import InventoryAlert, Product
from orders.models import Order
from orders.stats import daily_chart, latest_orders, orders_today
from vendors.portal.access import vendor_portal_view


def dashboard_figures(vendor) -> dict:
    today = orders_today(vendor=vendor)
    return {
        "orders_today": today["count"],
        "revenue_today": today["revenue"],
        "waiting": Order.objects.filter(vendor=vendor, status=Order.Status.PENDING).count(),
        "low_stock": Product.objects.filter(vendor=vendor, is_active=True, stock__lte=F("low_stock_threshold")).count(),
        "rating_avg": vendor.rating_avg,
        "rating_count": vendor.rating_count,
    }


def active_alerts(vendor):
    return (
        InventoryAlert.objects.filter(vendor=vendor, status=InventoryAlert.Status.ACTIVE)
        .select_related("product")
        .order_by("stock_level", "-created_at")
    )


@vendor_portal_view
def dashboard(request):
    vendor = request.vendor
    context = {
        "figures": dashboard_figures(vendor),
        "chart": daily_chart(vendor=vendor),
        "latest_orders": latest_orders(vendor=vendor),
        "alerts": active_alerts(vendor),
    }
    return render(request, "vendor/dashboard.html", context)


@vendor_portal_view
def dashboard_stats(request):
    context = {"figures": dashboard_figures(request.vendor), "chart": daily_chart(vendor=request.vendor)}
    return render(request, "vendor/dashboard.html#stats", context)


@vendor_portal_view
def dashboard_latest_orders(request):
    return render(
        request, "vendor/dashboard.html#latest-orders", {"latest_orders": latest_orders(vendor=request.vendor)}
    )


@vendor_portal_view
def dashboard_alerts(request):
    return render(request, "vendor/dashboard.html#alerts", {"alerts": active_alerts(request.vendor)})
