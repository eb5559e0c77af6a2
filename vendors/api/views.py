"""Vendor endpoints: finding shops near the customer, and applying to open one."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny

from vendors import selectors, services
from vendors.models import Vendor
from zora.api import ApiView, error_responses, object_or_404
from zora.errors import NotFound

from .nearby import vendors_near
from .serializers import (
    VendorApplicationInputSerializer,
    VendorApplicationSerializer,
    VendorQuerySerializer,
    VendorSerializer,
)

DEFAULT_RADIUS_KM = 10


class VendorListView(ApiView):
    permission_classes = [AllowAny]
    serializer_class = VendorSerializer

    @extend_schema(
        operation_id="vendors_list",
        summary="Active vendors; with lat and lng, those within radius_km, nearest first",
        parameters=[VendorQuerySerializer],
        responses={200: VendorSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        query = self.validated_query(VendorQuerySerializer)
        vendors = selectors.vendors_with_schedule(Vendor.objects.filter(is_active=True))
        if "lat" in query:
            vendors = vendors_near(
                vendors,
                lat=float(query["lat"]),
                lng=float(query["lng"]),
                radius_km=float(query.get("radius_km", DEFAULT_RADIUS_KM)),
            )
        return self.render_page(vendors)


class VendorDetailView(ApiView):
    permission_classes = [AllowAny]
    serializer_class = VendorSerializer

    @extend_schema(operation_id="vendors_retrieve", responses={200: VendorSerializer, **error_responses(401, 404)})
    def get(self, request, slug):
        vendors = selectors.vendors_with_schedule(Vendor.objects.filter(is_active=True))
        return self.render(object_or_404(vendors, slug=slug, message="No such vendor."))


class VendorApplicationCreateView(ApiView):
    serializer_class = VendorApplicationSerializer

    @extend_schema(
        operation_id="vendor_applications_create",
        summary="Apply to open a shop on Zora",
        request=VendorApplicationInputSerializer,
        responses={201: VendorApplicationSerializer, **error_responses(400, 401, 409, 422, 429)},
    )
    def post(self, request):
        data = self.validated(VendorApplicationInputSerializer, request.data)
        application = services.application_submit(applicant=request.user, **data)
        return self.render(application, status_code=status.HTTP_201_CREATED)


class MyVendorApplicationView(ApiView):
    serializer_class = VendorApplicationSerializer

    @extend_schema(
        operation_id="vendor_applications_mine",
        summary="The signed-in user's latest application, with its status history",
        responses={200: VendorApplicationSerializer, **error_responses(401, 404)},
    )
    def get(self, request):
        application = selectors.application_for_user(user=request.user)
        if application is None:
            raise NotFound("You have not applied to open a shop.", field="application")
        return self.render(application)
