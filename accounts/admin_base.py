"""Building blocks shared by every app's Django admin.

Admin actions change state only through the services, so each change gets its
history rows, notifications and activity-log entry exactly as it would from
the portals; these helpers keep that wiring in one place.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction

from zora.errors import ServiceError
from zora.throttling import client_address


def request_meta(request) -> dict:
    """What the activity log records about the admin's request."""
    return {"ip": client_address(request) or None, "user_agent": request.headers.get("User-Agent", "")[:500]}


class ReasonActionForm(ActionForm):
    """The changelist's action bar with a free-text reason, for actions whose service needs one."""

    reason = forms.CharField(
        required=False,
        label="Reason / note",
        widget=forms.TextInput(attrs={"placeholder": "needed by reject, request documents, deactivate…"}),
    )


def action_reason(request) -> str:
    return request.POST.get("reason", "").strip()


def service_action(name: str, description: str, call: Callable, done: str):
    """An admin action that runs `call(request, obj)` for each selected object.

    Each call is its own service transaction, so one refusal does not undo the
    others: the admin sees how many changed and, for each refused object, the
    service's reason.
    """

    def action(modeladmin, request, queryset):
        changed = 0
        for obj in queryset:
            try:
                call(request, obj)
            except ServiceError as exc:
                modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            else:
                changed += 1
        if changed:
            modeladmin.message_user(request, f"{done}: {changed}.", messages.SUCCESS)

    action.__name__ = name
    return admin.action(description=description)(action)


def changed_fields(form, editable) -> dict:
    """The form's changed values a service may take, keyed as its keyword arguments."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


def adopt_created(form_instance, created) -> None:
    """Turn the admin's unsaved form instance into the row a service has just created.

    An add form's save goes through the service (validation, reactions, log);
    the admin then keeps using its own instance for the change message and
    the redirect, so that instance must become the created row.
    """
    form_instance.pk = created.pk
    form_instance.refresh_from_db()
    form_instance._state.adding = False


class PublishedModelAdmin(admin.ModelAdmin):
    """Bulk deletion one instance at a time, so each deletion reaches the event stream
    (used for published models and for users, whose deletion cascades into them)."""

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                obj.delete()


class ServiceCreatedAdmin(admin.ModelAdmin):
    """Records only a service creates (checkout, approval, inbound mail, device sign-in) and
    that stay on record for the history they carry: editable here where it makes sense,
    never added or deleted."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services (history, logs, messages): viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusHistoryAdmin(ReadOnlyAdmin):
    """The rows a state machine writes on every move; `subject_field` names what moved."""

    subject_field = ""
    list_filter = ("to_status",)
    date_hierarchy = "created_at"

    def get_list_display(self, request):
        return (self.subject_field, "from_status", "to_status", "changed_by", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.subject_field, "changed_by")


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows shown under their parent as written by the services; `fields` are all read-only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
