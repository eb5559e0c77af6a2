"""Shops in the admin dashboard (included under /dashboard/ in the `dashboard` namespace)."""

from django.urls import path

from . import dashboard_shops

urlpatterns = [
    path("vendors/", dashboard_shops.vendors_page, name="vendors"),
    path("vendors/list/", dashboard_shops.vendors_list, name="vendors-list"),
    path("vendors/<int:pk>/", dashboard_shops.vendor_detail, name="vendor"),
    path("vendors/<int:pk>/account/", dashboard_shops.vendor_account, name="vendor-account"),
    path("vendors/<int:pk>/activation/", dashboard_shops.vendor_activation, name="vendor-activation"),
]
