"""Messages in the vendor portal (included under /vendor/ in the `vendor` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.messages_page, name="messages"),
    path("messages/list/", views.conversation_list, name="messages-list"),
    path("messages/<int:pk>/", views.conversation_page, name="conversation"),
    path("messages/<int:pk>/thread/", views.conversation_thread, name="conversation-thread"),
    path("messages/<int:pk>/reply/", views.conversation_reply, name="conversation-reply"),
    path("messages/photos/<int:pk>/", views.conversation_attachment, name="conversation-attachment"),
]
