"""The vendor portal under /vendor/: each app's portal pages in the `vendor` namespace."""

from django.urls import include, path

from vendors.portal import home

app_name = "vendor"

urlpatterns = [
    path("", home.dashboard, name="dashboard"),
    path("dashboard/stats/", home.dashboard_stats, name="dashboard-stats"),
    path("dashboard/latest-orders/", home.dashboard_latest_orders, name="dashboard-latest-orders"),
    path("dashboard/alerts/", home.dashboard_alerts, name="dashboard-alerts"),
    path("", include("support.portal.urls")),
    path("", include("orders.portal.urls")),
    path("", include("catalog.portal.urls")),
    path("", include("vendors.portal.urls")),
]
