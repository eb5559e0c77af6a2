"""The platform team's review of vendor applications: the queue by status, and one application's
page with its business data, documents, history and the moves it allows now.

The queue and the application's live part are partials, each with one view
that the live refresh (`vendor_applications` events) calls again. Every
action posts the version of the application the page showed; when another
admin decided first, the answer is 409 with the live part re-rendered at the
application's real state and a message saying who did what, and when.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.admin_base import request_meta
from accounts.portal.access import platform_admin_view
from vendors import selectors, services
from vendors.models import VendorApplication
from zora.collisions import presence_topic
from zora.errors import Conflict, ServiceError
from zora.forms import add_service_error

from .dashboard_forms import ApplicationActionForm, RejectForm, RequestDocumentsForm

LIST_PAGE = "dashboard/applications/list.html"
DETAIL_PAGE = "dashboard/applications/detail.html"
APPLICATIONS_PER_PAGE = 50
Status = VendorApplication.Status

# The queue's tabs: a key, its label and the status it shows (None: every application).
TABS = (
    ("pending", "Pending", Status.PENDING),
    ("under_review", "Under review", Status.UNDER_REVIEW),
    ("documents_required", "Documents required", Status.DOCUMENTS_REQUIRED),
    ("approved", "Approved", Status.APPROVED),
    ("rejected", "Rejected", Status.REJECTED),
    ("all", "All", None),
)
DEFAULT_TAB = "pending"


@dataclass(frozen=True)
class Action:
    """A review move as the page offers it: its button, its form, the service that makes it."""

    slug: str
    to_status: str
    label: str
    style: str
    form_class: type[ApplicationActionForm]
    service: Callable
    done: str


ACTIONS = (
    Action(
        "start-review",
        Status.UNDER_REVIEW,
        "Start review",
        "btn-primary",
        ApplicationActionForm,
        services.application_start_review,
        "Review of {name} started.",
    ),
    Action(
        "request-documents",
        Status.DOCUMENTS_REQUIRED,
        "Request documents",
        "btn",
        RequestDocumentsForm,
        services.application_request_documents,
        "Documents requested from {name}; the applicant was told what to send.",
    ),
    Action(
        "approve",
        Status.APPROVED,
        "Approve",
        "btn-primary",
        ApplicationActionForm,
        services.application_approve,
        "{name} is approved: the shop exists and its owner's portal is open.",
    ),
    Action(
        "reject",
        Status.REJECTED,
        "Reject",
        "btn-danger",
        RejectForm,
        services.application_reject,
        "{name} was rejected; the applicant was told why.",
    ),
)
ACTIONS_BY_SLUG = {action.slug: action for action in ACTIONS}


# The queue ------------------------------------------------------------------------------------


def _queue_context(request) -> dict:
    current = request.GET.get("status", DEFAULT_TAB)
    if current not in {key for key, _label, _status in TABS}:
        current = DEFAULT_TAB
    counts = selectors.application_status_counts()
    tabs = [
        {
            "key": key,
            "label": label,
            "count": counts[status] if status else sum(counts.values()),
            "current": key == current,
        }
        for key, label, status in TABS
    ]
    status = next(status for key, _label, status in TABS if key == current)
    queue = selectors.application_queue(status=status)
    return {
        "tabs": tabs,
        "current": current,
        "page": Paginator(queue, APPLICATIONS_PER_PAGE).get_page(request.GET.get("page")),
    }


@platform_admin_view
@require_GET
def application_queue_page(request):
    return render(request, LIST_PAGE, _queue_context(request))


@platform_admin_view
@require_GET
def application_queue(request):
    return render(request, f"{LIST_PAGE}#queue", _queue_context(request))


# One application ------------------------------------------------------------------------------


def _application(pk) -> VendorApplication:
    return get_object_or_404(selectors.application_details(), pk=pk)


def _action_forms(application: VendorApplication, failed: tuple[Action, ApplicationActionForm] | None) -> list:
    """A form for each move the application allows now; the refused one keeps what was entered."""
    allowed = selectors.application_admin_moves(application=application)
    forms = []
    for action in ACTIONS:
        if action.to_status not in allowed:
            continue
        if failed is not None and failed[0].slug == action.slug:
            form = failed[1]
        else:
            form = action.form_class(application=application, auto_id=f"{action.slug}-%s")
        forms.append({"action": action, "form": form})
    return forms


def _live_context(application: VendorApplication, *, failed=None, refusal: str = "") -> dict:
    requested_at = selectors.documents_requested_at(application=application)
    return {
        "application": application,
        "actions": _action_forms(application, failed),
        "refusal": refusal,
        "documents": application.uploaded_documents.all(),
        "requested_at": requested_at,
        "history": application.status_history.all(),
    }


def _detail_page(request, application: VendorApplication, *, status=200, **live):
    context = {**_live_context(application, **live), "presence_topic": presence_topic(application)}
    return render(request, DETAIL_PAGE, context, status=status)


def _live_answer(request, application: VendorApplication, *, status=200, **live):
    if request.htmx:
        return render(request, f"{DETAIL_PAGE}#live", _live_context(application, **live), status=status)
    return _detail_page(request, application, status=200, **live)


@platform_admin_view
@require_GET
def application_detail(request, pk):
    return _detail_page(request, _application(pk))


@platform_admin_view
@require_GET
def application_live(request, pk):
    return render(request, f"{DETAIL_PAGE}#live", _live_context(_application(pk)))


@platform_admin_view
@require_POST
def application_act(request, pk, action):
    move = ACTIONS_BY_SLUG.get(action)
    if move is None:
        raise Http404("No such action.")
    application = _application(pk)
    form = move.form_class(request.POST, application=application, auto_id=f"{move.slug}-%s")
    if not form.is_valid():
        return _live_answer(request, application, status=422, failed=(move, form))
    try:
        move.service(
            actor=request.user, application=application, request_meta=request_meta(request), **form.arguments()
        )
    except Conflict as exc:
        # Decided on a state that is gone: show the state as it is now, with fresh forms.
        return _live_answer(request, _application(pk), status=409, refusal=exc.message)
    except ServiceError as exc:
        add_service_error(form, exc)
        return _live_answer(request, application, status=422, failed=(move, form))
    news = move.done.format(name=application.business_name)
    if request.htmx:
        response = render(request, f"{DETAIL_PAGE}#live", _live_context(_application(pk)))
        return trigger_client_event(response, "zora:toast", {"message": news, "kind": "success"})
    messages.success(request, news)
    return redirect("dashboard:application", pk=pk)
