"""Writes for the support inbox (email threads, messages, quick-reply templates) and
customer ↔ vendor conversations."""

from collections.abc import Sequence
from contextlib import contextmanager
from functools import partial

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import AdminActivityLog, Notification, User
from accounts.services import (
    activity_log_record,
    notification_create,
    notification_create_for_vendor_staff,
    require_platform_admin,
    validate_choice,
    validate_email_address,
    validate_optional_text,
    validate_required_text,
)
from vendors.models import Vendor, VendorStaff
from zora.errors import Conflict, InvalidInput, NotFound
from zora.uploads import clean_image, make_thumbnail
from zora.versions import ensure_unchanged

from . import mail
from .models import Conversation, EmailMessage, EmailTemplate, EmailThread, Message, MessageAttachment, ThreadNote

MESSAGE_MAX_LENGTH = 5000
MESSAGE_ATTACHMENTS_MAX = 4
PREVIEW_LENGTH = 200
TEMPLATE_FIELDS = ("name", "subject", "body", "is_active")
REOPENED_BY_CUSTOMER = {EmailThread.Status.PENDING, EmailThread.Status.CLOSED}


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


# Support inbox --------------------------------------------------------------------------------


@transaction.atomic
def thread_create(
    *,
    subject: str,
    body: str,
    customer: User | None = None,
    external_email: str = "",
    order=None,
    priority: str = EmailThread.Priority.NORMAL,
    from_email: str = "",
    message_id: str = "",
) -> EmailThread:
    subject = validate_required_text(subject, field="subject", max_length=250)
    validate_choice(priority, EmailThread.Priority.choices, field="priority")
    external_email = (external_email or "").strip()
    if customer is None and not external_email:
        raise InvalidInput(
            "A thread needs a customer or an external email address.", code="required", field="external_email"
        )
    if external_email:
        external_email = validate_email_address(external_email, field="external_email")
    if order is not None and (customer is None or order.customer_id != customer.pk):
        raise InvalidInput("The order must be one of the customer's orders.", code="not_customer_order", field="order")
    thread = EmailThread.objects.create(
        customer=customer, external_email=external_email, subject=subject, priority=priority, order=order
    )
    thread_add_message(
        thread=thread,
        direction=EmailMessage.Direction.INBOUND,
        body=body,
        sender=customer,
        from_email=from_email,
        message_id=message_id,
    )
    thread.refresh_from_db()
    return thread


def _inbound_from_email(thread: EmailThread, sender: User | None, from_email: str) -> str:
    if sender is not None and sender.pk != thread.customer_id:
        raise NotFound("Thread not found.", field="thread")
    if from_email:
        return validate_email_address(from_email, field="from_email")
    if sender is not None:
        return sender.email
    if thread.external_email:
        return thread.external_email
    if thread.customer_id:
        return thread.customer.email
    raise InvalidInput("from_email is required.", code="required", field="from_email")


def _thread_message_ids(thread: EmailThread) -> list[str]:
    """The thread's mails so far, oldest first: a reply's References."""
    return list(thread.messages.exclude(message_id="").values_list("message_id", flat=True))


def _send_reply(message_pk: int) -> None:
    message = EmailMessage.objects.select_related("thread").get(pk=message_pk)
    earlier = [known for known in _thread_message_ids(message.thread) if known != message.message_id]
    mail.send_quietly(
        mail.reply_mail(
            subject=message.thread.subject,
            body=message.body,
            to_email=message.to_email,
            message_id=message.message_id,
            references=earlier,
        )
    )


