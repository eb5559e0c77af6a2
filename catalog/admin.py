from django.contrib import admin
from django.db.models import Count

from accounts.admin_base import (
    PublishedModelAdmin,
    ReadOnlyAdmin,
    adopt_created,
    changed_fields,
    service_action,
)
from catalog import services
from catalog.models import Category, InventoryAlert, Product, Review, StockMovement, WishlistItem


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "product_count")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    readonly_fields = ("slug",)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.category_create(
            actor=request.user, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
        )
        adopt_created(obj, created)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(ordering="product_count", description="products")
    def product_count(self, category):
        return category.product_count


@admin.register(Product)
class ProductAdmin(PublishedModelAdmin):
    """Edits go through the product services, so inventory alerts follow every stock change."""

    list_display = ("name", "vendor", "category", "price", "stock", "low_stock_threshold", "is_active", "rating_avg")
    list_filter = ("is_active", "category", "vendor")
    search_fields = ("name", "description", "vendor__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("vendor", "category")
    list_select_related = ("vendor", "category")
    # "Out of stock until" is set and ended by its services, which keep the stock history.
    readonly_fields = (
        "rating_avg",
        "rating_count",
        "stock_to_restore",
        "out_of_stock_until",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        # A product stays with the vendor it was created for.
        return self.readonly_fields + (("vendor",) if obj else ())

    def save_model(self, request, obj, form, change):
        fields = changed_fields(form, services.EDITABLE_PRODUCT_FIELDS)
        if change:
            if fields:
                services.product_update(actor=request.user, product=obj, **fields)
            return
        created = services.product_create(actor=request.user, vendor=form.cleaned_data["vendor"], **fields)
        adopt_created(obj, created)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """Every stock change as it happened: written by the services, never edited."""

    list_display = ("product", "vendor", "reason", "delta", "stock_before", "stock_after", "actor", "created_at")
    list_filter = ("reason",)
    search_fields = ("product__name", "vendor__name", "note")
    date_hierarchy = "created_at"
    list_select_related = ("product", "vendor", "actor")


@admin.register(InventoryAlert)
class InventoryAlertAdmin(ReadOnlyAdmin):
    """Alerts are raised and resolved by stock changes; admins only acknowledge them."""

    list_display = ("product", "vendor", "type", "severity", "status", "stock_level", "threshold", "created_at")
    list_filter = ("status", "type", "severity")
    search_fields = ("product__name", "vendor__name", "message")
    date_hierarchy = "created_at"
    list_select_related = ("product", "vendor")
    actions = [
        service_action(
            "acknowledge",
            "Acknowledge selected alerts",
            lambda request, alert: services.inventory_alert_acknowledge(actor=request.user, alert=alert),
            "Acknowledged",
        )
    ]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    """Reviews come from customers with a delivered order; their ratings feed the aggregates."""

    list_display = ("__str__", "product", "vendor", "order", "rating", "created_at")
    list_filter = ("rating",)
    search_fields = ("comment", "customer__email", "product__name", "vendor__name", "order__number")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "product", "vendor", "order")


@admin.register(WishlistItem)
class WishlistItemAdmin(ReadOnlyAdmin):
    list_display = ("user", "product", "created_at")
    search_fields = ("user__email", "product__name")
    date_hierarchy = "created_at"
    list_select_related = ("user", "product")
