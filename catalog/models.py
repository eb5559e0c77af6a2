from decimal import Decimal

from django.conf import settings
from django.db import models

from zora.uploads import RandomName, public_storage

PRODUCT_IMAGE_FOLDER = "products"


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
    # "Out of stock until": while set, the stock was taken to 0 and this much comes back
    # (at `out_of_stock_until`, or by hand when that is empty: out of stock indefinitely).
    stock_to_restore = models.PositiveIntegerField(null=True, blank=True)
    out_of_stock_until = models.DateTimeField(null=True, blank=True)
    # Why the platform team took the product off sale; shown to the shop, never to customers.
    moderation_reason = models.TextField(blank=True)
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
            models.CheckConstraint(
                condition=models.Q(out_of_stock_until__isnull=True) | models.Q(stock_to_restore__isnull=False),
                name="product_restore_time_needs_a_level",
            ),
        ]
        indexes = [
            models.Index(fields=["vendor", "is_active", "name"]),
            models.Index(fields=["category", "is_active"]),
            models.Index(fields=["-created_at"]),
            models.Index(
                fields=["out_of_stock_until"],
                condition=models.Q(out_of_stock_until__isnull=False),
                name="product_stock_restore_due",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def held_out_of_stock(self) -> bool:
        return self.stock_to_restore is not None

    @property
    def is_low_on_stock(self) -> bool:
        return 0 < self.stock <= self.low_stock_threshold


class OutOfStockFor(models.TextChoices):
    """How long "out of stock until" holds a product at 0 before its stock comes back."""

    END_OF_DAY = "end_of_day", "Until the end of the day"
    FOUR_HOURS = "four_hours", "For 4 hours"
    INDEFINITELY = "indefinitely", "Until I bring it back"


class ProductImage(models.Model):
    """An uploaded picture of a product; `Product.images` lists their URLs in `position` order."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="uploaded_images")
    image = models.ImageField(upload_to=RandomName(PRODUCT_IMAGE_FOLDER), storage=public_storage)
    thumbnail = models.ImageField(upload_to=RandomName(f"{PRODUCT_IMAGE_FOLDER}/thumbnails"), storage=public_storage)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"Image {self.position + 1} of {self.product}"


class StockMovement(models.Model):
    """One change of a product's stock: who, when, why, before and after. Never edited."""

    class Reason(models.TextChoices):
        RESTOCK = "restock", "Restock (a delivery)"
        CORRECTION = "correction", "Correction (a stock-take)"
        DAMAGED = "damaged", "Damaged or expired"
        SALE = "sale", "Sale"
        CANCELLATION = "cancellation", "Order cancelled"
        REFUND = "refund", "Order refunded"
        OUT_OF_STOCK_UNTIL = "out_of_stock_until", "Marked out of stock"
        RESTORED = "restored", "Back in stock"
        OTHER = "other", "Other"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_movements")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.CASCADE, related_name="stock_movements")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system did it (a timed restore).",
    )
    delta = models.IntegerField()
    stock_before = models.IntegerField()
    stock_after = models.IntegerField()
    reason = models.CharField(max_length=30, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stock_after=models.F("stock_before") + models.F("delta")),
                name="stock_movement_adds_up",
            ),
        ]
        indexes = [models.Index(fields=["product", "-created_at"])]

    def __str__(self):
        return f"{self.product}: {self.stock_before} → {self.stock_after} ({self.reason})"


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
    # Units sold per day lately, and when the shelf empties at that pace (empty when it is not selling).
    sales_velocity_per_day = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    estimated_stockout_at = models.DateTimeField(null=True, blank=True)
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
    # The shop's one public answer (editable; replied_at is when it was last written).
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
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
