"""Shapes of support threads and customer ↔ vendor chat in the mobile API."""

from rest_framework import serializers

from catalog.api.serializers import VendorSummarySerializer, public_name
from support.models import Conversation, EmailMessage, EmailThread, Message
from support.services import MESSAGE_MAX_LENGTH
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
        choices=[("customer", "customer"), ("vendor", "vendor")],
        default="customer",
        help_text="`customer`: my conversations with shops; `vendor`: my shop's conversations with customers.",
    )


class ConversationInputSerializer(serializers.Serializer):
    vendor = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    order = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=200)
    body = serializers.CharField(required=False, max_length=MESSAGE_MAX_LENGTH)


class ChatMessageSerializer(serializers.ModelSerializer):
    sender = PersonSerializer()
    mine = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "sender", "mine", "body", "read_at", "created_at"]

    def get_mine(self, message) -> bool:
        return message.sender_id == self.context["request"].user.pk
