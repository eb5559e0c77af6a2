from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models

from zora.uploads import RandomName, private_storage

# No stemming and no stop words: names, order numbers and other languages match as typed.
SEARCH_CONFIG = "simple"


def message_search_document() -> SearchVector:
    """What message search matches; the GIN index is built on this same expression, so searches can use it."""
    return SearchVector("body", config=SEARCH_CONFIG)


class EmailThread(models.Model):
    """A support conversation by email; counters and last-message time are kept by the service."""

    class Status(models.TextChoices):
        OPEN = "open"
        PENDING = "pending"
        CLOSED = "closed"
        SPAM = "spam"

    class Priority(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"
        URGENT = "urgent"

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="email_threads"
    )
    external_email = models.EmailField(blank=True, help_text="Sender address when the writer has no account.")
    subject = models.CharField(max_length=250)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_threads"
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="email_threads"
    )
    message_count = models.PositiveIntegerField(default=0)
    unread_count = models.PositiveIntegerField(default=0, help_text="Inbound messages the support team has not read.")
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | ~models.Q(external_email=""),
                name="thread_has_customer_or_email",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-last_message_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["customer", "-last_message_at"]),
        ]

    def __str__(self):
        return self.subject


class EmailMessage(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"

    thread = models.ForeignKey(EmailThread, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_email = models.EmailField()
    to_email = models.EmailField(blank=True)
    body = models.TextField()
    message_id = models.CharField(
        max_length=255, blank=True, help_text="The mail's Message-ID header, with its angle brackets."
    )
    in_reply_to = models.CharField(max_length=255, blank=True, help_text="The Message-ID this mail answered.")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at"])]
        constraints = [
            # A mail delivered twice (mailbox retries) is stored once; messages written in the app have none.
            models.UniqueConstraint(
                fields=["message_id"], condition=~models.Q(message_id=""), name="email_message_id_unique"
            )
        ]

    def __str__(self):
        return f"{self.direction} from {self.from_email}"


class ThreadNote(models.Model):
    """A note the support team leaves on a thread for each other: never emailed, never shown to the customer."""

    thread = models.ForeignKey(EmailThread, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.body[:40]


class EmailTemplate(models.Model):
    """A quick reply the support team can start from."""

    name = models.CharField(max_length=100, unique=True)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Conversation(models.Model):
    """Customer ↔ vendor chat, usually about an order."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="conversations")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    subject = models.CharField(max_length=200, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "vendor", "order"],
                condition=models.Q(order__isnull=False),
                name="one_conversation_per_order",
            ),
            models.UniqueConstraint(
                fields=["customer", "vendor"],
                condition=models.Q(order__isnull=True),
                name="one_general_conversation_per_vendor",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-last_message_at"]),
            models.Index(fields=["vendor", "-last_message_at"]),
        ]

    def __str__(self):
        return f"{self.customer} ↔ {self.vendor}"


class Message(models.Model):
    """Text, images (attachments), or both; the service refuses a message with neither."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages")
    body = models.TextField(blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the other side read it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            # Full-text search (support/selectors.py); created on PostgreSQL only.
            GinIndex(message_search_document(), name="message_body_search"),
        ]

    def __str__(self):
        return self.body[:40] or "(image)"


class MessageAttachment(models.Model):
    """An image sent in a chat, cleaned on upload and kept in private storage: only the
    conversation's customer, the shop's team and platform admins may fetch it, through a view."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=private_storage, upload_to=RandomName("chat"), max_length=200)
    thumbnail = models.FileField(storage=private_storage, upload_to=RandomName("chat/thumbnails"), max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField(help_text="Bytes of the stored (cleaned) image.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.content_type} on message {self.message_id}"
