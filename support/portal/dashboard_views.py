"""The support inbox on the admin dashboard: threads by view, status and priority with their
first-response targets; a thread's messages and internal notes; assign, status, priority, reply
(emailed, optionally from a quick-reply template) and notes; the quick-reply templates.

A thread's page has two live parts, each a partial with one view: the timeline (messages and
notes, refreshed when either changes) and the actions (refreshed when the thread changes, never
while someone types in them). Every action posts the thread version its page showed; when
another admin or the customer changed the thread first, the answer is 409 with the actions at
the current state, what was typed kept, and who changed it.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from accounts.admin_base import request_meta
from accounts.portal.access import platform_admin_view
from accounts.selectors import activity_url_for
from support import selectors, services
from support.models import EmailMessage, EmailTemplate, EmailThread
from zora.collisions import presence_topic
from zora.errors import ServiceError
from zora.forms import add_service_error
from zora.versions import version_of

from .dashboard_forms import (
    EmailTemplateForm,
    InboxFilterForm,
    InboxView,
    ThreadNoteForm,
    ThreadReplyForm,
    ThreadSettingsForm,
)

INBOX = "dashboard/support/inbox.html"
THREAD = "dashboard/support/thread.html"
TEMPLATES = "dashboard/support/templates.html"
TEMPLATE_EDIT = "dashboard/support/template_edit.html"
THREADS_PER_PAGE = 50
STALE = "stale_version"


# The inbox ------------------------------------------------------------------------------------


def _inbox_context(request) -> dict:
    filters = InboxFilterForm(request.GET)
    selection = filters.selection()
    view = selection.pop("view")
    threads = selectors.thread_list_for_admin(
        **selection,
        assignee=request.user if view == InboxView.MINE else None,
        unassigned=view == InboxView.UNASSIGNED,
    )
    page = Paginator(threads, THREADS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"thread": thread, "response": selectors.first_response(thread)} for thread in page]
    query = request.GET.copy()
    tabs = []
    for key, label in InboxView.choices:
        query["view"] = key
        query.pop("page", None)
        tabs.append({"key": key, "label": label, "query": query.urlencode(), "current": key == view})
    return {"filters": filters, "view": view, "tabs": tabs, "page": page, "rows": rows}


@platform_admin_view
def inbox_page(request):
    return render(request, INBOX, _inbox_context(request))


@platform_admin_view
def inbox_list(request):
    return render(request, f"{INBOX}#list", _inbox_context(request))


# One thread -----------------------------------------------------------------------------------


def _thread(pk) -> EmailThread:
    return get_object_or_404(selectors.thread_list_for_admin(), pk=pk)


def _fresh(form_class, thread: EmailThread, auto_id: str, **initial):
    return form_class(initial={"seen_version": version_of(thread), **initial}, auto_id=auto_id)


def _settings_form(thread: EmailThread) -> ThreadSettingsForm:
    return _fresh(
        ThreadSettingsForm,
        thread,
        "settings-%s",
        status=thread.status,
        priority=thread.priority,
        assignee=thread.assignee_id,
    )


def _reply_body(request, thread: EmailThread) -> str:
    """A quick reply's text with this thread's placeholders filled, when one was picked."""
    template_id = request.GET.get("template", "")
    template = EmailTemplate.objects.filter(pk=template_id, is_active=True).first() if template_id.isdigit() else None
    if template is None:
        return ""
    return selectors.template_filled(template=template, thread=thread, admin=request.user)


def _actions_context(request, thread: EmailThread, *, failed=None, kept: dict | None = None, refusal="") -> dict:
    """The action forms at the thread's current version; the refused one keeps what was entered
    and its errors, or (when the thread moved on) just what was typed."""
    forms = {
        "settings_form": _settings_form(thread),
        "reply_form": _fresh(ThreadReplyForm, thread, "reply-%s", body=_reply_body(request, thread)),
        "note_form": _fresh(ThreadNoteForm, thread, "note-%s"),
    }
    if failed is not None:
        forms[failed[0]] = failed[1]
    for name, body in (kept or {}).items():
        forms[name] = _fresh(type(forms[name]), thread, forms[name].auto_id, body=body)
    return {
        "thread": thread,
        "response": selectors.first_response(thread),
        "templates": EmailTemplate.objects.filter(is_active=True),
        "refusal": refusal,
        **forms,
    }


def _timeline_context(thread: EmailThread) -> dict:
    return {"thread": thread, "timeline": selectors.thread_timeline(thread=thread)}


def _thread_page(request, thread: EmailThread, *, status=200, **actions):
    context = {
        **_actions_context(request, thread, **actions),
        **_timeline_context(thread),
        "presence_topic": presence_topic(thread),
        "activity_url": activity_url_for(thread),
    }
    return render(request, THREAD, context, status=status)


@platform_admin_view
def thread_detail(request, pk):
    thread = _thread(pk)
    if thread.unread_count:
        services.thread_mark_read(actor=request.user, thread=thread)
        thread = _thread(pk)
    return _thread_page(request, thread)


@platform_admin_view
def thread_actions(request, pk):
    return render(request, f"{THREAD}#actions", _actions_context(request, _thread(pk)))


@platform_admin_view
def thread_timeline(request, pk):
    return render(request, f"{THREAD}#timeline", _timeline_context(_thread(pk)))


def _actions_answer(request, thread: EmailThread, *, status=200, **actions) -> HttpResponse:
    """For htmx, the actions with the timeline swapped beside them out of band, so a reply or note
    shows at once; otherwise the whole page."""
    if not request.htmx:
        return _thread_page(request, thread, status=status, **actions)
    html = render_to_string(f"{THREAD}#actions", _actions_context(request, thread, **actions), request=request)
    html += render_to_string(f"{THREAD}#timeline-out-of-band", _timeline_context(thread), request=request)
    return HttpResponse(html, status=status)


def _act(request, pk, *, name: str, form, run, done: str) -> HttpResponse:
    """One action on a thread: `run(thread, cleaned_data, seen_version)` calls the service."""
    thread = _thread(pk)
    if form.is_valid():
        try:
            run(thread, form.cleaned_data, form.seen())
        except ServiceError as exc:
            if exc.code == STALE:
                typed = {name: form.cleaned_data["body"]} if "body" in form.cleaned_data else {}
                return _actions_answer(request, _thread(pk), status=409, kept=typed, refusal=exc.message)
            add_service_error(form, exc)
        else:
            if request.htmx:
                return _actions_answer(request, _thread(pk))
            messages.success(request, done)
            return redirect("dashboard:thread", pk=pk)
    return _actions_answer(request, thread, status=422 if request.htmx else 200, failed=(name, form))


@platform_admin_view
@require_POST
def thread_settings(request, pk):
    def run(thread, data, seen):
        services.thread_update(
            actor=request.user,
            thread=thread,
            status=data["status"],
            priority=data["priority"],
            assignee=data["assignee"],
            seen_version=seen,
            request_meta=request_meta(request),
        )

    form = ThreadSettingsForm(request.POST, auto_id="settings-%s")
    return _act(request, pk, name="settings_form", form=form, run=run, done="Thread updated.")


@platform_admin_view
@require_POST
def thread_reply(request, pk):
    def run(thread, data, seen):
        services.thread_add_message(
            thread=thread,
            direction=EmailMessage.Direction.OUTBOUND,
            body=data["body"],
            sender=request.user,
            seen_version=seen,
            request_meta=request_meta(request),
        )

    form = ThreadReplyForm(request.POST, auto_id="reply-%s")
    return _act(request, pk, name="reply_form", form=form, run=run, done="Reply sent.")


@platform_admin_view
@require_POST
def thread_note(request, pk):
    def run(thread, data, seen):
        services.thread_note_add(
            actor=request.user, thread=thread, body=data["body"], seen_version=seen, request_meta=request_meta(request)
        )

    form = ThreadNoteForm(request.POST, auto_id="note-%s")
    return _act(request, pk, name="note_form", form=form, run=run, done="Note added.")


# Quick-reply templates ------------------------------------------------------------------------


def _template_fields(data: dict) -> dict:
    return {name: data[name] for name in ("name", "subject", "body", "is_active")}


@platform_admin_view
def templates_page(request):
    form = EmailTemplateForm(request.POST or None, auto_id="template-%s")
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                template = services.email_template_create(
                    actor=request.user, request_meta=request_meta(request), **_template_fields(form.cleaned_data)
                )
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, f"Template “{template.name}” saved.")
                return redirect("dashboard:support-templates")
        status = 422 if request.htmx else 200
    context = {"templates": EmailTemplate.objects.select_related("created_by"), "form": form}
    return render(request, TEMPLATES, context, status=status)


@platform_admin_view
def template_edit(request, pk):
    template = get_object_or_404(EmailTemplate, pk=pk)
    if request.method != "POST":
        form = EmailTemplateForm.for_template(template, auto_id="template-%s")
        return render(request, TEMPLATE_EDIT, {"template": template, "form": form})
    form = EmailTemplateForm(request.POST, auto_id="template-%s")
    refusal, status = "", 422 if request.htmx else 200
    if form.is_valid():
        try:
            services.email_template_update(
                actor=request.user,
                template=template,
                seen_version=form.seen(),
                request_meta=request_meta(request),
                **_template_fields(form.cleaned_data),
            )
        except ServiceError as exc:
            if exc.code == STALE:
                template.refresh_from_db()
                refusal, status = exc.message, 409
                form = EmailTemplateForm.for_template(template, auto_id="template-%s")
            else:
                add_service_error(form, exc)
        else:
            messages.success(request, f"Template “{form.cleaned_data['name']}” saved.")
            return redirect("dashboard:support-templates")
    return render(request, TEMPLATE_EDIT, {"template": template, "form": form, "refusal": refusal}, status=status)
