"""Orders in the admin dashboard (included under /dashboard/ in the `dashboard` namespace)."""

from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("orders/", dashboard_views.orders_page, name="orders"),
    path("orders/list/", dashboard_views.orders_list, name="orders-list"),
    path("orders/<int:pk>/", dashboard_views.order_detail, name="order"),
    path("orders/<int:pk>/actions/", dashboard_views.order_actions, name="order-actions"),
    path("orders/<int:pk>/history/", dashboard_views.order_history, name="order-history"),
    path("orders/<int:pk>/cancel/", dashboard_views.order_cancel, name="order-cancel"),
    path("orders/<int:pk>/refund/", dashboard_views.order_refund, name="order-refund"),
]
