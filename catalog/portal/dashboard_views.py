"""The dashboard's product moderation: every shop's products, taken off sale with a reason the shop
is told, or put back.

Each row's moderation form posts the version of the product the page showed; when the shop or
another admin changed the product first, the answer is 409 with the row re-rendered at the
product's real state and a message saying so.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.admin_base import request_meta
from accounts.portal.access import platform_admin_view
from accounts.portal.dashboard_forms import SeenVersionForm
from accounts.selectors import activity_url_for
from catalog import selectors, services
from catalog.models import Product
from vendors.models import Vendor
from zora.collisions import queue_presence_topic
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.pages import filtered_page
from zora.versions import version_of

LIST = "dashboard/products/list.html"
PRODUCTS_PER_PAGE = 50


class ProductModerationFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=150, label="Name or description")
    shop = forms.ModelChoiceField(queryset=Vendor.objects.order_by("name"), required=False, empty_label="Any shop")
    state = forms.ChoiceField(
        required=False, choices=[("all", "Active and inactive"), ("active", "Active"), ("inactive", "Inactive")]
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "search": data["q"],
            "vendor_id": data["shop"].pk if data["shop"] else None,
            "state": data["state"] or "all",
        }


class ProductModerationForm(SeenVersionForm):
    active = forms.TypedChoiceField(
        choices=[("1", "reactivate"), ("0", "deactivate")], coerce=lambda value: value == "1", widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label="Reason the shop sees",
        required=False,
        max_length=services.MODERATION_REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Alcohol needs a licence we do not have on file"}),
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {**super().service_arguments(), "active": data["active"], "reason": data["reason"]}


def _row(product: Product, *, form=None, refusal="") -> dict:
    return {
        "product": product,
        "form": form
        or ProductModerationForm(
            initial={"active": "0" if product.is_active else "1", "seen_version": version_of(product)},
            auto_id=f"moderate-{product.pk}-%s",
        ),
        "refusal": refusal,
        "activity_url": activity_url_for(product),
    }


def _list_context(request) -> dict:
    filters = ProductModerationFilterForm(request.GET)
    listing = filtered_page(
        request, selectors.product_search_for_admin(**filters.filters()), per_page=PRODUCTS_PER_PAGE
    )
    return {
        "filters": filters,
        **listing,
        "rows": [_row(product) for product in listing["page"].object_list],
        "presence_topic": queue_presence_topic(Product),
    }


@platform_admin_view
def products_page(request):
    return render(request, LIST, _list_context(request))


@platform_admin_view
def products_list(request):
    return render(request, f"{LIST}#list", _list_context(request))


def _product(pk) -> Product:
    return get_object_or_404(Product.objects.select_related("vendor", "category"), pk=pk)


@platform_admin_view
def product_row(request, pk):
    return render(request, f"{LIST}#row", _row(_product(pk)))


def _row_answer(request, product: Product, *, status=200, form=None, refusal=""):
    if request.htmx:
        return render(request, f"{LIST}#row", _row(product, form=form, refusal=refusal), status=status)
    context = _list_context(request)
    context["rows"] = [
        _row(row["product"], form=form, refusal=refusal) if row["product"].pk == product.pk else row
        for row in context["rows"]
    ]
    if not any(row["product"].pk == product.pk for row in context["rows"]):
        context["rows"].insert(0, _row(product, form=form, refusal=refusal))
    return render(request, LIST, context, status=status)


@platform_admin_view
@require_POST
def product_moderate(request, pk):
    product = _product(pk)
    form = ProductModerationForm(request.POST, auto_id=f"moderate-{product.pk}-%s")
    if form.is_valid():
        try:
            services.product_moderate(
                actor=request.user, product=product, request_meta=request_meta(request), **form.service_arguments()
            )
        except ServiceError as exc:
            if exc.code == "stale_version":
                return _row_answer(request, _product(pk), status=409, refusal=exc.message)
            add_service_error(form, exc)
        else:
            product = _product(pk)
            if request.htmx:
                return _row_answer(request, product)
            done = "is on sale again" if product.is_active else "is off sale; the shop is told why"
            messages.success(request, f"{product.name} {done}.")
            return redirect("dashboard:products")
    return _row_answer(request, product, status=422 if request.htmx else 200, form=form)
