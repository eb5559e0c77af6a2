"""Announcements: compose one, send it to every connected portal page as a banner, and list the sent ones.

The list refreshes when any announcement goes out (the page hears the same
broadcast as every other portal page), so two admins see each other's.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from accounts.admin_base import request_meta
from accounts.models import Announcement
from accounts.portal.access import platform_admin_view
from accounts.services import announcement_send
from zora.errors import ServiceError
from zora.forms import add_service_error

from .dashboard_forms import AnnouncementForm

PAGE = "dashboard/announcements/list.html"
ANNOUNCEMENTS_PER_PAGE = 25


def _sent_context(request) -> dict:
    announcements = Announcement.objects.select_related("author")
    return {"page": Paginator(announcements, ANNOUNCEMENTS_PER_PAGE).get_page(request.GET.get("page"))}


@platform_admin_view
def announcements_page(request):
    form = AnnouncementForm(request.POST or None, auto_id="announcement-%s")
    sent = None
    if request.method == "POST" and form.is_valid():
        try:
            sent = announcement_send(actor=request.user, request_meta=request_meta(request), **form.cleaned_data)
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            if not request.htmx:
                messages.success(request, f"Announcement “{sent.title}” sent to every connected page.")
                return redirect("dashboard:announcements")
            form = AnnouncementForm(auto_id="announcement-%s")
    if request.htmx and request.method == "POST":
        # The blank form (or the refused one), with the list swapped beside it out of band.
        status = 200 if sent is not None else 422
        html = render_to_string(f"{PAGE}#compose", {"form": form, "sent": sent}, request=request)
        html += render_to_string(f"{PAGE}#sent-out-of-band", _sent_context(request), request=request)
        return HttpResponse(html, status=status)
    return render(request, PAGE, {"form": form, **_sent_context(request)})


@platform_admin_view
def announcements_sent(request):
    return render(request, f"{PAGE}#sent", _sent_context(request))
