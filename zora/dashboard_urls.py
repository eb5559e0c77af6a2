"""The admin dashboard under /dashboard/: each app's dashboard pages in the `dashboard` namespace."""

from django.urls import path

from accounts.portal import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("", dashboard_views.overview, name="overview"),
    path("overview/figures/", dashboard_views.overview_figures_partial, name="overview-figures"),
    path("overview/feed/", dashboard_views.overview_feed_partial, name="overview-feed"),
]
