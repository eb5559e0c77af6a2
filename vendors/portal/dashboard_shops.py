"""The dashboard's shops: the list with each one's status and today's orders, and a shop's page with
its recent orders and products, its health over the last 30 days, and suspend / reactivate.

The account card (status and the action) is one partial with one view. The action posts the
version of the shop the page showed; when someone changed the shop first, the answer is 409 with
the card re-rendered at the shop's real state and a message saying who did what.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.admin_base import request_meta
from accounts.portal.access import platform_admin_view
from accounts.portal.dashboard_forms import SeenVersionForm
from accounts.selectors import activity_url_for
from catalog.models import Product
from orders.models import Order
from orders.selectors import vendor_order_health
from vendors import selectors, services
from vendors.models import Vendor
from zora.collisions import presence_topic
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.pages import filtered_page
from zora.versions import version_of

LIST = "dashboard/vendors/list.html"
DETAIL = "dashboard/vendors/detail.html"
VENDORS_PER_PAGE = 50
RECENT_ORDERS = 10
RECENT_PRODUCTS = 10
HEALTH_DAYS = 30
STATE_CHOICES = [
    ("", "Every shop"),
    ("active", "Active"),
    ("suspended", "Suspended"),
    ("open", "Open"),
    ("busy", "Busy"),
    ("paused", "Paused"),
]


class VendorFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=150, label="Shop name or owner's email")
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES, label="Show")

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {"search": self.cleaned_data["q"], "state": self.cleaned_data["state"]}


class VendorActivationForm(SeenVersionForm):
    active = forms.TypedChoiceField(
        choices=[("1", "reactivate"), ("0", "suspend")], coerce=lambda value: value == "1", widget=forms.HiddenInput
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The shop's owner is told it; it stays in the activity log.",
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {**super().service_arguments(), "active": data["active"], "reason": data["reason"]}


# The list -------------------------------------------------------------------------------------


def _list_context(request) -> dict:
    filters = VendorFilterForm(request.GET)
    vendors = selectors.vendor_search_for_admin(**filters.filters())
    return {"filters": filters, **filtered_page(request, vendors, per_page=VENDORS_PER_PAGE)}


@platform_admin_view
def vendors_page(request):
    return render(request, LIST, _list_context(request))


@platform_admin_view
def vendors_list(request):
    return render(request, f"{LIST}#list", _list_context(request))


# One shop -------------------------------------------------------------------------------------


def _vendor(pk) -> Vendor:
    return get_object_or_404(selectors.vendors_with_schedule(Vendor.objects.select_related("owner")), pk=pk)


def _account_context(vendor: Vendor, *, failed=None, refusal="") -> dict:
    form = failed or VendorActivationForm(
        initial={"active": "0" if vendor.is_active else "1", "seen_version": version_of(vendor)},
        auto_id="activation-%s",
    )
    return {
        "vendor": vendor,
        "open_state": selectors.vendor_open_state(vendor=vendor),
        "portal_last_seen": selectors.vendor_portal_last_seen(vendor=vendor),
        "activation_form": form,
        "refusal": refusal,
    }


def _activity_url(vendor: Vendor) -> str:
    try:
        return activity_url_for(vendor)
    except NoReverseMatch:
        return ""


def _detail_page(request, vendor: Vendor, *, status=200, failed=None, refusal=""):
    now = timezone.now()
    health = vendor_order_health(vendor=vendor, days=HEALTH_DAYS, now=now)
    context = {
        **_account_context(vendor, failed=failed, refusal=refusal),
        "health": health,
        "paused": selectors.vendor_paused_time(vendor=vendor, since=health.since, now=now),
        "health_days": HEALTH_DAYS,
        "orders": Order.objects.filter(vendor=vendor).select_related("customer")[:RECENT_ORDERS],
        "products": Product.objects.filter(vendor=vendor).order_by("-updated_at", "-id")[:RECENT_PRODUCTS],
        "staff": vendor.staff.select_related("user").order_by("role", "id"),
        "presence_topic": presence_topic(vendor),
        "activity_url": _activity_url(vendor),
    }
    return render(request, DETAIL, context, status=status)


def _account_answer(request, vendor: Vendor, *, status=200, failed=None, refusal=""):
    if request.htmx:
        return render(
            request, f"{DETAIL}#account", _account_context(vendor, failed=failed, refusal=refusal), status=status
        )
    return _detail_page(request, vendor, status=status, failed=failed, refusal=refusal)


@platform_admin_view
def vendor_detail(request, pk):
    return _detail_page(request, _vendor(pk))


@platform_admin_view
def vendor_account(request, pk):
    return render(request, f"{DETAIL}#account", _account_context(_vendor(pk)))


@platform_admin_view
@require_POST
def vendor_activation(request, pk):
    vendor = _vendor(pk)
    form = VendorActivationForm(request.POST, auto_id="activation-%s")
    if form.is_valid():
        try:
            services.vendor_set_active(
                actor=request.user, vendor=vendor, request_meta=request_meta(request), **form.service_arguments()
            )
        except ServiceError as exc:
            if exc.code == "stale_version":
                return _account_answer(request, _vendor(pk), status=409, refusal=exc.message)
            add_service_error(form, exc)
        else:
            vendor = _vendor(pk)
            if request.htmx:
                return _account_answer(request, vendor)
            done = "is trading again" if vendor.is_active else "is suspended: it takes no orders and its portal is shut"
            messages.success(request, f"{vendor.name} {done}.")
            return redirect("dashboard:vendor", pk=pk)
    return _account_answer(request, vendor, status=422 if request.htmx else 200, failed=form)
