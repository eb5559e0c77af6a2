"""Shapes of the catalog in the mobile API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import (
    Category,
    InventoryAlert,
    OutOfStockFor,
    Product,
    ProductImage,
    Review,
    StockMovement,
    WishlistItem,
)
from catalog.selectors import PRODUCT_ORDERINGS
from catalog.services import MANUAL_STOCK_REASONS, REPLY_MAX_LENGTH, STOCK_NOTE_MAX_LENGTH
from zora.api import BIGINT_MAX, ObjectIdRelatedField
from zora.preconditions import ExpectedVersionSerializer

MAX_STOCK = 2**31 - 1  # the stock column is a 32-bit integer


def public_name(user) -> str:
    """How one user appears to another: their name, never their email address."""
    return user.full_name.strip() or user.email.split("@")[0]


class MediaUrlField(serializers.CharField):
    """An image URL as the app can fetch it: uploads are stored with a site-relative URL, made absolute here."""

    def to_representation(self, value):
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request is not None else value


class RatingSerializer(serializers.Serializer):
    average = serializers.DecimalField(source="rating_avg", max_digits=3, decimal_places=2)
    count = serializers.IntegerField(source="rating_count")


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description"]


class CategorySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class VendorSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ProductSerializer(serializers.ModelSerializer):
    vendor = VendorSummarySerializer()
    category = CategorySummarySerializer(allow_null=True)
    rating = RatingSerializer(source="*")
    images = serializers.ListField(child=MediaUrlField())
    out_of_stock_until = serializers.DateTimeField(
        allow_null=True, help_text="When a product sold out for now comes back by itself; empty otherwise."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "price",
            "stock",
            "vendor",
            "category",
            "rating",
            "images",
            "is_active",
            "out_of_stock_until",
        ]


class ProductSummarySerializer(serializers.ModelSerializer):
    """A product as a line of a cart or wishlist shows it."""

    vendor = VendorSummarySerializer()
    images = serializers.ListField(child=MediaUrlField())

    class Meta:
        model = Product
        fields = ["id", "name", "price", "stock", "is_active", "vendor", "images"]


class ProductImageSerializer(serializers.ModelSerializer):
    url = MediaUrlField(source="image.url")
    thumbnail_url = MediaUrlField(source="thumbnail.url")

    class Meta:
        model = ProductImage
        fields = ["id", "url", "thumbnail_url", "position", "created_at"]


class VendorProductSerializer(ProductSerializer):
    """The shop's own view: stock settings, uploaded images and timestamps too."""

    uploaded_images = ProductImageSerializer(many=True)
    stock_to_restore = serializers.IntegerField(
        allow_null=True, help_text="While marked out of stock: the stock that comes back."
    )

    class Meta(ProductSerializer.Meta):
        fields = ProductSerializer.Meta.fields + [
            "low_stock_threshold",
            "stock_to_restore",
            "uploaded_images",
            "created_at",
            "updated_at",
        ]


class ProductImageInputSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="A JPEG, PNG, WebP or GIF image; checked by its content.")


class ProductImageOrderSerializer(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        help_text="Every image id of the product, main one first.",
    )


class ProductQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, max_length=200, help_text="Words in the name or description.")
    category = serializers.CharField(required=False, max_length=110, help_text="A category id or slug.")
    vendor = serializers.CharField(required=False, max_length=160, help_text="A vendor id or slug.")
    min_price = serializers.DecimalField(required=False, max_digits=10, decimal_places=2, min_value=0)
    max_price = serializers.DecimalField(required=False, max_digits=10, decimal_places=2, min_value=0)
    in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = serializers.ChoiceField(required=False, choices=list(PRODUCT_ORDERINGS), default="name")


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    low_stock_threshold = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    category = ObjectIdRelatedField(queryset=Category.objects.filter(is_active=True), required=False, allow_null=True)
    images = serializers.ListField(child=serializers.URLField(max_length=500), required=False, max_length=20)
    is_active = serializers.BooleanField(required=False)


class ProductUpdateSerializer(ExpectedVersionSerializer, ProductInputSerializer):
    pass


class StockAdjustmentSerializer(ExpectedVersionSerializer):
    delta = serializers.IntegerField(required=False, min_value=-MAX_STOCK, max_value=MAX_STOCK)
    stock = serializers.IntegerField(required=False, min_value=0, max_value=MAX_STOCK)
    reason = serializers.ChoiceField(choices=MANUAL_STOCK_REASONS, default=StockMovement.Reason.OTHER)
    note = serializers.CharField(required=False, allow_blank=True, max_length=STOCK_NOTE_MAX_LENGTH)

    def validate(self, attrs):
        if ("delta" in attrs) == ("stock" in attrs):
            raise serializers.ValidationError({"delta": ["Give exactly one of delta or stock."]})
        return attrs


class OutOfStockSerializer(serializers.Serializer):
    until = serializers.ChoiceField(choices=OutOfStockFor.choices)


class StockMovementSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="Who did it; empty when the system did.")

    class Meta:
        model = StockMovement
        fields = ["id", "delta", "stock_before", "stock_after", "reason", "note", "actor", "created_at"]

    def get_actor(self, movement) -> str | None:
        return public_name(movement.actor) if movement.actor else None


class InventoryAlertSerializer(serializers.ModelSerializer):
    product = serializers.SerializerMethodField()

    class Meta:
        model = InventoryAlert
        fields = [
            "id",
            "product",
            "type",
            "severity",
            "status",
            "stock_level",
            "threshold",
            "message",
            "sales_velocity_per_day",
            "estimated_stockout_at",
            "acknowledged_at",
            "resolved_at",
            "created_at",
            "updated_at",
        ]

    def get_product(self, alert) -> dict:
        return {"id": alert.product_id, "name": alert.product.name}


class InventoryAlertQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(required=False, choices=InventoryAlert.Status.choices)


class ReviewReplySerializer(serializers.Serializer):
    body = serializers.CharField(source="reply")
    replied_at = serializers.DateTimeField()


class ReviewSerializer(serializers.ModelSerializer):
    """Public: the reviewer appears by first name only; the shop's reply, when it has one, beside it."""

    author = serializers.SerializerMethodField()
    reply = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "product", "vendor", "rating", "comment", "author", "reply", "created_at", "updated_at"]

    def get_author(self, review) -> str:
        return public_name(review.customer).split(" ")[0]

    @extend_schema_field(ReviewReplySerializer(allow_null=True))
    def get_reply(self, review):
        return ReviewReplySerializer(review).data if review.reply else None


class ReviewReplyInputSerializer(ExpectedVersionSerializer):
    body = serializers.CharField(max_length=REPLY_MAX_LENGTH)


class ReviewInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    product = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX)
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class WishlistItemSerializer(serializers.ModelSerializer):
    product = ProductSummarySerializer()

    class Meta:
        model = WishlistItem
        fields = ["id", "product", "created_at"]


class WishlistInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
