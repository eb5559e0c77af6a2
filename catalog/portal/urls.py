"""Products, inventory alerts and reviews in the vendor portal (included under /vendor/ in the `vendor` namespace)."""

from django.urls import path

from . import inventory, products, reviews

urlpatterns = [
    path("products/", products.products_page, name="products"),
    path("products/list/", products.products_list, name="products-list"),
    path("products/new/", products.product_create, name="product-create"),
    path("products/<int:pk>/", products.product_edit, name="product-edit"),
    path("products/<int:pk>/active/", products.product_set_active, name="product-active"),
    path("products/<int:pk>/stock/", products.product_stock, name="product-stock"),
    path("products/<int:pk>/stock/history/", products.product_stock_history, name="product-stock-history"),
    path("products/<int:pk>/stock/adjust/", products.product_stock_adjust, name="product-stock-adjust"),
    path("products/<int:pk>/out-of-stock/", products.product_out_of_stock, name="product-out-of-stock"),
    path("products/<int:pk>/back-in-stock/", products.product_back_in_stock, name="product-back-in-stock"),
    path("products/<int:pk>/images/", products.product_image_add, name="product-image-add"),
    path(
        "products/<int:pk>/images/<int:image_id>/remove/",
        products.product_image_remove,
        name="product-image-remove",
    ),
    path(
        "products/<int:pk>/images/<int:image_id>/main/",
        products.product_image_make_main,
        name="product-image-main",
    ),
    path("inventory/", inventory.inventory_page, name="inventory"),
    path("inventory/list/", inventory.inventory_list, name="inventory-list"),
    path("inventory/<int:pk>/acknowledge/", inventory.inventory_acknowledge, name="inventory-acknowledge"),
    path("reviews/", reviews.reviews_page, name="reviews"),
    path("reviews/list/", reviews.reviews_list, name="reviews-list"),
    path("reviews/<int:pk>/reply/", reviews.review_reply, name="review-reply"),
]
