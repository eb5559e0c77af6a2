from django.contrib import admin

from accounts.admin_base import (
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    ReasonActionForm,
    ServiceCreatedAdmin,
    StatusHistoryAdmin,
    action_reason,
    request_meta,
    service_action,
)
from orders import services
from orders.models import CartItem, Checkout, Order, OrderItem, OrderNote, OrderStatusHistory


class OrderItemInline(ReadOnlyTabularInline):
    model = OrderItem
    fields = ("product", "product_name", "unit_price", "quantity", "line_total")


class OrderStatusHistoryInline(ReadOnlyTabularInline):
    model = OrderStatusHistory
    fields = ("created_at", "from_status", "to_status", "changed_by", "note")


class OrderNoteInline(ReadOnlyTabularInline):
    model = OrderNote
    fields = ("created_at", "author", "is_internal", "body")


def transition_action(to_status: str, description: str):
    """An admin action moving the selected orders to `to_status` through `order_transition`."""
    return service_action(
        f"mark_{to_status}",
        description,
        lambda request, order: services.order_transition(
            actor=request.user,
            order=order,
            to_status=to_status,
            note=action_reason(request),
            request_meta=request_meta(request),
        ),
        f"Moved to {Order.Status(to_status).label}",
    )


@admin.register(Order)
class OrderAdmin(ServiceCreatedAdmin):
    """Orders are placed by checkout and moved only along `Order.TRANSITIONS`."""

    action_form = ReasonActionForm
    list_display = ("number", "customer", "vendor", "status", "total", "created_at", "updated_at")
    list_filter = ("status", "vendor")
    search_fields = ("number", "customer__email", "customer__full_name", "vendor__name", "delivery_address")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "vendor")
    readonly_fields = (
        "number",
        "checkout",
        "customer",
        "vendor",
        "status",
        "subtotal",
        "delivery_fee",
        "total",
        "cancel_reason",
        "cancel_reason_code",
        "accept_by",
        "reminded_at",
        "escalated_at",
        "accepted_at",
        "prep_minutes",
        "estimated_ready_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {"fields": ("number", "status", "customer", "vendor", "checkout", "cancel_reason_code", "cancel_reason")},
        ),
        (
            "Acceptance",
            {
                "fields": (
                    "accept_by",
                    "reminded_at",
                    "escalated_at",
                    "accepted_at",
                    "prep_minutes",
                    "estimated_ready_at",
                )
            },
        ),
        ("Money", {"fields": ("subtotal", "delivery_fee", "total")}),
        ("Delivery", {"fields": ("delivery_address", "delivery_lat", "delivery_lng", "notes")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [OrderItemInline, OrderStatusHistoryInline, OrderNoteInline]
    actions = [
        transition_action(Order.Status.CONFIRMED, "Confirm"),
        transition_action(Order.Status.PREPARING, "Start preparing"),
        transition_action(Order.Status.READY, "Mark ready"),
        transition_action(Order.Status.OUT_FOR_DELIVERY, "Send out for delivery"),
        transition_action(Order.Status.DELIVERED, "Mark delivered"),
        transition_action(Order.Status.CANCELLED, "Cancel (give a reason)"),
        transition_action(Order.Status.REFUNDED, "Refund"),
    ]


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdmin):
    list_display = ("order", "product_name", "unit_price", "quantity", "line_total")
    search_fields = ("order__number", "product_name")
    list_select_related = ("order",)


@admin.register(OrderStatusHistory)
class OrderStatusHistoryAdmin(StatusHistoryAdmin):
    subject_field = "order"
    search_fields = ("order__number", "note")


@admin.register(Checkout)
class CheckoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "idempotency_key", "created_at")
    search_fields = ("customer__email", "idempotency_key")
    date_hierarchy = "created_at"
    list_select_related = ("customer",)


@admin.register(CartItem)
class CartItemAdmin(ReadOnlyAdmin):
    list_display = ("user", "product", "quantity", "updated_at")
    search_fields = ("user__email", "product__name")
    list_select_related = ("user", "product")
