"""The vendor applications pages of the admin dashboard (included under /dashboard/ in the `dashboard` namespace)."""

from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("applications/", dashboard_views.application_queue_page, name="applications"),
    path("applications/queue/", dashboard_views.application_queue, name="applications-queue"),
    path("applications/<int:pk>/", dashboard_views.application_detail, name="application"),
    path("applications/<int:pk>/live/", dashboard_views.application_live, name="application-live"),
    path("applications/<int:pk>/<slug:action>/", dashboard_views.application_act, name="application-act"),
]
