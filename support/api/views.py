"""Support threads (customer ↔ Zora), inbound support mail, and chat (customer ↔ shop)."""

import hmac

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, status
from rest_framework.parsers import BaseParser, MultiPartParser

from orders.models import Order
from support import selectors, services
from support.downloads import attachment_response
from support.models import Conversation, EmailMessage
from vendors.access import user_vendor
from vendors.models import Vendor
from zora.api import ApiView, JsonParser, MarkedReadSerializer, error_responses, object_or_404
from zora.errors import InvalidInput

from .serializers import (
    AttachmentQuerySerializer,
    AttachmentSize,
    ChatMessageInputSerializer,
    ChatMessageSerializer,
    ConversationInputSerializer,
    ConversationQuerySerializer,
    ConversationSerializer,
    InboundMailResultSerializer,
    MessageInputSerializer,
    SupportMessageSerializer,
    SupportThreadInputSerializer,
    SupportThreadSerializer,
)

LIST_ERRORS = error_responses(400, 401)
WRITE_ERRORS = error_responses(400, 401, 404, 409, 422, 429)


def _own_order(user, order_id):
    if order_id is None:
        return None
    return object_or_404(Order.objects.filter(customer=user), pk=order_id, message="No such order.", field="order")


# Support threads ------------------------------------------------------------------------------


def _own_thread(user, thread_id):
    return object_or_404(
        selectors.thread_list_for_customer(customer=user), pk=thread_id, message="No such thread.", field="thread"
    )


