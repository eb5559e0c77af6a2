"""Reads for the support inbox and customer ↔ vendor conversations."""

from django.db.models import Count, F, Q, QuerySet

from accounts.models import User
from vendors.access import user_vendor

from .models import Conversation, EmailThread


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
    )
