"""The shop's order desk: the orders list, an order's page with its status buttons and notes,
and a printable ticket.

The list and the order's live part are partials, each with one view that the
live refresh calls again. Status buttons post the status the page showed; when
another device moved the order first, the answer is 409 with the live part
re-rendered at the order's real status and a message saying who moved it.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from orders import selectors, services
from orders.models import Order
from vendors.portal.access import vendor_portal_view
from zora.errors import ServiceError
from zora.forms import add_service_error

from .forms import STATUS_TABS, OrderFilterForm, OrderMoveForm, OrderNoteForm

LIST_PAGE = "vendor/orders/list.html"
DETAIL_PAGE = "vendor/orders/detail.html"
ORDERS_PER_PAGE = 50
Status = Order.Status

# The button for each move, and how it looks.
MOVE_BUTTONS = {
    Status.CONFIRMED: ("Accept", "btn-primary"),
    Status.PREPARING: ("Start preparing", "btn-primary"),
    Status.READY: ("Mark ready", "btn-primary"),
    Status.OUT_FOR_DELIVERY: ("Out for delivery", "btn-primary"),
    Status.DELIVERED: ("Mark delivered", "btn-primary"),
    Status.CANCELLED: ("Cancel order", "btn-danger"),
    Status.REFUNDED: ("Refund", "btn-danger"),
}


# The list -------------------------------------------------------------------------------------


def _list_context(request) -> dict:
    filters = OrderFilterForm(request.GET)
    window, current_tab = filters.window(), filters.tab()
    counts = selectors.order_status_counts_for_vendor(vendor=request.vendor, **window)
    tabs = [
        {
            "key": key,
            "label": label,
            "count": sum(counts[status] for status in statuses) if statuses else sum(counts.values()),
            "current": key == current_tab,
        }
        for key, label, statuses in STATUS_TABS
    ]
    statuses = next(statuses for key, _label, statuses in STATUS_TABS if key == current_tab)
    orders = selectors.order_search_for_vendor(vendor=request.vendor, statuses=statuses, **window)
    return {
        "filters": filters,
        "tabs": tabs,
        "page": Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page")),
        "filtering": any(window.values()),
    }


@vendor_portal_view
def order_list_page(request):
    return render(request, LIST_PAGE, _list_context(request))


@vendor_portal_view
def order_list(request):
    return render(request, f"{LIST_PAGE}#list", _list_context(request))


# One order ------------------------------------------------------------------------------------


def _move_buttons(request, order: Order, failed: OrderMoveForm | None) -> list[dict]:
    """A form per legal next status; the one that was refused keeps what was entered and its errors."""
    buttons = []
    for status in selectors.order_next_moves(order=order, user=request.user):
        label, style = MOVE_BUTTONS[status]
        if status == Status.CANCELLED and order.status == Status.PENDING:
            label = "Reject"
        if failed is not None and failed.data.get("to_status") == status:
            form = failed
        else:
            form = OrderMoveForm(
                initial={"to_status": status, "expected_status": order.status}, auto_id=f"move-{status}-%s"
            )
        buttons.append(
            {"status": status, "status_label": Status(status).label, "label": label, "style": style, "form": form}
        )
    return buttons


def _errors_without_a_field_shown(form: OrderMoveForm | None) -> list[str]:
    """A refused move's errors that no visible field carries (its status fields are hidden)."""
    if form is None:
        return []
    return [*form.non_field_errors(), *form.errors.get("to_status", []), *form.errors.get("expected_status", [])]


def _status_context(request, order: Order, *, move_form=None, refusal="") -> dict:
    return {
        "order": order,
        "buttons": _move_buttons(request, order, move_form),
        "refusal": refusal,
        "move_errors": _errors_without_a_field_shown(move_form),
    }


def _history_context(order: Order) -> dict:
    timeline = selectors.order_timeline(order=order)
    notes = [entry for entry in timeline if entry.is_note]
    return {
        "order": order,
        "timeline": timeline,
        "internal_notes": [entry for entry in notes if entry.is_internal],
        "customer_notes": [entry for entry in notes if not entry.is_internal],
    }


def _order(request, pk) -> Order:
    """One of this shop's orders; another shop's is a 404."""
    return get_object_or_404(selectors.order_details_for_vendor(vendor=request.vendor), pk=pk)


