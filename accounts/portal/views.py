"""Signing in and out of the portals, password changes and resets, and the notification bell."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.login_throttle import login_failed, login_locked_out, login_succeeded
from accounts.portal.forms import LoginForm
from accounts.services import notification_mark_all_read, notification_mark_read, user_authenticate
from zora.errors import NotFound, ServiceError
from zora.forms import add_service_error
from zora.throttling import client_address

BACKEND = "accounts.backends.ActiveAccountBackend"


def _safe_next(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return ""


def home_for(user) -> str:
    """Admins land on their dashboard, everyone else on the vendor portal (which sends applicants on)."""
    return resolve_url("dashboard:overview" if user.is_staff else "vendor:dashboard")


def login_view(request):
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email, address = form.cleaned_data["email"], client_address(request)
        if login_locked_out(email=email, address=address):
            form.add_error(None, "Too many failed sign-ins. Wait 15 minutes, or reset your password.")
            status = 429
        else:
            try:
                user = user_authenticate(email=email, password=form.cleaned_data["password"])
            except ServiceError as exc:
                login_failed(email=email, address=address)
                add_service_error(form, exc)
                status = 400
            else:
                login_succeeded(email=email, address=address)
                login(request, user, backend=BACKEND)
                return redirect(_safe_next(request) or home_for(user))
    elif request.method == "POST":
        status = 400
    return render(request, "portal/login.html", {"form": form, "next": _safe_next(request)}, status=status)


@require_POST
def logout_view(request):
    # Deleting the session writes the access event that closes its sockets: both commit, or neither.
    with transaction.atomic():
        logout(request)
    messages.success(request, "You are signed out.")
    return redirect(settings.LOGIN_URL)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "portal/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"


def _bell(request, status=200):
    return render(request, "portal/bell.html#bell", status=status)


@login_required
def notifications_bell(request):
    return _bell(request)


@login_required
@require_POST
def notification_read(request, notification_id: int):
    try:
        notification = notification_mark_read(user=request.user, notification_id=notification_id)
    except NotFound:
        return _bell(request, status=404)
    if not request.htmx and notification.action_url:
        return redirect(notification.action_url)
    return _bell(request)


@login_required
@require_POST
def notifications_read_all(request):
    notification_mark_all_read(user=request.user)
    return _bell(request)
