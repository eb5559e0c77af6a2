"""Sign-up, sign-in and sign-out with device tokens; the profile; the notification inbox."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import selectors, services
from accounts.models import ApiToken, Profile
from zora.api import ApiView, MarkedReadSerializer, error_responses
from zora.errors import InvalidInput
from zora.pagination import PageNumberPagination
from zora.preconditions import IF_MATCH_PARAMETER, answering_stale_writes, seen_version
from zora.throttling import AuthEmailRateThrottle, AuthIPRateThrottle, WriteRateThrottle

from .serializers import (
    DetailSerializer,
    DeviceSerializer,
    LoginSerializer,
    MeSerializer,
    NotificationQuerySerializer,
    NotificationSerializer,
    PasswordChangedSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    ProfileInputSerializer,
    RegisterSerializer,
    TokenSerializer,
)


def _profile(user) -> Profile:
    """Accounts made outside sign-up (e.g. by an admin) may have no profile row yet."""
    return Profile.objects.select_related("user__vendor_membership__vendor").filter(user=user).first() or Profile(
        user=user
    )


class _SignInEndpoint(ApiView):
    """Open to anyone, throttled per address and per email; a stale token on the device must not block it."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthIPRateThrottle, AuthEmailRateThrottle, WriteRateThrottle]
    serializer_class = TokenSerializer

    def render_token(self, user, device_name: str, status_code: int) -> Response:
        _token, key = services.api_token_create(user=user, name=device_name)
        return self.render({"token": key, "user": _profile(user)}, status_code=status_code)


class RegisterView(_SignInEndpoint):
    @extend_schema(
        operation_id="auth_register",
        summary="Create an account and sign this device in",
        request=RegisterSerializer,
        responses={201: TokenSerializer, **error_responses(400, 409, 429)},
        auth=[],
    )
    def post(self, request):
        data = self.validated(RegisterSerializer, request.data)
        device_name = data.pop("device_name", "")
        user = services.user_register(**data)
        return self.render_token(user, device_name, status.HTTP_201_CREATED)


class TokenView(_SignInEndpoint):
    @extend_schema(
        operation_id="auth_token",
        summary="Sign in: a new token for this device",
        request=LoginSerializer,
        responses={200: TokenSerializer, **error_responses(400, 403, 429)},
        auth=[],
    )
    def post(self, request):
        data = self.validated(LoginSerializer, request.data)
        user = services.user_authenticate(email=data["email"], password=data["password"])
        return self.render_token(user, data.get("device_name", ""), status.HTTP_200_OK)


class LogoutView(ApiView):
    @extend_schema(
        operation_id="auth_logout",
        summary="Sign this device out: revokes the token the request was made with",
        request=None,
        responses={204: None, **error_responses(400, 401, 429)},
    )
    def post(self, request):
        token = _request_token(request)
        if token is None:
            raise InvalidInput("Only a request made with a Bearer token can sign it out.", code="no_token")
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _request_token(request) -> ApiToken | None:
    """The device token this request was made with (None for a session or no token)."""
    if not isinstance(request.auth, str):
        return None
    return ApiToken.objects.filter(user=request.user, key_hash=ApiToken.hash_key(request.auth)).first()


