"""The dashboard's users: search and filter, one user's page, suspend / reactivate and platform-admin rights.

The account card (status and the two actions) is one partial with one view.
Each action posts the version of the user the page showed; when another admin
changed the user first, the answer is 409 with the card re-rendered at the
user's real state and a message saying who did what.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from accounts import services
from accounts.admin_base import request_meta
from accounts.models import User
from accounts.portal.access import platform_admin_view
from accounts.selectors import activity_url_for, user_search, user_version
from orders.models import Order
from zora.collisions import presence_topic
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.pages import filtered_page

from .dashboard_forms import UserAdminRightsForm, UserFilterForm, UserSuspensionForm

LIST = "dashboard/users/list.html"
DETAIL = "dashboard/users/detail.html"
USERS_PER_PAGE = 50
RECENT_ORDERS = 10


def _dashboard_url(name: str, pk: int) -> str:
    """A link to another dashboard page, or none while that page is not part of the dashboard."""
    try:
        return reverse(f"dashboard:{name}", args=[pk])
    except NoReverseMatch:
        return ""


# The list -------------------------------------------------------------------------------------


def _list_context(request) -> dict:
    filters = UserFilterForm(request.GET)
    return {"filters": filters, **filtered_page(request, user_search(**filters.filters()), per_page=USERS_PER_PAGE)}


@platform_admin_view
def users_page(request):
    return render(request, LIST, _list_context(request))


@platform_admin_view
def users_list(request):
    return render(request, f"{LIST}#list", _list_context(request))


# One user -------------------------------------------------------------------------------------


def _person(pk) -> User:
    return get_object_or_404(User.objects.select_related("profile", "vendor_membership__vendor"), pk=pk)


def _account_context(request, person: User, *, failed=None, refusal="") -> dict:
    """The account card; the form that was refused keeps what was entered and its errors."""
    version = user_version(person)
    suspension = UserSuspensionForm(
        initial={"suspended": "0" if person.is_suspended else "1", "seen_version": version}, auto_id="suspension-%s"
    )
    admin_rights = UserAdminRightsForm(
        initial={"is_admin": "0" if person.is_staff else "1", "seen_version": version}, auto_id="admin-rights-%s"
    )
    if isinstance(failed, UserSuspensionForm):
        suspension = failed
    elif isinstance(failed, UserAdminRightsForm):
        admin_rights = failed
    return {
        "person": person,
        "suspension_form": suspension,
        "admin_form": admin_rights,
        "is_self": person.pk == request.user.pk,
        "refusal": refusal,
    }


def _detail_page(request, person: User, *, status=200, failed=None, refusal=""):
    membership = getattr(person, "vendor_membership", None)
    orders = Order.objects.filter(customer=person).select_related("vendor").order_by("-created_at")[:RECENT_ORDERS]
    context = {
        **_account_context(request, person, failed=failed, refusal=refusal),
        "membership": membership,
        "vendor_url": _dashboard_url("vendor", membership.vendor_id) if membership else "",
        "orders": [(order, _dashboard_url("order", order.pk)) for order in orders],
        "tokens": person.api_tokens.order_by("revoked_at", "-created_at"),
        "activity_about_url": activity_url_for(person),
        "activity_by_url": f"{reverse('dashboard:activity')}?admin={person.pk}",
        "presence_topic": presence_topic(person),
    }
    return render(request, DETAIL, context, status=status)


def _account_answer(request, person: User, *, status=200, failed=None, refusal=""):
    if request.htmx:
        context = _account_context(request, person, failed=failed, refusal=refusal)
        return render(request, f"{DETAIL}#account", context, status=status)
    return _detail_page(request, person, status=status, failed=failed, refusal=refusal)


@platform_admin_view
def user_detail(request, pk):
    return _detail_page(request, _person(pk))


@platform_admin_view
def user_account(request, pk):
    return render(request, f"{DETAIL}#account", _account_context(request, _person(pk)))


def _act(request, pk, form: UserSuspensionForm | UserAdminRightsForm, service, done: str) -> HttpResponse:
    """Runs one account action: the service refuses what the rules or a newer state forbid."""
    person = _person(pk)
    if form.is_valid():
        try:
            service(actor=request.user, user=person, request_meta=request_meta(request), **form.service_arguments())
        except ServiceError as exc:
            if exc.code == "stale_version":
                return _account_answer(request, _person(pk), status=409, refusal=exc.message)
            add_service_error(form, exc)
        else:
            person = _person(pk)
            if request.htmx:
                return _account_answer(request, person)
            messages.success(request, done.format(name=person.get_full_name()))
            return redirect("dashboard:user", pk=pk)
    return _account_answer(request, person, status=422 if request.htmx else 200, failed=form)


@platform_admin_view
@require_POST
def user_suspension(request, pk):
    form = UserSuspensionForm(request.POST, auto_id="suspension-%s")
    done = "{name} is suspended." if request.POST.get("suspended") == "1" else "{name} is active again."
    return _act(request, pk, form, services.user_set_suspended, done)


@platform_admin_view
@require_POST
def user_admin_rights(request, pk):
    form = UserAdminRightsForm(request.POST, auto_id="admin-rights-%s")
    done = "{name} is a platform admin." if request.POST.get("is_admin") == "1" else "{name} is no longer an admin."
    return _act(request, pk, form, services.user_set_platform_admin, done)
