"""The order desk in the vendor portal (included under /vendor/ in the `vendor` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.order_list_page, name="orders"),
    path("orders/list/", views.order_list, name="orders-list"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/status/", views.order_status, name="order-status"),
    path("orders/<int:pk>/history/", views.order_history, name="order-history"),
    path("orders/<int:pk>/move/", views.order_move, name="order-move"),
    path("orders/<int:pk>/notes/", views.order_note_add, name="order-note-add"),
    path("orders/<int:pk>/ticket/", views.order_ticket, name="order-ticket"),
]
