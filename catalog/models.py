from decimal import Decimal

from django.conf import settings
from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=110, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="products")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    images = models.JSONField(default=list, blank=True, help_text="Image URLs, first is the main one.")
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    rating_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="product_stock_non_negative"),
            models.CheckConstraint(
                condition=models.Q(rating_avg__gte=0, rating_avg__lte=5), name="product_rating_range"
            ),
        ]
        indexes = [
            models.Index(fields=["vendor", "is_active", "name"]),
            models.Index(fields=["category", "is_active"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self):
        return self.name


class InventoryAlert(models.Model):
    """Raised, escalated and resolved by stock changes; one open alert per product and type."""

    class Type(models.TextChoices):
        LOW_STOCK = "low_stock"
        STOCKOUT = "stockout"

    class Severity(models.TextChoices):
        WARNING = "warning"
        CRITICAL = "critical"
        EMERGENCY = "emergency"

    class Status(models.TextChoices):
        ACTIVE = "active"
        ACKNOWLEDGED = "acknowledged"
        RESOLVED = "resolved"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inventory_alerts")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="inventory_alerts")
    type = models.CharField(max_length=20, choices=Type.choices)
    severity = models.CharField(max_length=20, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    stock_level = models.IntegerField()
    threshold = models.PositiveIntegerField()
    message = models.CharField(max_length=300, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "type"],
                condition=~models.Q(status="resolved"),
                name="one_open_alert_per_product_and_type",
            ),
        ]
        indexes = [models.Index(fields=["vendor", "status", "-created_at"])]

    def __str__(self):
        return f"{self.type} {self.severity} for {self.product}"


class Review(models.Model):
    """A customer's rating of a product, or of the vendor when product is empty,
    allowed only for a delivered order that contained it."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="reviews")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="reviews")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            models.UniqueConstraint(
                fields=["customer", "order", "product"],
                condition=models.Q(product__isnull=False),
                name="one_product_review_per_order",
            ),
            models.UniqueConstraint(
                fields=["customer", "order"],
                condition=models.Q(product__isnull=True),
                name="one_vendor_review_per_order",
            ),
        ]
        indexes = [models.Index(fields=["product", "-created_at"]), models.Index(fields=["vendor", "-created_at"])]

    def __str__(self):
        return f"{self.rating}★ by {self.customer}"


class WishlistItem(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="wishlisted_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="wishlist_unique_user_product")]

    def __str__(self):
        return f"{self.user} ♥ {self.product}"
