"""The admin dashboard under /dashboard/: each app's dashboard pages in the `dashboard` namespace."""

from django.urls import include, path

from accounts.portal import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.overview, name="overview"),
    path("overview/figures/", dashboard_views.overview_figures_partial, name="overview-figures"),
    path("overview/feed/", dashboard_views.overview_feed_partial, name="overview-feed"),
    path("", include("accounts.portal.dashboard_urls")),
    path("", include("support.portal.dashboard_urls")),
    path("", include("orders.portal.dashboard_urls")),
    path("", include("vendors.portal.dashboard_shops_urls")),
    path("", include("vendors.portal.dashboard_urls")),
    path("", include("catalog.portal.dashboard_urls")),
]
