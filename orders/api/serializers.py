"""Shapes of the cart and orders in the mobile API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import MAX_STOCK, ProductSummarySerializer, VendorSummarySerializer
from catalog.services import money
from orders.models import Order, OrderItem, OrderNote, OrderStatusHistory
from support.api.serializers import PersonSerializer
from zora.api import BIGINT_MAX, coordinate_field
from zora.preconditions import ExpectedVersionSerializer

MONEY = {"max_digits": 12, "decimal_places": 2}


class CartItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = ProductSummarySerializer()
    quantity = serializers.IntegerField()
    updated_at = serializers.DateTimeField(help_text="The line's version, for `expected_updated_at`.")
    line_total = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DecimalField(**MONEY))
    def get_line_total(self, item):
        return serializers.DecimalField(**MONEY).to_representation(money(item.product.price * item.quantity))


class CartVendorSerializer(serializers.Serializer):
    """The part of the cart that becomes one order at checkout."""

    vendor = VendorSummarySerializer()
    subtotal = serializers.DecimalField(**MONEY)
    delivery_fee = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class CartSerializer(serializers.Serializer):
    items = CartItemSerializer(many=True)
    count = serializers.IntegerField(source="item_count", help_text="Units in the cart, all lines together.")
    vendors = CartVendorSerializer(source="groups", many=True)
    subtotal = serializers.DecimalField(**MONEY)
    delivery_fee = serializers.DecimalField(**MONEY, help_text="One fee per vendor.")
    total = serializers.DecimalField(**MONEY)


class CartItemInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK, default=1)


class CartQuantitySerializer(ExpectedVersionSerializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_STOCK)


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["id", "product", "product_name", "unit_price", "quantity", "line_total"]


class OrderStatusHistorySerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusHistory
        fields = ["from_status", "to_status", "note", "created_at"]


class OrderNoteSerializer(serializers.ModelSerializer):
    """A note the shop wrote for the customer (internal notes never leave the portal)."""

    class Meta:
        model = OrderNote
        fields = ["id", "body", "created_at"]


class OrderSerializer(serializers.ModelSerializer):
    vendor = VendorSummarySerializer()
    customer = PersonSerializer()
    items = OrderItemSerializer(many=True)
    status_history = OrderStatusHistorySerializer(many=True)
    notes_for_customer = OrderNoteSerializer(many=True, read_only=True, help_text="The shop's notes to the customer.")

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "vendor",
            "customer",
            "items",
            "subtotal",
            "delivery_fee",
            "total",
            "delivery_address",
            "delivery_lat",
            "delivery_lng",
            "notes",
            "cancel_reason",
            "cancel_reason_code",
            "accept_by",
            "accepted_at",
            "prep_minutes",
            "estimated_ready_at",
            "notes_for_customer",
            "status_history",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "accept_by": {"help_text": "While pending: the shop must accept by then, or the order is cancelled."},
            "estimated_ready_at": {"help_text": "When the shop expects the order to be ready, set when it accepts."},
            "prep_minutes": {"help_text": "The preparation time the shop quoted when it accepted."},
        }


class CheckoutInputSerializer(serializers.Serializer):
    delivery_address = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="Defaults to the profile's address."
    )
    delivery_lat = coordinate_field(90, required=False, allow_null=True)
    delivery_lng = coordinate_field(180, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class CheckoutResultSerializer(serializers.Serializer):
    orders = OrderSerializer(many=True, help_text="One order per vendor in the cart.")


class OrderQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class OrderTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, help_text="The status to move to.")
    expected_status = serializers.ChoiceField(
        choices=Order.Status.choices,
        required=False,
        help_text="The status this device last saw; if the order has moved on since, the answer is 409 stale_status.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)
