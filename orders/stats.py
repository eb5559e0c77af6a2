"""Figures the two dashboards show: per shop for the vendor portal, across shops for the platform team."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import Order

# Orders that never earned anything.
UNPAID_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)
CHART_WIDTH, CHART_HEIGHT, CHART_PAD_BOTTOM, CHART_PAD_TOP = 700, 200, 24, 16


def today_start():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _orders(vendor=None) -> QuerySet[Order]:
    return Order.objects.all() if vendor is None else Order.objects.filter(vendor=vendor)


def orders_today(*, vendor=None) -> dict:
    """Paid orders placed since midnight (London) and their revenue."""
    figures = (
        _orders(vendor)
        .filter(created_at__gte=today_start())
        .aggregate(
            count=Count("pk", filter=~Q(status__in=UNPAID_STATUSES)),
            revenue=Sum("total", filter=~Q(status__in=UNPAID_STATUSES)),
        )
    )
    return {"count": figures["count"], "revenue": figures["revenue"] or Decimal("0.00")}


def daily_chart(*, vendor=None, days: int = 14) -> dict:
    """Revenue bars and order counts for the last `days` days, laid out here so templates only draw them."""
    first_day = today_start() - timedelta(days=days - 1)
    rows = (
        _orders(vendor)
        .filter(created_at__gte=first_day)
        .exclude(status__in=UNPAID_STATUSES)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(revenue=Sum("total"), orders=Count("pk"))
    )
    by_day = {row["day"]: row for row in rows}
    peak = max((row["revenue"] for row in by_day.values()), default=Decimal("0")) or Decimal("1")
    slot = CHART_WIDTH / days
    usable = CHART_HEIGHT - CHART_PAD_BOTTOM - CHART_PAD_TOP
    bars = []
    for index in range(days):
        day = (first_day + timedelta(days=index)).date()
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
        "orders": sum(bar["orders"] for bar in bars),
        "peak": peak if total else Decimal("0.00"),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": CHART_HEIGHT - CHART_PAD_BOTTOM,
        "label_y": CHART_HEIGHT - 6,
    }


def latest_orders(*, vendor=None, limit: int = 8) -> QuerySet[Order]:
    return _orders(vendor).select_related("customer", "vendor").order_by("-created_at", "-id")[:limit]
