"""The shop's dashboard: today's figures, a 14-day revenue chart, latest orders and alerts.

Each card is a partial with its own view, refreshed live when an order, a
product or an alert of the shop changes, so every figure moves without a reload.
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.utils import timezone

from catalog.models import InventoryAlert, Product
from orders.models import Order
from vendors.portal.access import vendor_portal_view

CHART_DAYS = 14
LATEST_ORDERS = 8
# Orders that never earned the shop anything.
UNPAID_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)
CHART_WIDTH, CHART_HEIGHT, CHART_PAD_BOTTOM, CHART_PAD_TOP = 700, 200, 24, 16


def _today_start():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def dashboard_figures(vendor) -> dict:
    orders = Order.objects.filter(vendor=vendor)
    today = orders.filter(created_at__gte=_today_start()).aggregate(
        count=Count("pk", filter=~Q(status__in=UNPAID_STATUSES)),
        revenue=Sum("total", filter=~Q(status__in=UNPAID_STATUSES)),
    )
    return {
        "orders_today": today["count"],
        "revenue_today": today["revenue"] or Decimal("0.00"),
        "waiting": orders.filter(status=Order.Status.PENDING).count(),
        "low_stock": Product.objects.filter(vendor=vendor, is_active=True, stock__lte=F("low_stock_threshold")).count(),
        "rating_avg": vendor.rating_avg,
        "rating_count": vendor.rating_count,
    }


def revenue_chart(vendor) -> dict:
    """Bars for the last 14 days, laid out here so the template only draws them."""
    first_day = _today_start() - timedelta(days=CHART_DAYS - 1)
    rows = (
        Order.objects.filter(vendor=vendor, created_at__gte=first_day)
        .exclude(status__in=UNPAID_STATUSES)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(revenue=Sum("total"), orders=Count("pk"))
    )
    by_day = {row["day"]: row for row in rows}
    days = [(first_day + timedelta(days=offset)).date() for offset in range(CHART_DAYS)]
    peak = max((by_day[day]["revenue"] for day in by_day), default=Decimal("0")) or Decimal("1")
    slot = CHART_WIDTH / CHART_DAYS
    usable = CHART_HEIGHT - CHART_PAD_BOTTOM - CHART_PAD_TOP
    bars = []
    for index, day in enumerate(days):
        revenue = by_day.get(day, {}).get("revenue") or Decimal("0.00")
        height = float(revenue / peak) * usable
        bars.append(
            {
                "day": day,
                "revenue": revenue,
                "orders": by_day.get(day, {}).get("orders", 0),
                "x": round(index * slot + slot * 0.15, 1),
                "y": round(CHART_PAD_TOP + usable - height, 1),
                "width": round(slot * 0.7, 1),
                "height": round(max(height, 1 if revenue else 0), 1),
                "label_x": round(index * slot + slot / 2, 1),
            }
        )
    total = sum((bar["revenue"] for bar in bars), Decimal("0.00"))
    return {
        "bars": bars,
        "total": total,
        "peak": peak if total else Decimal("0.00"),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": CHART_HEIGHT - CHART_PAD_BOTTOM,
        "label_y": CHART_HEIGHT - 6,
    }


def latest_orders(vendor):
    return Order.objects.filter(vendor=vendor).select_related("customer").order_by("-created_at", "-id")[:LATEST_ORDERS]


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
        "chart": revenue_chart(vendor),
        "latest_orders": latest_orders(vendor),
        "alerts": active_alerts(vendor),
    }
    return render(request, "vendor/dashboard.html", context)


@vendor_portal_view
def dashboard_stats(request):
    context = {"figures": dashboard_figures(request.vendor), "chart": revenue_chart(request.vendor)}
    return render(request, "vendor/dashboard.html#stats", context)


@vendor_portal_view
def dashboard_latest_orders(request):
    return render(request, "vendor/dashboard.html#latest-orders", {"latest_orders": latest_orders(request.vendor)})


@vendor_portal_view
def dashboard_alerts(request):
    return render(request, "vendor/dashboard.html#alerts", {"alerts": active_alerts(request.vendor)})
