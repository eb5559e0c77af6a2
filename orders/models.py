from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Round


class CartItem(models.Model):
    """One row per user and product, so the cart is the same on every device."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="cart_items")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="cart_unique_user_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product}"


class Checkout(models.Model):
    """One checkout attempt; its Idempotency-Key makes a retry return the same orders."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkouts")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="checkout_unique_idempotency_key",
            )
        ]

    def __str__(self):
        return f"Checkout {self.pk} by {self.customer}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        PREPARING = "preparing"
        READY = "ready"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"

    # The one explicit transition table: every legal move of an order.
    TRANSITIONS = {
        Status.PENDING: {Status.CONFIRMED, Status.CANCELLED},
        Status.CONFIRMED: {Status.PREPARING, Status.CANCELLED},
        Status.PREPARING: {Status.READY, Status.CANCELLED},
        Status.READY: {Status.OUT_FOR_DELIVERY},
        Status.OUT_FOR_DELIVERY: {Status.DELIVERED},
        Status.DELIVERED: {Status.REFUNDED},
        Status.CANCELLED: set(),
        Status.REFUNDED: set(),
    }

    class RejectReason(models.TextChoices):
        """Why an order was turned down or cancelled; the customer is told the label."""

        OUT_OF_STOCK = "out_of_stock", "Some items are out of stock"
        TOO_BUSY = "too_busy", "The shop is too busy"
        CLOSING_SOON = "closing_soon", "The shop is closing soon"
        ADDRESS_UNREACHABLE = "address_unreachable", "The address cannot be reached"
        CUSTOMER_REQUEST = "customer_request", "The customer asked to cancel"
        OTHER = "other", "Another reason"
        NOT_ACCEPTED_IN_TIME = "not_accepted_in_time", "The shop did not accept the order in time"

    number = models.CharField(max_length=20, unique=True)
    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    delivery_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=10, decimal_places=2)
    delivery_address = models.TextField()
    delivery_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    delivery_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    notes = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)
    cancel_reason_code = models.CharField(max_length=30, choices=RejectReason.choices, blank=True)
    # The shop must accept a pending order by `accept_by`; the staff are reminded and the
    # platform team warned before it, and at it the order is rejected for them.
    accept_by = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    prep_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    estimated_ready_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(subtotal__gte=0), name="order_subtotal_non_negative"),
            models.CheckConstraint(condition=models.Q(delivery_fee__gte=0), name="order_fee_non_negative"),
            models.CheckConstraint(
                # Rounded: SQLite computes decimals in floating point.
                condition=models.Q(total=Round(models.F("subtotal") + models.F("delivery_fee"), 2)),
                name="order_total_sum",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["vendor", "status", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(
                fields=["accept_by"], condition=models.Q(status="pending"), name="order_pending_accept_by_idx"
            ),
        ]

    def __str__(self):
        return self.number

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, set())

    @property
    def next_statuses(self) -> list[str]:
        """The legal moves from here, in the order of the order's life."""
        return [status for status in self.Status.values if self.can_transition_to(status)]


class OrderItem(models.Model):
    """A line of an order, with the product's name and price as they were at checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.SET_NULL, null=True, related_name="order_items")
    product_name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_item_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="order_item_price_non_negative"),
            models.CheckConstraint(
                condition=models.Q(line_total=Round(models.F("unit_price") * models.F("quantity"), 2)),
                name="order_item_line_total",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"


class OrderStatusHistory(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=20, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "order status history"

    def __str__(self):
        return f"{self.order}: {self.from_status or '∅'} → {self.to_status}"


class OrderNote(models.Model):
    """A remark on an order by the shop or the platform team. Internal notes stay with
    them; the others are shown to the customer too."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="order_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    body = models.TextField()
    is_internal = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order}: {'internal' if self.is_internal else 'for the customer'} note"
