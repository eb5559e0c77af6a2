"""Reads for the support inbox and customer ↔ vendor conversations."""

import re

from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from accounts.models import User
from vendors.access import user_vendor

from .models import SEARCH_CONFIG, Conversation, EmailThread, Message, MessageAttachment, message_search_document

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
    *, status: str | None = None, priority: str | None = None, assignee: User | None = None, search: str = ""
) -> QuerySet[EmailThread]:
    threads = EmailThread.objects.select_related("customer", "assignee", "order")
    if status:
        threads = threads.filter(status=status)
    if priority:
        threads = threads.filter(priority=priority)
    if assignee is not None:
        threads = threads.filter(assignee=assignee)
    if search:
        threads = threads.filter(
            Q(subject__icontains=search) | Q(external_email__icontains=search) | Q(customer__email__icontains=search)
        )
    return threads


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
