"""The dashboard's orders: every shop's orders with filters, and an order's page where an admin
cancels or refunds it.

The order's actions card and its timeline are partials, each with one view that the live refresh
calls again. Each action posts the version of the order the page showed; when someone changed the
order first, the answer is 409 with the card re-rendered at the order's real state and a message
saying who did what.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch
from django.views.decorators.http import require_POST

from accounts.admin_base import request_meta
from accounts.portal.access import platform_admin_view
from accounts.selectors import activity_url_for
from orders import selectors, services
from orders.models import Order
from zora.collisions import presence_topic
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.pages import filtered_page
from zora.versions import version_of

from .dashboard_forms import AdminOrderFilterForm, OrderCancelForm, OrderRefundForm

LIST = "dashboard/orders/list.html"
DETAIL = "dashboard/orders/detail.html"
ORDERS_PER_PAGE = 50
STALE = "stale_version"


# The list -------------------------------------------------------------------------------------


def _list_context(request) -> dict:
    filters = AdminOrderFilterForm(request.GET)
    orders = selectors.order_search_for_admin(**filters.filters())
    return {"filters": filters, **filtered_page(request, orders, per_page=ORDERS_PER_PAGE)}


@platform_admin_view
def orders_page(request):
    return render(request, LIST, _list_context(request))


@platform_admin_view
def orders_list(request):
    return render(request, f"{LIST}#list", _list_context(request))


# One order ------------------------------------------------------------------------------------


def _order(pk) -> Order:
    return get_object_or_404(selectors.order_details_for_admin(), pk=pk)


def _actions_context(order: Order, *, failed=None, refusal="") -> dict:
    """The status card; the form that was refused keeps what was entered and its errors."""
    initial = {"seen_version": version_of(order)}
    cancel = OrderCancelForm(initial=initial, auto_id="cancel-%s")
    refund = OrderRefundForm(initial=initial, auto_id="refund-%s")
    if isinstance(failed, OrderCancelForm):
        cancel = failed
    elif isinstance(failed, OrderRefundForm):
        refund = failed
    return {
        "order": order,
        "can_cancel": order.can_transition_to(Order.Status.CANCELLED),
        "can_refund": order.can_transition_to(Order.Status.REFUNDED),
        "cancel_form": cancel,
        "refund_form": refund,
        "refusal": refusal,
    }


def _history_context(order: Order) -> dict:
    return {"order": order, "timeline": selectors.order_timeline(order=order)}


def _activity_url(order: Order) -> str:
    """The activity log's entries about this order, once the activity page is part of the dashboard."""
    try:
        return activity_url_for(order)
    except NoReverseMatch:
        return ""


def _detail_page(request, order: Order, *, status=200, failed=None, refusal=""):
    context = {
        **_actions_context(order, failed=failed, refusal=refusal),
        **_history_context(order),
        "presence_topic": presence_topic(order),
        "activity_url": _activity_url(order),
    }
    return render(request, DETAIL, context, status=status)


def _actions_answer(request, order: Order, *, status=200, failed=None, refusal="") -> HttpResponse:
    """For htmx, the card the form swaps and the timeline beside it out of band; else the whole page."""
    if not request.htmx:
        return _detail_page(request, order, status=status, failed=failed, refusal=refusal)
    html = render_to_string(
        f"{DETAIL}#actions", _actions_context(order, failed=failed, refusal=refusal), request=request
    )
    html += render_to_string(f"{DETAIL}#history-out-of-band", _history_context(order), request=request)
    return HttpResponse(html, status=status)


@platform_admin_view
def order_detail(request, pk):
    return _detail_page(request, _order(pk))


@platform_admin_view
def order_actions(request, pk):
    return render(request, f"{DETAIL}#actions", _actions_context(_order(pk)))


@platform_admin_view
def order_history(request, pk):
    return render(request, f"{DETAIL}#history", _history_context(_order(pk)))


def _act(request, pk, form, service, done: str) -> HttpResponse:
    order = _order(pk)
    if form.is_valid():
        try:
            service(actor=request.user, order=order, request_meta=request_meta(request), **form.service_arguments())
        except ServiceError as exc:
            if exc.code == STALE:
                return _actions_answer(request, _order(pk), status=409, refusal=exc.message)
            add_service_error(form, exc)
        else:
            order = _order(pk)
            if request.htmx:
                return _actions_answer(request, order)
            messages.success(request, done.format(number=order.number))
            return redirect("dashboard:order", pk=pk)
    return _actions_answer(request, order, status=422 if request.htmx else 200, failed=form)


@platform_admin_view
@require_POST
def order_cancel(request, pk):
    form = OrderCancelForm(request.POST, auto_id="cancel-%s")
    return _act(request, pk, form, services.order_reject, "Order {number} is cancelled; the customer is told.")


@platform_admin_view
@require_POST
def order_refund(request, pk):
    form = OrderRefundForm(request.POST, auto_id="refund-%s")
    return _act(request, pk, form, services.order_refund, "Order {number} is refunded; the customer is told.")
