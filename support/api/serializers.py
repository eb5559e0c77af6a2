"""Shapes of support threads and customer ↔ vendor chat in the mobile API."""

from django.urls import reverse
from rest_framework import serializers

from catalog.api.serializers import VendorSummarySerializer, public_name
from support.models import Conversation, EmailMessage, EmailThread, Message, MessageAttachment
from support.selectors import Side
from support.services import MESSAGE_ATTACHMENTS_MAX, MESSAGE_MAX_LENGTH
from zora.api import BIGINT_MAX


class OrderReferenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class PersonSerializer(serializers.Serializer):
    """Someone on the other side of a chat: a name, never an email address."""

    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return public_name(user)


class SupportThreadSerializer(serializers.ModelSerializer):
    order = OrderReferenceSerializer(allow_null=True)

    class Meta:
        model = EmailThread
        fields = ["id", "subject", "status", "order", "message_count", "last_message_at", "created_at"]


class SupportThreadInputSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=250)
    body = serializers.CharField(max_length=MESSAGE_MAX_LENGTH)
    order = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX)


class SupportMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmailMessage
        fields = ["id", "direction", "body", "created_at"]


class InboundMailResultSerializer(serializers.ModelSerializer):
    thread = serializers.IntegerField(source="thread_id", help_text="The thread the mail landed in.")
    thread_status = serializers.CharField(source="thread.status")

    class Meta:
        model = EmailMessage
        fields = ["id", "thread", "thread_status", "message_id", "created_at"]


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=MESSAGE_MAX_LENGTH)


class ConversationSerializer(serializers.ModelSerializer):
    vendor = VendorSummarySerializer()
    customer = PersonSerializer()
    order = OrderReferenceSerializer(allow_null=True)
    unread = serializers.IntegerField(help_text="Messages from the other side this user has not read.")

    class Meta:
        model = Conversation
        fields = ["id", "vendor", "customer", "order", "subject", "unread", "last_message_at", "created_at"]


class ConversationQuerySerializer(serializers.Serializer):
    side = serializers.ChoiceField(
        choices=Side.choices,
        default=Side.CUSTOMER,
        help_text="`customer`: my conversations with shops; `vendor`: my shop's conversations with customers.",
    )
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=200,
        help_text="Words to search for in the customer's name, the subject, the order number and the messages; "
        "each word must appear somewhere, matched from its start.",
    )


class ConversationInputSerializer(serializers.Serializer):
    vendor = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    order = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=200)
    body = serializers.CharField(required=False, max_length=MESSAGE_MAX_LENGTH)


class ChatMessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(required=False, default="", allow_blank=True, max_length=MESSAGE_MAX_LENGTH)
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=f"Up to {MESSAGE_ATTACHMENTS_MAX} images (JPEG, PNG, WebP or GIF), sent as multipart form data. "
        "A message needs a body, an image, or both.",
    )


class AttachmentSize:
    ORIGINAL = "original"
    THUMBNAIL = "thumbnail"
    choices = [(ORIGINAL, ORIGINAL), (THUMBNAIL, THUMBNAIL)]


class ChatAttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The image; fetched with the same sign-in as the API.")
    thumbnail_url = serializers.SerializerMethodField(help_text="A WebP at most 320 pixels on its long side.")

    class Meta:
        model = MessageAttachment
        fields = ["id", "content_type", "size", "width", "height", "url", "thumbnail_url"]

    def _url(self, attachment, size: str) -> str:
        path = reverse("message-attachment", kwargs={"pk": attachment.pk})
        return self.context["request"].build_absolute_uri(f"{path}?size={size}")

    def get_url(self, attachment) -> str:
        return self._url(attachment, AttachmentSize.ORIGINAL)

    def get_thumbnail_url(self, attachment) -> str:
        return self._url(attachment, AttachmentSize.THUMBNAIL)


class AttachmentQuerySerializer(serializers.Serializer):
    size = serializers.ChoiceField(choices=AttachmentSize.choices, default=AttachmentSize.ORIGINAL)


class ChatMessageSerializer(serializers.ModelSerializer):
    sender = PersonSerializer()
    mine = serializers.SerializerMethodField()
    attachments = ChatAttachmentSerializer(many=True)

    class Meta:
        model = Message
        fields = ["id", "sender", "mine", "body", "attachments", "read_at", "created_at"]

    def get_mine(self, message) -> bool:
        return message.sender_id == self.context["request"].user.pk