@transaction.atomic
def thread_add_message(
    *,
    thread: EmailThread,
    direction: str,
    body: str,
    sender: User | None = None,
    from_email: str = "",
    message_id: str = "",
    in_reply_to: str = "",
    seen_version: str | None = None,
    request_meta=None,
) -> EmailMessage:
    """Keeps the thread's counters in step under a row lock, so concurrent messages never lose a count.
    A customer writing again reopens a pending or closed thread; spam stays spam. A reply (outbound)
    is emailed to the customer once it commits, threaded on the thread's earlier mails."""
    validate_choice(direction, EmailMessage.Direction.choices, field="direction")
    body = validate_required_text(body, field="body")
    inbound = direction == EmailMessage.Direction.INBOUND
    if not inbound:
        require_platform_admin(sender)
    thread = EmailThread.objects.select_for_update(of=("self",)).select_related("customer").get(pk=thread.pk)
    ensure_unchanged(entity=thread, seen_version=seen_version)
    if inbound:
        message = EmailMessage.objects.create(
            thread=thread,
            direction=direction,
            sender=sender,
            from_email=_inbound_from_email(thread, sender, from_email),
            body=body,
            message_id=message_id,
            in_reply_to=in_reply_to,
        )
        thread.unread_count += 1
        if thread.status in REOPENED_BY_CUSTOMER:
            thread.status = EmailThread.Status.OPEN
    else:
        message = EmailMessage.objects.create(
            thread=thread,
            direction=direction,
            sender=sender,
            # The address the customer gets the mail from, never the admin's own: the customer reads this row.
            from_email=validate_email_address(from_email, field="from_email") if from_email else mail.support_address(),
            to_email=thread.customer.email if thread.customer_id else thread.external_email,
            body=body,
            message_id=mail.new_message_id(),
            in_reply_to=next(reversed(_thread_message_ids(thread)), ""),
        )
        activity_log_record(
            admin=sender,
            action="support.replied",
            category=AdminActivityLog.Category.CUSTOMER,
            entity=thread,
            details={"message": message.pk},
            request_meta=request_meta,
        )
        transaction.on_commit(partial(_send_reply, message.pk))
        if thread.customer_id:
            notification_create(
                user=thread.customer,
                type=Notification.Type.SUPPORT,
                title=_preview(f"Reply: {thread.subject}"),
                body=_preview(body),
                data={"thread_id": thread.pk, "message_id": message.pk},
            )
    thread.message_count += 1
    thread.last_message_at = message.created_at
    thread.save()
    return message


def _thread_for_mail(inbound: mail.InboundMail) -> EmailThread | None:
    """The thread a mail answers: by the Message-IDs it names, else the sender's latest thread
    with the same subject (mail programs that drop the headers)."""
    referenced = inbound.referenced_ids
    if referenced:
        known = (
            EmailMessage.objects.filter(message_id__in=referenced).select_related("thread").order_by("-created_at")
        ).first()
        if known is not None:
            return known.thread
    same_sender = Q(external_email__iexact=inbound.from_email) | Q(customer__email__iexact=inbound.from_email)
    return EmailThread.objects.filter(same_sender, subject__iexact=inbound.subject).first()


@transaction.atomic
def thread_receive_email(*, raw: bytes) -> EmailMessage:
    """A mail to the support address, raw RFC 822: lands in the thread it answers (re-opening it
    when closed) or opens a new one, from the customer whose account has the sender's address.
    The same mail delivered twice is stored once."""
    inbound = mail.parse_inbound(raw)
    if inbound.message_id:
        already = EmailMessage.objects.filter(message_id=inbound.message_id).first()
        if already is not None:
            return already
    customer = User.objects.filter(email__iexact=inbound.from_email, is_active=True).first()
    thread = _thread_for_mail(inbound)
    if thread is None:
        thread = thread_create(
            subject=inbound.subject[:250],
            body=inbound.body,
            customer=customer,
            external_email="" if customer else inbound.from_email,
            from_email=inbound.from_email,
            message_id=inbound.message_id,
        )
        return thread.messages.get()
    return thread_add_message(
        thread=thread,
        direction=EmailMessage.Direction.INBOUND,
        body=inbound.body,
        sender=customer if customer is not None and customer.pk == thread.customer_id else None,
        from_email=inbound.from_email,
        message_id=inbound.message_id,
        in_reply_to=inbound.in_reply_to,
    )


@transaction.atomic
def thread_note_add(
    *, actor: User, thread: EmailThread, body: str, seen_version: str | None = None, request_meta=None
) -> ThreadNote:
    """For the team only: never emailed, never in the customer's API or socket."""
    require_platform_admin(actor)
    body = validate_required_text(body, field="body", max_length=MESSAGE_MAX_LENGTH)
    thread = EmailThread.objects.select_for_update().get(pk=thread.pk)
    ensure_unchanged(entity=thread, seen_version=seen_version)
    note = ThreadNote.objects.create(thread=thread, author=actor, body=body)
    activity_log_record(
        admin=actor,
        action="support.note_added",
        category=AdminActivityLog.Category.CUSTOMER,
        entity=thread,
        details={"note": note.pk},
        request_meta=request_meta,
    )
    return note


