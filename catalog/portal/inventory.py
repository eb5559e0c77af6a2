"""Inventory alerts: what is running out, worst first, with how fast it sells and when it runs dry.

The list is a live region: an alert resolved by a restock anywhere leaves it without a reload.
"""

from itertools import groupby

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog import selectors, services
from catalog.models import InventoryAlert
from vendors.portal.access import vendor_portal_view
from zora.errors import ServiceError

PAGE = "vendor/inventory/alerts.html"


def _list_context(request) -> dict:
    alerts = selectors.inventory_alerts_open_for_vendor(vendor=request.vendor)
    groups = [
        {"severity": severity, "label": InventoryAlert.Severity(severity).label, "alerts": list(members)}
        for severity, members in groupby(alerts, key=lambda alert: alert.severity)
    ]
    return {"groups": groups}


@vendor_portal_view
def inventory_page(request):
    return render(request, PAGE, _list_context(request))


@vendor_portal_view
def inventory_list(request):
    return render(request, f"{PAGE}#list", _list_context(request))


@vendor_portal_view
@require_POST
def inventory_acknowledge(request, pk):
    alert = get_object_or_404(InventoryAlert, pk=pk, vendor=request.vendor)
    try:
        services.inventory_alert_acknowledge(actor=request.user, alert=alert)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if not request.htmx:
            messages.success(request, "Alert acknowledged.")
    if request.htmx:
        return render(request, f"{PAGE}#list", _list_context(request))
    return redirect("vendor:inventory")
