"""Product moderation in the admin dashboard (included under /dashboard/ in the `dashboard` namespace)."""

from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("products/", dashboard_views.products_page, name="products"),
    path("products/list/", dashboard_views.products_list, name="products-list"),
    path("products/<int:pk>/moderation/", dashboard_views.product_row, name="product-row"),
    path("products/<int:pk>/moderate/", dashboard_views.product_moderate, name="product-moderate"),
]