@transaction.atomic
def thread_update(
    *,
    actor: User,
    thread: EmailThread,
    status=None,
    priority=None,
    assignee=...,
    seen_version: str | None = None,
    request_meta=None,
) -> EmailThread:
    """`assignee=None` unassigns; leaving it out keeps the current assignee."""
    require_platform_admin(actor)
    changes = {}
    if status is not None:
        changes["status"] = validate_choice(status, EmailThread.Status.choices, field="status")
    if priority is not None:
        changes["priority"] = validate_choice(priority, EmailThread.Priority.choices, field="priority")
    if assignee is not ...:
        if assignee is not None and not (assignee.is_staff and assignee.is_active):
            raise InvalidInput("Threads can only be assigned to platform admins.", code="not_admin", field="assignee")
        changes["assignee"] = assignee
    thread = EmailThread.objects.select_for_update().get(pk=thread.pk)
    ensure_unchanged(entity=thread, seen_version=seen_version)
    details = {}
    for name, value in changes.items():
        before = getattr(thread, name)
        if before != value:
            details[name] = {"from": getattr(before, "pk", before), "to": getattr(value, "pk", value)}
            setattr(thread, name, value)
    if details:
        thread.save()
        activity_log_record(
            admin=actor,
            action="support.thread_updated",
            category=AdminActivityLog.Category.CUSTOMER,
            entity=thread,
            details=details,
            request_meta=request_meta,
        )
    return thread


@transaction.atomic
def thread_mark_read(*, actor: User, thread: EmailThread) -> EmailThread:
    require_platform_admin(actor)
    thread = EmailThread.objects.select_for_update().get(pk=thread.pk)
    now = timezone.now()
    for message in thread.messages.filter(direction=EmailMessage.Direction.INBOUND, read_at__isnull=True):
        message.read_at = now
        message.save(update_fields=["read_at"])
    if thread.unread_count:
        thread.unread_count = 0
        thread.save(update_fields=["unread_count", "updated_at"])
    return thread


def _save_template(template: EmailTemplate) -> EmailTemplate:
    # The savepoint turns a name clash (even one committed a moment ago by another admin) into a Conflict.
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Conflict("A template with this name already exists.", code="name_taken", field="name") from None
    return template


def _log_template(actor: User, template: EmailTemplate, action: str, request_meta) -> None:
    activity_log_record(
        admin=actor,
        action=action,
        category=AdminActivityLog.Category.SETTINGS,
        entity=template,
        details={"name": template.name},
        request_meta=request_meta,
    )


@transaction.atomic
def email_template_create(
    *, actor: User, name: str, subject: str, body: str, is_active: bool = True, request_meta=None
) -> EmailTemplate:
    require_platform_admin(actor)
    template = EmailTemplate(
        name=validate_required_text(name, field="name", max_length=100),
        subject=validate_required_text(subject, field="subject", max_length=250),
        body=validate_required_text(body, field="body"),
        is_active=bool(is_active),
        created_by=actor,
    )
    _save_template(template)
    _log_template(actor, template, "support.template_created", request_meta)
    return template


