from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_base import (
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    ServiceCreatedAdmin,
    adopt_created,
    changed_fields,
    request_meta,
    service_action,
)
from support import services
from support.models import Conversation, EmailMessage, EmailTemplate, EmailThread, Message, MessageAttachment

# What `thread_update` changes; everything else on a thread is kept by the services.
EDITABLE_THREAD_FIELDS = ("status", "priority", "assignee")


class EmailMessageInline(ReadOnlyTabularInline):
    model = EmailMessage
    fields = ("created_at", "direction", "from_email", "body", "read_at")


def thread_status_action(status: str, description: str):
    return service_action(
        f"mark_{status}",
        description,
        lambda request, thread: services.thread_update(
            actor=request.user, thread=thread, status=status, request_meta=request_meta(request)
        ),
        f"Marked {status}",
    )


@admin.register(EmailThread)
class EmailThreadAdmin(ServiceCreatedAdmin):
    """The support inbox. Status, priority and assignee change through `thread_update` (logged)."""

    list_display = (
        "subject",
        "customer",
        "external_email",
        "status",
        "priority",
        "assignee",
        "message_count",
        "unread_count",
        "last_message_at",
    )
    list_filter = ("status", "priority", ("assignee", admin.EmptyFieldListFilter))
    search_fields = ("subject", "customer__email", "external_email", "order__number")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "assignee", "order")
    autocomplete_fields = ("assignee",)
    fields = (
        "subject",
        "customer",
        "external_email",
        "order",
        *EDITABLE_THREAD_FIELDS,
        "message_count",
        "unread_count",
        "last_message_at",
        "created_at",
    )
    readonly_fields = tuple(field for field in fields if field not in EDITABLE_THREAD_FIELDS)
    inlines = [EmailMessageInline]
    actions = [
        thread_status_action(EmailThread.Status.OPEN, "Reopen"),
        thread_status_action(EmailThread.Status.PENDING, "Mark pending"),
        thread_status_action(EmailThread.Status.CLOSED, "Close"),
        thread_status_action(EmailThread.Status.SPAM, "Mark as spam"),
    ]

    def save_model(self, request, obj, form, change):
        changes = changed_fields(form, EDITABLE_THREAD_FIELDS)
        if changes:
            # The service compares against the stored row, not the form-modified instance.
            stored = EmailThread.objects.get(pk=obj.pk)
            services.thread_update(actor=request.user, thread=stored, request_meta=request_meta(request), **changes)


@admin.register(EmailMessage)
class EmailMessageAdmin(ReadOnlyAdmin):
    list_display = ("thread", "direction", "from_email", "created_at", "read_at")
    list_filter = ("direction",)
    search_fields = ("thread__subject", "from_email", "body")
    date_hierarchy = "created_at"
    list_select_related = ("thread",)


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "subject", "is_active", "created_by", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "subject", "body")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        meta = request_meta(request)
        if change:
            fields = changed_fields(form, services.TEMPLATE_FIELDS)
            if fields:
                services.email_template_update(actor=request.user, template=obj, request_meta=meta, **fields)
            return
        created = services.email_template_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            request_meta=meta,
        )
        adopt_created(obj, created)


class MessageInline(ReadOnlyTabularInline):
    model = Message
    fields = ("created_at", "sender", "body", "read_at")


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "subject", "order", "last_message_at", "created_at")
    search_fields = ("subject", "customer__email", "vendor__name", "order__number")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "vendor", "order")
    inlines = [MessageInline]


class MessageAttachmentInline(ReadOnlyTabularInline):
    model = MessageAttachment
    fields = ("photo", "content_type", "size", "width", "height", "created_at")
    show_change_link = False

    @admin.display(description="Photo")
    def photo(self, attachment):
        # Private files have no public URL: the API's checked view serves them to platform admins.
        url = reverse("message-attachment", kwargs={"pk": attachment.pk})
        return format_html('<a href="{}" target="_blank" rel="noopener">Open</a>', url)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "conversation", "sender", "created_at", "read_at")
    search_fields = ("body", "sender__email")
    date_hierarchy = "created_at"
    list_select_related = ("conversation", "sender")
    inlines = [MessageAttachmentInline]
