"""Reads for the support inbox and customer ↔ vendor conversations."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact
from django.db import connection
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from vendors.access import user_vendor

from .models import (
    SEARCH_CONFIG,
    Conversation,
    EmailMessage,
    EmailTemplate,
    EmailThread,
    Message,
    MessageAttachment,
    ThreadNote,
    message_search_document,
)

# A conversation aggregated for its unread count loses the model's ordering; a new one has no message yet.
LATEST_FIRST = (F("last_message_at").desc(nulls_last=True), "-id")
SEARCH_TERM = re.compile(r"\w+")
SEARCH_TERMS_MAX = 8


class Side:
    """Whose view of a conversation: the customer's or the shop's."""

    CUSTOMER = "customer"
    VENDOR = "vendor"
    choices = [(CUSTOMER, CUSTOMER), (VENDOR, VENDOR)]


def thread_list_for_customer(*, customer: User) -> QuerySet[EmailThread]:
    return EmailThread.objects.filter(customer=customer).select_related("order")


def thread_list_for_admin(
    *,
    status: str | None = None,
    priority: str | None = None,
    assignee: User | None = None,
    unassigned: bool = False,
    search: str = "",
) -> QuerySet[EmailThread]:
    """Each with `first_response_at`: when the team first replied, None while nobody has."""
    threads = EmailThread.objects.select_related("customer", "assignee", "order").annotate(
        first_response_at=Min("messages__created_at", filter=Q(messages__direction=EmailMessage.Direction.OUTBOUND))
    )
    if status:
        threads = threads.filter(status=status)
    if priority:
        threads = threads.filter(priority=priority)
    if assignee is not None:
        threads = threads.filter(assignee=assignee)
    if unassigned:
        threads = threads.filter(assignee__isnull=True)
    if search:
        threads = threads.filter(
            Q(subject__icontains=search) | Q(external_email__icontains=search) | Q(customer__email__icontains=search)
        )
    return threads


class ResponseState:
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    BREACHED = "breached"
    ANSWERED = "answered"
    ANSWERED_LATE = "answered_late"


# "Due soon" is the last quarter of the time a priority allows to the first reply.
DUE_SOON_SHARE = 0.25
WAITING_STATUSES = {EmailThread.Status.OPEN, EmailThread.Status.PENDING}


@dataclass(frozen=True)
class FirstResponse:
    due_at: datetime
    state: str

    @property
    def is_urgent(self) -> bool:
        return self.state in (ResponseState.DUE_SOON, ResponseState.BREACHED)


def first_response(thread: EmailThread, now: datetime | None = None) -> FirstResponse | None:
    """The first-response target of a thread annotated by `thread_list_for_admin`; None for spam, and
    for threads closed without a reply (nobody is waiting)."""
    allowed = timedelta(hours=settings.SUPPORT_FIRST_RESPONSE_HOURS[thread.priority])
    due_at = thread.created_at + allowed
    answered_at = thread.first_response_at
    if answered_at is not None:
        return FirstResponse(due_at, ResponseState.ANSWERED if answered_at <= due_at else ResponseState.ANSWERED_LATE)
    if thread.status not in WAITING_STATUSES:
        return None
    now = now or timezone.now()
    if now > due_at:
        return FirstResponse(due_at, ResponseState.BREACHED)
    if due_at - now <= allowed * DUE_SOON_SHARE:
        return FirstResponse(due_at, ResponseState.DUE_SOON)
    return FirstResponse(due_at, ResponseState.ON_TIME)


@dataclass(frozen=True)
class ThreadEntry:
    """One line of a thread as the team sees it: a message either way, or an internal note."""

    at: datetime
    kind: str  # "inbound", "outbound" or "note"
    author: str
    body: str
    address: str = ""


def thread_timeline(*, thread: EmailThread) -> list[ThreadEntry]:
    entries = [
        ThreadEntry(
            message.created_at,
            message.direction,
            message.sender.get_full_name() if message.sender else message.from_email,
            message.body,
            message.from_email if message.direction == EmailMessage.Direction.INBOUND else message.to_email,
        )
        for message in thread.messages.select_related("sender")
    ]
    entries += [
        ThreadEntry(note.created_at, "note", note.author.get_full_name() if note.author else "Zora", note.body)
        for note in ThreadNote.objects.filter(thread=thread).select_related("author")
    ]
    return sorted(entries, key=lambda entry: entry.at)


PLACEHOLDER = re.compile(r"\{(customer_name|order_number|admin_name)\}")


def template_filled(*, template: EmailTemplate, thread: EmailThread, admin: User) -> str:
    """The quick reply's body for this thread; a placeholder with nothing to fill is left visible to edit."""
    customer = thread.customer
    values = {
        "customer_name": (customer.get_full_name() if customer else "") or "there",
        "order_number": thread.order.number if thread.order_id else "",
        "admin_name": admin.get_full_name(),
    }
    return PLACEHOLDER.sub(lambda match: values[match[1]] or match[0], template.body)