@transaction.atomic
def email_template_update(
    *, actor: User, template: EmailTemplate, seen_version: str | None = None, request_meta=None, **fields
) -> EmailTemplate:
    require_platform_admin(actor)
    unknown = sorted(set(fields) - set(TEMPLATE_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be changed here.", code="unknown_field", field=unknown[0])
    template = EmailTemplate.objects.select_for_update().get(pk=template.pk)
    ensure_unchanged(entity=template, seen_version=seen_version)
    if "name" in fields:
        template.name = validate_required_text(fields["name"], field="name", max_length=100)
    if "subject" in fields:
        template.subject = validate_required_text(fields["subject"], field="subject", max_length=250)
    if "body" in fields:
        template.body = validate_required_text(fields["body"], field="body")
    if "is_active" in fields:
        template.is_active = bool(fields["is_active"])
    _save_template(template)
    _log_template(actor, template, "support.template_updated", request_meta)
    return template


# Customer ↔ vendor conversations --------------------------------------------------------------


def _is_vendor_side(user: User, conversation: Conversation) -> bool:
    return VendorStaff.objects.filter(user=user, vendor_id=conversation.vendor_id).exists()


def _require_participant(user: User, conversation: Conversation) -> None:
    """Outsiders get a 404, so they cannot even learn the conversation exists."""
    if user.pk != conversation.customer_id and not _is_vendor_side(user, conversation):
        raise NotFound("Conversation not found.", field="conversation")


@transaction.atomic
def conversation_start(
    *, customer: User, vendor: Vendor, order=None, subject: str = "", body: str | None = None
) -> Conversation:
    """One conversation per customer, vendor and order: starting again returns the existing one."""
    if not vendor.is_active:
        raise NotFound("Vendor not found.", field="vendor")
    if order is not None and (order.customer_id != customer.pk or order.vendor_id != vendor.pk):
        raise InvalidInput("The order must be yours and from this vendor.", code="order_mismatch", field="order")
    subject = validate_optional_text(subject, field="subject", max_length=200)
    conversation, _created = Conversation.objects.get_or_create(
        customer=customer, vendor=vendor, order=order, defaults={"subject": subject}
    )
    if body is not None:
        conversation_send_message(conversation=conversation, sender=customer, body=body)
    return conversation


def _photos_preview(count: int) -> str:
    return "Sent a photo." if count == 1 else f"Sent {count} photos."


def _clean_attachments(attachments: Sequence[File]) -> list[File]:
    if len(attachments) > MESSAGE_ATTACHMENTS_MAX:
        raise InvalidInput(
            f"A message can carry at most {MESSAGE_ATTACHMENTS_MAX} images.", code="too_many", field="attachments"
        )
    return [clean_image(upload, field="attachments") for upload in attachments]


def _attachment_create(message: Message, image: File) -> MessageAttachment:
    image.seek(0)
    with Image.open(image) as probe:
        content_type, (width, height) = Image.MIME[probe.format], probe.size
    return MessageAttachment.objects.create(
        message=message,
        file=image,
        thumbnail=make_thumbnail(image),
        content_type=content_type,
        size=image.size,
        width=width,
        height=height,
    )


@contextmanager
def _files_removed_unless_written(attachments: list[MessageAttachment]):
    """Storage is not transactional: when the message is not written, its files go too."""
    try:
        yield
    except BaseException:
        for attachment in attachments:
            attachment.file.delete(save=False)
            attachment.thumbnail.delete(save=False)
        raise


def conversation_send_message(
    *, conversation: Conversation, sender: User, body: str = "", attachments: Sequence[File] = ()
) -> Message:
    """Text, images or both. Images are cleaned (zora/uploads.py: checked by content, metadata
    stripped) before anything is written, and stored privately with a thumbnail."""
    _require_participant(sender, conversation)
    body = validate_optional_text(body, field="body", max_length=MESSAGE_MAX_LENGTH)
    images = _clean_attachments(attachments)
    if not body and not images:
        raise InvalidInput("Write a message or attach an image.", code="required", field="body")
    stored: list[MessageAttachment] = []
    with _files_removed_unless_written(stored), transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("customer", "vendor")
            .get(pk=conversation.pk)
        )
        message = Message.objects.create(conversation=locked, sender=sender, body=body)
        locked.last_message_at = message.created_at
        locked.save(update_fields=["last_message_at", "updated_at"])
        conversation.last_message_at = locked.last_message_at
        notice = {
            "type": Notification.Type.SUPPORT,
            "body": _preview(body or _photos_preview(len(images))),
            "data": {"conversation_id": locked.pk},
        }
        if sender.pk == locked.customer_id:
            notification_create_for_vendor_staff(
                vendor=locked.vendor,
                title=_preview(f"New message from {locked.customer.get_full_name()}"),
                action_url=reverse("vendor:conversation", kwargs={"pk": locked.pk}),
                **notice,
            )
        else:
            notification_create(
                user=locked.customer, title=_preview(f"New message from {locked.vendor.name}"), **notice
            )
        for image in images:
            stored.append(_attachment_create(message, image))
    return message


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, reader: User) -> int:
    """Read receipts: the reader marks what the other side wrote."""
    _require_participant(reader, conversation)
    messages = conversation.messages.select_for_update().filter(read_at__isnull=True)
    if reader.pk == conversation.customer_id:
        messages = messages.exclude(sender_id=conversation.customer_id)
    else:
        messages = messages.filter(sender_id=conversation.customer_id)
    now = timezone.now()
    unread = list(messages)
    for message in unread:
        message.read_at = now
        message.save(update_fields=["read_at"])
    return len(unread)
