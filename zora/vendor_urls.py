"""The vendor portal under /vendor/: each app's portal pages in the `vendor` namespace."""

from django.urls import include, path

from vendors.portal import dashboard

app_name = "vendor"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("dashboard/stats/", dashboard.dashboard_stats, name="dashboard-stats"),
    path("dashboard/latest-orders/", dashboard.dashboard_latest_orders, name="dashboard-latest-orders"),
    path("dashboard/alerts/", dashboard.dashboard_alerts, name="dashboard-alerts"),
    path("", include("support.portal.urls")),
]
