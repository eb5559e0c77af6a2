"""Shapes of vendors and vendor applications in the mobile API."""

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import MediaUrlField, RatingSerializer
from vendors.models import Vendor, VendorApplication, VendorApplicationStatusHistory
from vendors.selectors import OpenState, vendor_open_state
from zora.api import coordinate_field


class VendorSerializer(serializers.ModelSerializer):
    rating = RatingSerializer(source="*")
    distance_km = serializers.SerializerMethodField(help_text="Only when the list was asked for with lat and lng.")
    logo = MediaUrlField(source="logo_url", allow_null=True, read_only=True)
    opening_status = serializers.ChoiceField(
        choices=Vendor.OpeningStatus.choices,
        read_only=True,
        help_text="Set by the shop: open, busy (prep takes busy_extra_minutes longer) or closed (paused, "
        "until paused_until when set). Whether it takes orders now is is_open_now.",
    )
    is_open_now = serializers.SerializerMethodField(
        help_text="Takes orders now: active, not paused, within its opening hours and not on a holiday."
    )
    closed_reason = serializers.SerializerMethodField(
        help_text="Why it is not open now, e.g. 'Closed until 09:00'; empty when open."
    )
    opens_next = serializers.SerializerMethodField(
        help_text="When a closed shop opens again; null when open now or when nobody knows yet."
    )

    class Meta:
        model = Vendor
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "address",
            "lat",
            "lng",
            "delivery_radius_km",
            "logo",
            "opening_status",
            "busy_extra_minutes",
            "paused_until",
            "is_open_now",
            "closed_reason",
            "opens_next",
            "rating",
            "distance_km",
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_distance_km(self, vendor):
        distance = getattr(vendor, "distance_km", None)
        return None if distance is None else round(distance, 3)

    def _open_state(self, vendor) -> OpenState:
        """Worked out once per shop and response, at one moment for the whole response."""
        states = self.context.setdefault("open_states", {})
        if vendor.pk not in states:
            states[vendor.pk] = vendor_open_state(vendor=vendor, at=self.context.setdefault("now", timezone.now()))
        return states[vendor.pk]

    @extend_schema_field(serializers.BooleanField())
    def get_is_open_now(self, vendor):
        return self._open_state(vendor).is_open

    @extend_schema_field(serializers.CharField())
    def get_closed_reason(self, vendor):
        return self._open_state(vendor).reason

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_opens_next(self, vendor):
        opens_next = self._open_state(vendor).opens_next
        return None if opens_next is None else serializers.DateTimeField().to_representation(opens_next)


class VendorQuerySerializer(serializers.Serializer):
    lat = coordinate_field(90, required=False, help_text="Latitude of the customer; needs lng.")
    lng = coordinate_field(180, required=False, help_text="Longitude of the customer; needs lat.")
    radius_km = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        min_value=Decimal("0.1"),
        max_value=Decimal("500"),
        required=False,
        help_text="How far to look, in km (default 10); needs lat and lng.",
    )

    def validate(self, attrs):
        given = {name for name in ("lat", "lng", "radius_km") if name in attrs}
        if given and not {"lat", "lng"} <= given:
            missing = sorted({"lat", "lng"} - given)
            raise serializers.ValidationError({name: ["Give lat and lng together."] for name in missing})
        return attrs


class ApplicationStatusHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = VendorApplicationStatusHistory
        fields = ["from_status", "to_status", "reason", "created_at"]


class DocumentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    url = serializers.URLField(max_length=500)


class VendorApplicationSerializer(serializers.ModelSerializer):
    documents = DocumentSerializer(many=True)
    vendor = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="The shop's slug, once approved."
    )
    status_history = ApplicationStatusHistorySerializer(many=True)

    class Meta:
        model = VendorApplication
        fields = [
            "id",
            "business_name",
            "business_type",
            "company_number",
            "contact_name",
            "contact_email",
            "contact_phone",
            "address",
            "lat",
            "lng",
            "description",
            "documents",
            "status",
            "reason",
            "vendor",
            "status_history",
            "created_at",
            "updated_at",
        ]


class VendorApplicationInputSerializer(serializers.Serializer):
    business_name = serializers.CharField(max_length=150)
    business_type = serializers.ChoiceField(choices=VendorApplication.BusinessType.choices)
    company_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=150)
    contact_email = serializers.EmailField(max_length=254)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=1000)
    lat = coordinate_field(90, required=False, allow_null=True)
    lng = coordinate_field(180, required=False, allow_null=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    documents = DocumentSerializer(many=True, required=False, max_length=20)