class PasswordChangeView(ApiView):
    serializer_class = PasswordChangedSerializer

    @extend_schema(
        operation_id="auth_password_change",
        summary="Change my password: every other device is signed out",
        request=PasswordChangeSerializer,
        responses={200: PasswordChangedSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request):
        data = self.validated(PasswordChangeSerializer, request.data)
        signed_out = services.user_change_password(user=request.user, keep=_request_token(request), **data)
        return self.render({"signed_out_devices": signed_out})


class PasswordResetRequestView(ApiView):
    """Open to anyone and throttled like sign-in; the answer is the same whether the account exists."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthIPRateThrottle, AuthEmailRateThrottle, WriteRateThrottle]
    serializer_class = DetailSerializer

    @extend_schema(
        operation_id="auth_password_reset",
        summary="Email me a password reset link",
        request=PasswordResetRequestSerializer,
        responses={202: DetailSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request):
        data = self.validated(PasswordResetRequestSerializer, request.data)
        services.password_reset_request(email=data["email"], domain=request.get_host(), use_https=request.is_secure())
        detail = "If an account uses this address, a reset link is on its way."
        return self.render({"detail": detail}, status_code=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(ApiView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthIPRateThrottle, WriteRateThrottle]
    serializer_class = DetailSerializer

    @extend_schema(
        operation_id="auth_password_reset_confirm",
        summary="Set a new password with the reset link's uid and token; every device is signed out",
        request=PasswordResetConfirmSerializer,
        responses={200: DetailSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request):
        services.password_reset_confirm(**self.validated(PasswordResetConfirmSerializer, request.data))
        return self.render({"detail": "Password changed. Sign in with the new one."})


class DeviceListView(ApiView):
    serializer_class = DeviceSerializer

    def get_serializer_context(self):
        token = _request_token(self.request)
        return {**super().get_serializer_context(), "current_token_id": token.pk if token else None}

    @extend_schema(
        operation_id="auth_devices_list", responses={200: DeviceSerializer(many=True), **error_responses(400, 401)}
    )
    def get(self, request):
        return self.render_page(selectors.signed_in_devices(user=request.user))


class DeviceView(ApiView):
    serializer_class = DeviceSerializer

    @extend_schema(
        operation_id="auth_devices_revoke",
        summary="Sign one of my devices out (its open sockets are closed)",
        responses={204: None, **error_responses(401, 404, 429)},
    )
    def delete(self, request, pk):
        services.api_token_revoke_device(user=request.user, token_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(ApiView):
    serializer_class = MeSerializer

    @extend_schema(operation_id="me_retrieve", responses={200: MeSerializer, **error_responses(401)})
    def get(self, request):
        return self.render(_profile(request.user))

    @extend_schema(
        operation_id="me_update",
        summary="Change my name, phone, avatar or default delivery address",
        description="With `If-Match` or `expected_updated_at` (the profile's `updated_at`): 409 `stale_version` "
        "if another device changed the profile since, with the profile as it is in `error.details.current`.",
        parameters=[IF_MATCH_PARAMETER],
        request=ProfileInputSerializer(partial=True),
        responses={200: MeSerializer, **error_responses(400, 401, 409, 429)},
    )
    def patch(self, request):
        serializer = ProfileInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        seen = seen_version(request, changes)
        with answering_stale_writes(request, lambda: self.get_serializer(_profile(request.user)).data):
            services.profile_update(user=request.user, seen_version=seen, **changes)
        return self.render(_profile(request.user))


class NotificationPagination(PageNumberPagination):
    """A page of notifications carries the unread count, for the app's badge."""

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread_count"] = {"type": "integer", "example": 3}
        paginated["required"].append("unread_count")
        return paginated


class NotificationListView(ApiView):
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    @extend_schema(
        operation_id="notifications_list",
        parameters=[NotificationQuerySerializer],
        responses={200: NotificationSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        query = self.validated_query(NotificationQuerySerializer)
        response = self.render_page(selectors.notification_list(user=request.user, unread_only=query["unread"]))
        response.data["unread_count"] = selectors.notification_unread_count(user=request.user)
        return response


class NotificationReadView(ApiView):
    serializer_class = NotificationSerializer

    @extend_schema(
        operation_id="notifications_read",
        request=None,
        responses={200: NotificationSerializer, **error_responses(401, 404, 429)},
    )
    def post(self, request, pk):
        return self.render(services.notification_mark_read(user=request.user, notification_id=pk))


class NotificationReadAllView(ApiView):
    serializer_class = MarkedReadSerializer

    @extend_schema(
        operation_id="notifications_read_all",
        request=None,
        responses={200: MarkedReadSerializer, **error_responses(401, 429)},
    )
    def post(self, request):
        return self.render({"marked": services.notification_mark_all_read(user=request.user)})