def conversation_list_for_customer(*, customer: User) -> QuerySet[Conversation]:
    """Each with `unread`: the vendor's messages the customer has not read."""
    return (
        Conversation.objects.filter(customer=customer)
        .select_related("vendor", "order")
        .annotate(unread=Count("messages", filter=Q(messages__read_at__isnull=True) & ~Q(messages__sender=customer)))
        .order_by(*LATEST_FIRST)
    )


def conversation_list_for_vendor_staff(*, user: User) -> QuerySet[Conversation]:
    """The conversations of the vendor the user works for, each with `unread`: the customer's unread messages."""
    vendor = user_vendor(user=user)
    if vendor is None:
        return Conversation.objects.none()
    return (
        Conversation.objects.filter(vendor=vendor)
        .select_related("customer", "order")
        .annotate(
            unread=Count(
                "messages",
                filter=Q(messages__read_at__isnull=True) & Q(messages__sender_id=F("customer_id")),
            )
        )
        .order_by(*LATEST_FIRST)
    )


def conversation_list(*, user: User, side: str) -> QuerySet[Conversation]:
    if side == Side.VENDOR:
        return conversation_list_for_vendor_staff(user=user)
    return conversation_list_for_customer(customer=user)


def _term_matches(term: str) -> Q:
    """Conversations where the customer's name, the subject, the order number or any message has `term`.

    PostgreSQL matches words by prefix ("glut" finds "gluten-free"), the messages through their
    GIN index; SQLite, the embedded default, has no full-text search and matches substrings.
    """
    if connection.vendor == "postgresql":
        words = SearchQuery(f"{term}:*", search_type="raw", config=SEARCH_CONFIG)
        heading = SearchVector("customer__full_name", "subject", "order__number", config=SEARCH_CONFIG)
        in_heading = Q(SearchVectorExact(heading, words))
        messages = Message.objects.annotate(document=message_search_document()).filter(document=words)
    else:
        in_heading = (
            Q(customer__full_name__icontains=term) | Q(subject__icontains=term) | Q(order__number__icontains=term)
        )
        messages = Message.objects.filter(body__icontains=term)
    return in_heading | Q(pk__in=messages.values("conversation_id"))


def conversation_search(*, user: User, query: str, side: str = Side.VENDOR) -> QuerySet[Conversation]:
    """The user's conversations (the shop's, or their own as a customer) where every word of `query`
    appears somewhere: "smith gluten" finds Ms Smith's conversation about gluten."""
    conversations = conversation_list(user=user, side=side)
    for term in SEARCH_TERM.findall(query)[:SEARCH_TERMS_MAX]:
        conversations = conversations.filter(_term_matches(term))
    return conversations


def with_last_message(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Each with `last_body` and `last_sender_id`: the line a list shows under the name."""
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id")
    return conversations.annotate(
        last_body=Subquery(latest.values("body")[:1]), last_sender_id=Subquery(latest.values("sender_id")[:1])
    )


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """The thread, oldest first, with what each message needs to be shown."""
    return conversation.messages.select_related("sender").prefetch_related("attachments")


def attachments_visible_to(*, user: User) -> QuerySet[MessageAttachment]:
    """Chat images are private: the conversation's customer, the shop's team and platform admins see them."""
    if user.is_staff and user.is_active:
        return MessageAttachment.objects.all()
    visible = Q(message__conversation__customer=user)
    vendor = user_vendor(user=user)
    if vendor is not None:
        visible |= Q(message__conversation__vendor=vendor)
    return MessageAttachment.objects.filter(visible).select_related("message__conversation")