def _detail_page(request, order: Order, *, status=200, move_form=None, note_form=None, refusal=""):
    context = {
        **_status_context(request, order, move_form=move_form, refusal=refusal),
        **_history_context(order),
        "note_form": note_form or OrderNoteForm(auto_id="note-%s"),
        # While the order is still being made, a missing item can be marked out of stock from here.
        "open_statuses": (Status.PENDING, Status.CONFIRMED, Status.PREPARING),
    }
    return render(request, DETAIL_PAGE, context, status=status)


def _partial_and_history(request, partial: str, context: dict, *, status=200) -> HttpResponse:
    """The partial the form swaps, with the order's history swapped beside it out of band,
    so the timeline shows what just happened without waiting for the live refresh."""
    history = _history_context(context["order"])
    html = render_to_string(f"{DETAIL_PAGE}#{partial}", context, request=request)
    html += render_to_string(f"{DETAIL_PAGE}#history-out-of-band", history, request=request)
    return HttpResponse(html, status=status)


@vendor_portal_view
def order_detail(request, pk):
    return _detail_page(request, _order(request, pk))


@vendor_portal_view
def order_status(request, pk):
    return render(request, f"{DETAIL_PAGE}#status", _status_context(request, _order(request, pk)))


@vendor_portal_view
def order_history(request, pk):
    return render(request, f"{DETAIL_PAGE}#history", _history_context(_order(request, pk)))


def _move(request, order: Order, data: dict) -> None:
    to_status, expected = data["to_status"], data["expected_status"]
    if to_status == Status.CONFIRMED:
        services.order_accept(
            actor=request.user, order=order, prep_minutes=data["prep_minutes"], expected_status=expected
        )
    elif to_status == Status.CANCELLED:
        services.order_reject(
            actor=request.user,
            order=order,
            reason_code=data["reason_code"],
            reason_text=data["reason_text"],
            expected_status=expected,
        )
    else:
        services.order_transition(actor=request.user, order=order, to_status=to_status, expected_status=expected)


def _already_moved(order: Order) -> str:
    """Who got there first, so nobody wonders whether their click did anything."""
    move = selectors.order_latest_move(order=order)
    who = move.changed_by.get_full_name() if move and move.changed_by else "Zora"
    when = timezone.localtime(move.created_at).strftime("%H:%M") if move else "an earlier moment"
    return f"This order was already moved to {order.get_status_display()} by {who} at {when}; nothing was changed."


def _status_answer(request, order: Order, *, status=200, move_form=None, refusal=""):
    if request.htmx:
        context = _status_context(request, order, move_form=move_form, refusal=refusal)
        return _partial_and_history(request, "status", context, status=status)
    return _detail_page(request, order, status=status, move_form=move_form, refusal=refusal)


@vendor_portal_view
@require_POST
def order_move(request, pk):
    order = _order(request, pk)
    to_status = request.POST.get("to_status", "")
    form = OrderMoveForm(request.POST, auto_id=f"move-{to_status}-%s" if to_status in Status.values else "move-%s")
    if form.is_valid():
        try:
            _move(request, order, form.cleaned_data)
        except ServiceError as exc:
            if exc.code == "stale_status":
                current = _order(request, pk)
                return _status_answer(request, current, status=409, refusal=_already_moved(current))
            add_service_error(form, exc)
        else:
            order = _order(request, pk)
            if request.htmx:
                return _status_answer(request, order)
            messages.success(request, f"Order {order.number} {services.STATUS_NEWS[order.status]}.")
            return redirect("vendor:order-detail", pk=order.pk)
    return _status_answer(request, order, status=422 if request.htmx else 200, move_form=form)


@vendor_portal_view
@require_POST
def order_note_add(request, pk):
    order = _order(request, pk)
    form = OrderNoteForm(request.POST, auto_id="note-%s")
    if form.is_valid():
        try:
            services.order_note_add(
                actor=request.user, order=order, body=form.cleaned_data["body"], is_internal=form.is_internal()
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            if request.htmx:
                blank = {"order": order, "note_form": OrderNoteForm(auto_id="note-%s")}
                return _partial_and_history(request, "note-form", blank)
            messages.success(request, "Note added.")
            return redirect("vendor:order-detail", pk=order.pk)
    if request.htmx:
        return render(request, f"{DETAIL_PAGE}#note-form", {"order": order, "note_form": form}, status=422)
    return _detail_page(request, order, note_form=form)


@vendor_portal_view
def order_ticket(request, pk):
    order = _order(request, pk)
    notes = [entry for entry in selectors.order_timeline(order=order) if entry.is_note]
    return render(request, "vendor/orders/ticket.html", {"order": order, "notes": notes})
