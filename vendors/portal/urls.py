"""The shop's status, hours, holidays and profile, and the applicant's page (included under /vendor/ in the
`vendor` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("shop/status/", views.shop_status_page, name="shop-status"),
    path("shop/status/now/", views.shop_status_now, name="shop-status-now"),
    path("shop/status/set/", views.shop_status_set, name="shop-status-set"),
    path("shop/hours/", views.shop_hours, name="shop-hours"),
    path("shop/holidays/", views.shop_holidays, name="shop-holidays"),
    path("shop/holidays/add/", views.shop_holiday_add, name="shop-holiday-add"),
    path("shop/holidays/<int:pk>/remove/", views.shop_holiday_remove, name="shop-holiday-remove"),
    path("shop/profile/", views.shop_profile, name="shop-profile"),
    path("application/", views.application_page, name="application"),
    path("application/status/", views.application_status, name="application-status"),
    path("application/documents/", views.application_document_upload, name="application-document-upload"),
    path("application/documents/<int:pk>/", views.application_document_download, name="application-document"),
    path(
        "application/documents/<int:pk>/remove/",
        views.application_document_remove,
        name="application-document-remove",
    ),
    path("application/resubmit/", views.application_resubmit, name="application-resubmit"),
]
