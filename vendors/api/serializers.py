"""Shapes of vendors and vendor applications in the mobile API."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import RatingSerializer
from vendors.models import Vendor, VendorApplication, VendorApplicationStatusHistory
from zora.api import coordinate_field


class VendorSerializer(serializers.ModelSerializer):
    rating = RatingSerializer(source="*")
    distance_km = serializers.SerializerMethodField(help_text="Only when the list was asked for with lat and lng.")

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
            "opening_status",
            "rating",
            "distance_km",
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_distance_km(self, vendor):
        distance = getattr(vendor, "distance_km", None)
        return None if distance is None else round(distance, 3)


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