class SupportThreadListView(ApiView):
    serializer_class = SupportThreadSerializer

    @extend_schema(
        operation_id="support_threads_list", responses={200: SupportThreadSerializer(many=True), **LIST_ERRORS}
    )
    def get(self, request):
        return self.render_page(selectors.thread_list_for_customer(customer=request.user))

    @extend_schema(
        operation_id="support_threads_create",
        summary="Write to Zora support (optionally about one of my orders)",
        request=SupportThreadInputSerializer,
        responses={201: SupportThreadSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = self.validated(SupportThreadInputSerializer, request.data)
        thread = services.thread_create(
            subject=data["subject"],
            body=data["body"],
            customer=request.user,
            order=_own_order(request.user, data.get("order")),
        )
        return self.render(thread, status_code=status.HTTP_201_CREATED)


class SupportThreadMessagesView(ApiView):
    serializer_class = SupportMessageSerializer

    @extend_schema(
        operation_id="support_threads_messages_list",
        responses={200: SupportMessageSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, pk):
        return self.render_page(_own_thread(request.user, pk).messages.all())

    @extend_schema(
        operation_id="support_threads_messages_create",
        request=MessageInputSerializer,
        responses={201: SupportMessageSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        thread = _own_thread(request.user, pk)
        data = self.validated(MessageInputSerializer, request.data)
        message = services.thread_add_message(
            thread=thread, direction=EmailMessage.Direction.INBOUND, body=data["body"], sender=request.user
        )
        return self.render(message, status_code=status.HTTP_201_CREATED)


# Inbound support mail -------------------------------------------------------------------------

INBOUND_MAIL_MAX_BYTES = 10 * 1024 * 1024


class RawMailParser(BaseParser):
    """The body as sent: the mail's bytes, untouched, for the `email` package to read."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(INBOUND_MAIL_MAX_BYTES + 1) if stream is not None else b""


class InboundTokenAuthentication(authentication.BaseAuthentication):
    """The mail relay's shared secret (SUPPORT_INBOUND_TOKEN); with none configured, nothing gets in."""

    keyword = "Bearer"

    def authenticate(self, request):
        expected = settings.SUPPORT_INBOUND_TOKEN
        if not expected:
            raise exceptions.AuthenticationFailed("Inbound mail is switched off: SUPPORT_INBOUND_TOKEN is not set.")
        parts = authentication.get_authorization_header(request).split()
        given = parts[1] if len(parts) == 2 and parts[0].lower() == b"bearer" else b""
        if not given or not hmac.compare_digest(given, expected.encode()):
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <SUPPORT_INBOUND_TOKEN>'.")
        return AnonymousUser(), None

    def authenticate_header(self, request):
        return f'{self.keyword} realm="support-inbound"'


def _raw_mail(request) -> bytes:
    data = request.data
    if isinstance(data, bytes):
        raw = data
    else:
        upload = request.FILES.get("message")
        raw = upload.read(INBOUND_MAIL_MAX_BYTES + 1) if upload is not None else data.get("message", "")
        raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > INBOUND_MAIL_MAX_BYTES:
        raise InvalidInput(
            f"The message is larger than {INBOUND_MAIL_MAX_BYTES // (1024 * 1024)} MB.",
            code="too_large",
            field="message",
        )
    return raw


class SupportInboundMailView(ApiView):
    """For the mail relay in front of the support mailbox, not for the app."""

    serializer_class = InboundMailResultSerializer
    authentication_classes = [InboundTokenAuthentication]
    permission_classes = []
    parser_classes = [RawMailParser, MultiPartParser]

    @extend_schema(
        operation_id="support_inbound_mail",
        summary="Deliver a mail sent to the support address (raw RFC 822)",
        description="The body is the raw mail (`Content-Type: message/rfc822`), or a multipart form with the mail "
        "in the field `message`. It lands in the thread whose Message-IDs its In-Reply-To or References name, "
        "else in the sender's thread with the same subject, else opens a thread; a closed thread re-opens. "
        "Authenticated by `Authorization: Bearer <SUPPORT_INBOUND_TOKEN>`. The same Message-ID twice is stored once.",
        request={"message/rfc822": OpenApiTypes.BINARY, "multipart/form-data": OpenApiTypes.OBJECT},
        responses={201: InboundMailResultSerializer, **error_responses(400, 401, 429)},
        auth=[],
    )
    def post(self, request):
        message = services.thread_receive_email(raw=_raw_mail(request))
        return self.render(message, status_code=status.HTTP_201_CREATED)


# Chat -----------------------------------------------------------------------------------------


def _visible_conversation(user, conversation_id) -> Conversation:
    """The customer's own conversations and, for shop staff, the shop's."""
    vendor = user_vendor(user=user)
    visible = Q(customer=user) | Q(vendor=vendor) if vendor is not None else Q(customer=user)
    return object_or_404(
        Conversation.objects.filter(visible), pk=conversation_id, message="No such conversation.", field="conversation"
    )


class ConversationListView(ApiView):
    serializer_class = ConversationSerializer

    @extend_schema(
        operation_id="conversations_list",
        parameters=[ConversationQuerySerializer],
        responses={200: ConversationSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request):
        query = self.validated_query(ConversationQuerySerializer)
        return self.render_page(selectors.conversation_search(user=request.user, query=query["q"], side=query["side"]))

    @extend_schema(
        operation_id="conversations_create",
        summary="Start a chat with a shop (or get the existing one for that shop and order)",
        request=ConversationInputSerializer,
        responses={201: ConversationSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = self.validated(ConversationInputSerializer, request.data)
        vendor = object_or_404(
            Vendor.objects.filter(is_active=True), pk=data["vendor"], message="No such vendor.", field="vendor"
        )
        conversation = services.conversation_start(
            customer=request.user,
            vendor=vendor,
            order=_own_order(request.user, data.get("order")),
            subject=data.get("subject", ""),
            body=data.get("body"),
        )
        listed = selectors.conversation_list_for_customer(customer=request.user).get(pk=conversation.pk)
        return self.render(listed, status_code=status.HTTP_201_CREATED)


class ConversationMessagesView(ApiView):
    serializer_class = ChatMessageSerializer
    parser_classes = [JsonParser, MultiPartParser]

    @extend_schema(
        operation_id="conversations_messages_list",
        responses={200: ChatMessageSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, pk):
        conversation = _visible_conversation(request.user, pk)
        return self.render_page(selectors.conversation_messages(conversation=conversation))

    @extend_schema(
        operation_id="conversations_messages_create",
        summary="Send a message: text, images (multipart), or both",
        request=ChatMessageInputSerializer,
        responses={201: ChatMessageSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        conversation = _visible_conversation(request.user, pk)
        data = self.validated(ChatMessageInputSerializer, request.data)
        message = services.conversation_send_message(
            conversation=conversation, sender=request.user, body=data["body"], attachments=data["attachments"]
        )
        return self.render(message, status_code=status.HTTP_201_CREATED)


class ConversationReadView(ApiView):
    serializer_class = MarkedReadSerializer

    @extend_schema(
        operation_id="conversations_read",
        summary="Mark the other side's messages as read",
        request=None,
        responses={200: MarkedReadSerializer, **error_responses(401, 404, 429)},
    )
    def post(self, request, pk):
        conversation = _visible_conversation(request.user, pk)
        marked = services.conversation_mark_read(conversation=conversation, reader=request.user)
        return self.render({"marked": marked})


class MessageAttachmentView(ApiView):
    """Chat images are private: the conversation's customer, the shop's team and platform admins only."""

    serializer_class = AttachmentQuerySerializer

    def perform_content_negotiation(self, request, force=False):
        # Whatever image type the client accepts, it gets the stored one; refusals are JSON like the rest.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="message_attachments_retrieve",
        summary="An image sent in a chat, or its thumbnail",
        parameters=[AttachmentQuerySerializer],
        responses={(200, "image/*"): OpenApiTypes.BINARY, **error_responses(400, 401, 404)},
    )
    def get(self, request, pk):
        query = self.validated_query(AttachmentQuerySerializer)
        attachment = object_or_404(
            selectors.attachments_visible_to(user=request.user), pk=pk, message="No such image.", field="attachment"
        )
        return attachment_response(attachment, thumbnail=query["size"] == AttachmentSize.THUMBNAIL)
