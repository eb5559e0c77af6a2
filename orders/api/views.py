"""Cart, checkout and orders for customers; the order queue for shop staff."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from catalog.models import Product
from orders import selectors, services
from orders.models import Order
from vendors.access import staff_vendor
from zora.api import ApiView, error_responses, object_or_404
from zora.idempotency import request_key
from zora.preconditions import IF_MATCH_PARAMETER, answering_stale_writes, seen_version

from .serializers import (
    CartItemInputSerializer,
    CartQuantitySerializer,
    CartSerializer,
    CheckoutInputSerializer,
    CheckoutResultSerializer,
    OrderCancelSerializer,
    OrderQuerySerializer,
    OrderSerializer,
    OrderTransitionSerializer,
)

CART_WRITE_ERRORS = error_responses(400, 401, 404, 409, 422, 429)


# Cart -----------------------------------------------------------------------------------------


class _CartEndpoint(ApiView):
    """Cart writes answer with the whole cart, so the app redraws totals without a second request."""

    serializer_class = CartSerializer

    def render_cart(self, status_code=status.HTTP_200_OK) -> Response:
        return self.render(selectors.cart_summary(user=self.request.user), status_code=status_code)


class CartView(_CartEndpoint):
    @extend_schema(
        operation_id="cart_retrieve",
        summary="The cart, the same on every device",
        responses={200: CartSerializer, **error_responses(401)},
    )
    def get(self, request):
        return self.render_cart()

    @extend_schema(operation_id="cart_clear", responses={204: None, **error_responses(401, 429)})
    def delete(self, request):
        services.cart_clear(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListView(_CartEndpoint):
    @extend_schema(
        operation_id="cart_items_add",
        summary="Add a product (adds to its line if already in the cart); answers with the whole cart",
        request=CartItemInputSerializer,
        responses={201: CartSerializer, **CART_WRITE_ERRORS},
    )
    def post(self, request):
        data = self.validated(CartItemInputSerializer, request.data)
        product = object_or_404(Product.objects.all(), pk=data["product"], message="No such product.", field="product")
        services.cart_add_item(user=request.user, product=product, quantity=data["quantity"])
        return self.render_cart(status.HTTP_201_CREATED)


class CartItemDetailView(_CartEndpoint):
    @extend_schema(
        operation_id="cart_items_update",
        summary="Set a line's quantity; answers with the whole cart",
        description="With `If-Match` or `expected_updated_at` (the line's `updated_at`): 409 `stale_version` "
        "if another device changed the line since, with the cart as it is in `error.details.current`.",
        parameters=[IF_MATCH_PARAMETER],
        request=CartQuantitySerializer,
        responses={200: CartSerializer, **CART_WRITE_ERRORS},
    )
    def patch(self, request, pk):
        data = self.validated(CartQuantitySerializer, request.data)
        seen = seen_version(request, data)
        with answering_stale_writes(
            request, lambda: self.get_serializer(selectors.cart_summary(user=request.user)).data
        ):
            services.cart_set_quantity(user=request.user, item_id=pk, quantity=data["quantity"], seen_version=seen)
        return self.render_cart()

    @extend_schema(operation_id="cart_items_remove", responses={204: None, **error_responses(401, 404, 429)})
    def delete(self, request, pk):
        services.cart_remove_item(user=request.user, item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Orders ---------------------------------------------------------------------------------------


class CheckoutView(ApiView):
    serializer_class = CheckoutResultSerializer

    @extend_schema(
        operation_id="orders_checkout",
        summary="Turn the cart into one order per vendor",
        description=(
            "Send a fresh `Idempotency-Key` with each checkout the user starts and the same key on every retry "
            "of it: a retry answers with the orders the first attempt made and creates nothing. The checkout "
            "itself remembers its key, so even after the replay window a retry places no second set of orders."
        ),
        request=CheckoutInputSerializer,
        responses={201: CheckoutResultSerializer, **CART_WRITE_ERRORS},
    )
    def post(self, request):
        data = self.validated(CheckoutInputSerializer, request.data)
        orders = services.order_checkout(customer=request.user, idempotency_key=request_key(request), **data)
        details = selectors.order_list_for_customer(customer=request.user).filter(pk__in=[order.pk for order in orders])
        return self.render({"orders": details.order_by("id")}, status_code=status.HTTP_201_CREATED)


class OrderListView(ApiView):
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_list",
        parameters=[OrderQuerySerializer],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request):
        query = self.validated_query(OrderQuerySerializer)
        return self.render_page(selectors.order_list_for_customer(customer=request.user, status=query.get("status")))


class OrderDetailView(ApiView):
    serializer_class = OrderSerializer

    @extend_schema(operation_id="orders_retrieve", responses={200: OrderSerializer, **error_responses(401, 404)})
    def get(self, request, pk):
        return self.render(selectors.order_detail(user=request.user, order_id=pk))


class OrderCancelView(ApiView):
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel my order while it is pending or confirmed",
        request=OrderCancelSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request, pk):
        order = object_or_404(
            Order.objects.filter(customer=request.user), pk=pk, message="No such order.", field="order"
        )
        data = self.validated(OrderCancelSerializer, request.data)
        services.order_cancel(actor=request.user, order=order, reason=data.get("reason", ""))
        return self.render(selectors.order_detail(user=request.user, order_id=pk))


# The vendor's order queue ---------------------------------------------------------------------


class VendorOrderListView(ApiView):
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="vendor_orders_list",
        parameters=[OrderQuerySerializer],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401, 404)},
    )
    def get(self, request):
        vendor = staff_vendor(request.user)
        query = self.validated_query(OrderQuerySerializer)
        return self.render_page(selectors.order_list_for_vendor(vendor=vendor, status=query.get("status")))


class VendorOrderTransitionView(ApiView):
    serializer_class = OrderSerializer

    @extend_schema(
        operation_id="vendor_orders_transition",
        summary="Move an order along its life (confirmed, preparing, ready, ...)",
        description="409 `stale_status` when `expected_status` is no longer the order's status; "
        "409 `illegal_transition` for a move the order's status does not allow.",
        request=OrderTransitionSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 404, 409, 422, 429)},
    )
    def post(self, request, pk):
        vendor = staff_vendor(request.user)
        order = object_or_404(Order.objects.filter(vendor=vendor), pk=pk, message="No such order.", field="order")
        data = self.validated(OrderTransitionSerializer, request.data)
        services.order_transition(
            actor=request.user,
            order=order,
            to_status=data["status"],
            expected_status=data.get("expected_status"),
            note=data.get("note", ""),
        )
        return self.render(selectors.order_list_for_vendor(vendor=vendor).get(pk=pk))
