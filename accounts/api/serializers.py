"""Shapes of accounts, profiles and notifications in the mobile API."""

from rest_framework import serializers

from accounts.models import ApiToken, Notification, Profile
from zora.api import coordinate_field
from zora.preconditions import ExpectedVersionSerializer


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="vendor_id")
    slug = serializers.CharField(source="vendor.slug")
    role = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user with their profile, flattened for the app."""

    id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    phone = serializers.CharField(source="user.phone")
    vendor = MembershipSerializer(
        source="user.vendor_membership", allow_null=True, help_text="The shop this user works for, if any."
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The profile's version, for `expected_updated_at`."
    )

    class Meta:
        model = Profile
        fields = [
            "id",
            "email",
            "full_name",
            "phone",
            "avatar_url",
            "default_address",
            "default_lat",
            "default_lng",
            "vendor",
            "updated_at",
        ]


class ProfileInputSerializer(ExpectedVersionSerializer):
    full_name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=32, allow_blank=True)
    avatar_url = serializers.URLField(max_length=200, allow_blank=True)
    default_address = serializers.CharField(max_length=1000, allow_blank=True)
    default_lat = coordinate_field(90, allow_null=True)
    default_lng = coordinate_field(180, allow_null=True)


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    device_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Names the token, e.g. 'iPhone'."
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`; shown only this once.")
    user = MeSerializer()


def _password(**kwargs):
    return serializers.CharField(max_length=128, write_only=True, trim_whitespace=False, **kwargs)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password()
    new_password = _password(help_text="Checked by the same rules as at sign-up.")


class PasswordChangedSerializer(serializers.Serializer):
    signed_out_devices = serializers.IntegerField(help_text="Other devices signed out; this one stays signed in.")


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="From the reset link: /accounts/password/reset/<uid>/<token>/")
    token = serializers.CharField(max_length=128)
    new_password = _password()


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class DeviceSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="The device this request was made with.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "current"]

    def get_current(self, token) -> bool:
        return token.pk == self.context.get("current_token_id")


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "type", "title", "body", "action_url", "data", "read_at", "created_at"]


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False, default=False, help_text="Only unread notifications.")
