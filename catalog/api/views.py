"""Catalog endpoints: public browsing, the customer's wishlist and reviews, the vendor's products and alerts."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from catalog import selectors, services
from catalog.models import Category, InventoryAlert, Product, ProductImage, Review
from orders.models import Order
from vendors.access import staff_vendor
from vendors.models import Vendor
from zora.api import ApiView, error_responses, object_or_404, parse_object_id
from zora.errors import InvalidInput
from zora.preconditions import IF_MATCH_PARAMETER, answering_stale_writes, seen_version

from .serializers import (
    CategorySerializer,
    InventoryAlertQuerySerializer,
    InventoryAlertSerializer,
    OutOfStockSerializer,
    ProductImageInputSerializer,
    ProductImageOrderSerializer,
    ProductImageSerializer,
    ProductInputSerializer,
    ProductQuerySerializer,
    ProductSerializer,
    ProductUpdateSerializer,
    ReviewInputSerializer,
    ReviewReplyInputSerializer,
    ReviewSerializer,
    StockAdjustmentSerializer,
    StockMovementSerializer,
    VendorProductSerializer,
    WishlistInputSerializer,
    WishlistItemSerializer,
)

PUBLIC_READ_ERRORS = error_responses(400, 401)


def _by_id_or_slug(queryset, value: str, *, field: str):
    """A filter value that is either a numeric id or a slug."""
    object_id = parse_object_id(value)
    match = Q(slug=value) | Q(pk=object_id) if object_id is not None else Q(slug=value)
    found = queryset.filter(match).first()
    if found is None:
        raise InvalidInput(f"No {field} with that id or slug.", code="does_not_exist", field=field)
    return found


def _visible_product(product_id: int) -> Product:
    return object_or_404(selectors.product_list(), pk=product_id, message="No such product.", field="product")


# Public browsing ------------------------------------------------------------------------------


class CategoryListView(ApiView):
    permission_classes = [AllowAny]
    serializer_class = CategorySerializer

    @extend_schema(operation_id="categories_list", responses={200: CategorySerializer(many=True), **PUBLIC_READ_ERRORS})
    def get(self, request):
        return self.render_page(Category.objects.filter(is_active=True))


class ProductListView(ApiView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    @extend_schema(
        operation_id="products_list",
        summary="Browse active products of active vendors",
        parameters=[ProductQuerySerializer],
        responses={200: ProductSerializer(many=True), **PUBLIC_READ_ERRORS},
    )
    def get(self, request):
        query = self.validated_query(ProductQuerySerializer)
        category, vendor = query.get("category"), query.get("vendor")
        products = selectors.product_list(
            search=query.get("search", ""),
            category=_by_id_or_slug(Category.objects.all(), category, field="category") if category else None,
            vendor=_by_id_or_slug(Vendor.objects.filter(is_active=True), vendor, field="vendor") if vendor else None,
            min_price=query.get("min_price"),
            max_price=query.get("max_price"),
            in_stock=query["in_stock"],
            ordering=query["ordering"],
        )
        return self.render_page(products)


class ProductDetailView(ApiView):
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    @extend_schema(operation_id="products_retrieve", responses={200: ProductSerializer, **error_responses(401, 404)})
    def get(self, request, pk):
        return self.render(_visible_product(pk))


class ProductReviewListView(ApiView):
    permission_classes = [AllowAny]
    serializer_class = ReviewSerializer

    @extend_schema(
        operation_id="products_reviews_list",
        responses={200: ReviewSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request, pk):
        return self.render_page(selectors.review_list_for_product(product=_visible_product(pk)))


# The customer's side --------------------------------------------------------------------------


class ReviewCreateView(ApiView):
    serializer_class = ReviewSerializer

    @extend_schema(
        operation_id="reviews_create",
        summary="Review a delivered order's product, or its shop when product is omitted",
        request=ReviewInputSerializer,
        responses={201: ReviewSerializer, **error_responses(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request):
        data = self.validated(ReviewInputSerializer, request.data)
        order = object_or_404(
            Order.objects.filter(customer=request.user), pk=data["order"], message="No such order.", field="order"
        )
        product = None
        if data.get("product") is not None:
            product = selectors.product_in_order(order=order, product_id=data["product"])
        review = services.review_create(
            customer=request.user, order=order, rating=data["rating"], comment=data.get("comment", ""), product=product
        )
        return self.render(review, status_code=status.HTTP_201_CREATED)


class WishlistView(ApiView):
    serializer_class = WishlistItemSerializer

    @extend_schema(
        operation_id="wishlist_list", responses={200: WishlistItemSerializer(many=True), **error_responses(400, 401)}
    )
    def get(self, request):
        return self.render_page(selectors.wishlist_for_user(user=request.user))

    @extend_schema(
        operation_id="wishlist_add",
        summary="Add a product to the wishlist (adding it twice is harmless)",
        request=WishlistInputSerializer,
        responses={201: WishlistItemSerializer, **error_responses(400, 401, 404, 429)},
    )
    def post(self, request):
        data = self.validated(WishlistInputSerializer, request.data)
        product = object_or_404(Product.objects.all(), pk=data["product"], message="No such product.", field="product")
        item = services.wishlist_add(user=request.user, product=product)
        return self.render(item, status_code=status.HTTP_201_CREATED)


class WishlistItemView(ApiView):
    @extend_schema(operation_id="wishlist_remove", responses={204: None, **error_responses(401, 404, 429)})
    def delete(self, request, product_id):
        product = object_or_404(
            Product.objects.all(), pk=product_id, message="That product is not on your wishlist.", field="product"
        )
        services.wishlist_remove(user=request.user, product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)


# The vendor's side ----------------------------------------------------------------------------

VENDOR_READ_ERRORS = error_responses(400, 401, 404)


class VendorProductListView(ApiView):
    serializer_class = VendorProductSerializer

    @extend_schema(
        operation_id="vendor_products_list", responses={200: VendorProductSerializer(many=True), **VENDOR_READ_ERRORS}
    )
    def get(self, request):
        return self.render_page(selectors.product_list_for_vendor(vendor=staff_vendor(request.user)))

    @extend_schema(
        operation_id="vendor_products_create",
        request=ProductInputSerializer,
        responses={201: VendorProductSerializer, **error_responses(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request):
        vendor = staff_vendor(request.user)
        data = self.validated(ProductInputSerializer, request.data)
        product = services.product_create(actor=request.user, vendor=vendor, **data)
        return self.render(product, status_code=status.HTTP_201_CREATED)


def _own_product(user, product_id: int) -> Product:
    vendor = staff_vendor(user)
    return object_or_404(
        Product.objects.filter(vendor=vendor).select_related("vendor", "category").prefetch_related("uploaded_images"),
        pk=product_id,
        message="No such product.",
        field="product",
    )


class VendorProductDetailView(ApiView):
    serializer_class = VendorProductSerializer

    @extend_schema(
        operation_id="vendor_products_retrieve", responses={200: VendorProductSerializer, **VENDOR_READ_ERRORS}
    )
    def get(self, request, pk):
        return self.render(_own_product(request.user, pk))

    @extend_schema(
        operation_id="vendor_products_update",
        description="With `If-Match` or `expected_updated_at` (the product's `updated_at`): 409 `stale_version` "
        "if the product changed since (an edit, a sale, a stock change), with it as it is in "
        "`error.details.current`.",
        parameters=[IF_MATCH_PARAMETER],
        request=ProductUpdateSerializer(partial=True),
        responses={200: VendorProductSerializer, **error_responses(400, 401, 404, 409, 422, 429)},
    )
    def patch(self, request, pk):
        product = _own_product(request.user, pk)
        serializer = ProductUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        seen = seen_version(request, changes)
        with answering_stale_writes(request, lambda: self.get_serializer(_own_product(request.user, pk)).data):
            product = services.product_update(actor=request.user, product=product, seen_version=seen, **changes)
        return self.render(product)


class VendorProductStockView(ApiView):
    serializer_class = VendorProductSerializer

    @extend_schema(
        operation_id="vendor_products_stock",
        summary="Adjust stock by a delta (a delivery, a breakage) or set it (a stock-take)",
        description="A stock-take (`stock`) counted on an older version would undo the sales since: send "
        "`If-Match` or `expected_updated_at` (the product's `updated_at`) and a changed product is refused "
        "with 409 `stale_version`, with it as it is in `error.details.current`.",
        parameters=[IF_MATCH_PARAMETER],
        request=StockAdjustmentSerializer,
        responses={200: VendorProductSerializer, **error_responses(400, 401, 404, 409, 429)},
    )
    def post(self, request, pk):
        product = _own_product(request.user, pk)
        data = self.validated(StockAdjustmentSerializer, request.data)
        seen = seen_version(request, data)
        with answering_stale_writes(request, lambda: self.get_serializer(_own_product(request.user, pk)).data):
            product = services.product_adjust_stock(
                actor=request.user,
                product=product,
                delta=data.get("delta"),
                stock=data.get("stock"),
                reason=data["reason"],
                note=data.get("note", ""),
                seen_version=seen,
            )
        return self.render(product)


class VendorProductStockMovementListView(ApiView):
    serializer_class = StockMovementSerializer

    @extend_schema(
        operation_id="vendor_products_stock_movements",
        summary="The product's stock history: who, when, why, before and after (newest first)",
        responses={200: StockMovementSerializer(many=True), **VENDOR_READ_ERRORS},
    )
    def get(self, request, pk):
        return self.render_page(selectors.stock_movements_for_product(product=_own_product(request.user, pk)))


class VendorProductOutOfStockView(ApiView):
    serializer_class = VendorProductSerializer

    @extend_schema(
        operation_id="vendor_products_out_of_stock",
        summary="Sold out for now: stock to 0 until the end of the day, for 4 hours, or until brought back",
        request=OutOfStockSerializer,
        responses={200: VendorProductSerializer, **error_responses(400, 401, 404, 422, 429)},
    )
    def post(self, request, pk):
        product = _own_product(request.user, pk)
        data = self.validated(OutOfStockSerializer, request.data)
        return self.render(services.product_mark_out_of_stock(actor=request.user, product=product, until=data["until"]))


class VendorProductBackInStockView(ApiView):
    serializer_class = VendorProductSerializer

    @extend_schema(
        operation_id="vendor_products_back_in_stock",
        summary="End 'out of stock' now: the remembered stock comes back",
        request=None,
        responses={200: VendorProductSerializer, **error_responses(401, 404, 409, 429)},
    )
    def post(self, request, pk):
        product = _own_product(request.user, pk)
        return self.render(services.product_back_in_stock(actor=request.user, product=product))


class VendorProductImageListView(ApiView):
    serializer_class = ProductImageSerializer
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="vendor_products_images_upload",
        summary="Upload an image (multipart field `image`); it is listed last in the product's images",
        request={"multipart/form-data": ProductImageInputSerializer},
        responses={201: ProductImageSerializer, **error_responses(400, 401, 404, 422, 429)},
    )
    def post(self, request, pk):
        product = _own_product(request.user, pk)
        data = self.validated(ProductImageInputSerializer, request.data)
        image = services.product_image_add(actor=request.user, product=product, upload=data["image"])
        return self.render(image, status_code=status.HTTP_201_CREATED)


class VendorProductImageOrderView(ApiView):
    serializer_class = VendorProductSerializer

    @extend_schema(
        operation_id="vendor_products_images_reorder",
        request=ProductImageOrderSerializer,
        responses={200: VendorProductSerializer, **error_responses(400, 401, 404, 429)},
    )
    def put(self, request, pk):
        product = _own_product(request.user, pk)
        data = self.validated(ProductImageOrderSerializer, request.data)
        return self.render(
            services.product_images_reorder(actor=request.user, product=product, image_ids=data["images"])
        )


class VendorProductImageView(ApiView):
    @extend_schema(
        operation_id="vendor_products_images_remove", responses={204: None, **error_responses(401, 404, 429)}
    )
    def delete(self, request, pk, image_id):
        product = _own_product(request.user, pk)
        image = object_or_404(
            ProductImage.objects.filter(product=product), pk=image_id, message="No such image.", field="image"
        )
        services.product_image_remove(actor=request.user, image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VendorInventoryAlertListView(ApiView):
    serializer_class = InventoryAlertSerializer

    @extend_schema(
        operation_id="vendor_inventory_alerts_list",
        parameters=[InventoryAlertQuerySerializer],
        responses={200: InventoryAlertSerializer(many=True), **VENDOR_READ_ERRORS},
    )
    def get(self, request):
        vendor = staff_vendor(request.user)
        query = self.validated_query(InventoryAlertQuerySerializer)
        return self.render_page(selectors.inventory_alert_list_for_vendor(vendor=vendor, status=query.get("status")))


class VendorInventoryAlertAcknowledgeView(ApiView):
    serializer_class = InventoryAlertSerializer

    @extend_schema(
        operation_id="vendor_inventory_alerts_acknowledge",
        request=None,
        responses={200: InventoryAlertSerializer, **error_responses(401, 404, 409, 429)},
    )
    def post(self, request, pk):
        vendor = staff_vendor(request.user)
        alert = object_or_404(
            InventoryAlert.objects.filter(vendor=vendor), pk=pk, message="No such alert.", field="alert"
        )
        return self.render(services.inventory_alert_acknowledge(actor=request.user, alert=alert))


class VendorReviewListView(ApiView):
    serializer_class = ReviewSerializer

    @extend_schema(
        operation_id="vendor_reviews_list",
        summary="Reviews of the shop and of its products, newest first",
        responses={200: ReviewSerializer(many=True), **VENDOR_READ_ERRORS},
    )
    def get(self, request):
        return self.render_page(selectors.review_list_for_vendor_staff(vendor=staff_vendor(request.user)))


class VendorReviewReplyView(ApiView):
    serializer_class = ReviewSerializer

    @extend_schema(
        operation_id="vendor_reviews_reply",
        summary="The shop's one public reply to a review (sending it again edits it)",
        description="With `If-Match` or `expected_updated_at` (the review's `updated_at`): 409 `stale_version` "
        "if the review changed since (a colleague replied), with it as it is in `error.details.current`.",
        parameters=[IF_MATCH_PARAMETER],
        request=ReviewReplyInputSerializer,
        responses={200: ReviewSerializer, **error_responses(400, 401, 404, 409, 429)},
    )
    def put(self, request, pk):
        vendor = staff_vendor(request.user)
        reviews = Review.objects.filter(vendor=vendor)
        review = object_or_404(reviews, pk=pk, message="No such review.", field="review")
        data = self.validated(ReviewReplyInputSerializer, request.data)
        seen = seen_version(request, data)
        with answering_stale_writes(request, lambda: self.get_serializer(reviews.get(pk=pk)).data):
            review = services.review_reply(actor=request.user, review=review, body=data["body"], seen_version=seen)
        return self.render(review)
