"""The peer's consumer: djangochannelsrestframework model observers with the marketplace's audiences.

A customer follows their orders and notifications, vendor staff their shop's
orders and products, platform admins every order and product (a notification
is only ever its recipient's, as in Zora). Each save is serialized once
and sent to its groups on commit; a message the channel layer drops, or one
sent while a socket is away, is gone.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from djangochannelsrestframework.decorators import action
from djangochannelsrestframework.generics import GenericAsyncAPIConsumer
from djangochannelsrestframework.observer import model_observer
from rest_framework import serializers

from accounts.models import Notification
from accounts.selectors import api_token_user
from catalog.models import Product
from orders.models import Order
from vendors.models import VendorStaff


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = "__all__"


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = "__all__"


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = "__all__"


class TokenAuthMiddleware(BaseMiddleware):
    """`?token=<API token>` on the socket URL becomes scope["user"]."""

    async def __call__(self, scope, receive, send):
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[-1]
        user = await database_sync_to_async(api_token_user)(key=token) if token else None
        scope["user"] = user or AnonymousUser()
        return await super().__call__(scope, receive, send)


def _vendor_of(user) -> int | None:
    return VendorStaff.objects.filter(user=user).values_list("vendor_id", flat=True).first()


class MarketplaceConsumer(GenericAsyncAPIConsumer):
    @action()
    async def subscribe(self, request_id, **kwargs):
        user = self.scope["user"]
        if user.is_staff:
            await self.order_activity.subscribe(everything=True, request_id=request_id)
            await self.product_activity.subscribe(everything=True, request_id=request_id)
            return {}, 200
        vendor_id = await database_sync_to_async(_vendor_of)(user)
        if vendor_id is not None:
            await self.order_activity.subscribe(vendor=vendor_id, request_id=request_id)
            await self.product_activity.subscribe(vendor=vendor_id, request_id=request_id)
            return {}, 200
        await self.order_activity.subscribe(customer=user.pk, request_id=request_id)
        await self.notification_activity.subscribe(user=user.pk, request_id=request_id)
        return {}, 200

    async def _push(self, table: str, message: dict, action: str) -> None:
        await self.send_json({"table": table, "type": action, "record": message})

    @model_observer(Order, serializer_class=OrderSerializer)
    async def order_activity(self, message, action=None, **kwargs):
        await self._push("orders", message, action)

    @order_activity.groups_for_signal
    def order_activity(self, instance: Order, **kwargs):
        yield f"peer-order-customer-{instance.customer_id}"
        yield f"peer-order-vendor-{instance.vendor_id}"
        yield "peer-order-all"

    @order_activity.groups_for_consumer
    def order_activity(self, customer=None, vendor=None, everything=False, **kwargs):
        if everything:
            yield "peer-order-all"
        elif vendor is not None:
            yield f"peer-order-vendor-{vendor}"
        else:
            yield f"peer-order-customer-{customer}"

    @model_observer(Notification, serializer_class=NotificationSerializer)
    async def notification_activity(self, message, action=None, **kwargs):
        await self._push("notifications", message, action)

    @notification_activity.groups_for_signal
    def notification_activity(self, instance: Notification, **kwargs):
        yield f"peer-notification-user-{instance.user_id}"

    @notification_activity.groups_for_consumer
    def notification_activity(self, user=None, **kwargs):
        yield f"peer-notification-user-{user}"

    @model_observer(Product, serializer_class=ProductSerializer)
    async def product_activity(self, message, action=None, **kwargs):
        await self._push("products", message, action)

    @product_activity.groups_for_signal
    def product_activity(self, instance: Product, **kwargs):
        yield f"peer-product-vendor-{instance.vendor_id}"
        yield "peer-product-all"

    @product_activity.groups_for_consumer
    def product_activity(self, vendor=None, everything=False, **kwargs):
        yield "peer-product-all" if everything else f"peer-product-vendor-{vendor}"
