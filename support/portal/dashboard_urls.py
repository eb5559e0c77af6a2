"""The support inbox on the admin dashboard (included under /dashboard/ in the `dashboard` namespace)."""

from django.urls import path

from . import dashboard_views as views

urlpatterns = [
    path("support/", views.inbox_page, name="support"),
    path("support/list/", views.inbox_list, name="support-list"),
    path("support/<int:pk>/", views.thread_detail, name="thread"),
    path("support/<int:pk>/actions/", views.thread_actions, name="thread-actions"),
    path("support/<int:pk>/timeline/", views.thread_timeline, name="thread-timeline"),
    path("support/<int:pk>/settings/", views.thread_settings, name="thread-settings"),
    path("support/<int:pk>/reply/", views.thread_reply, name="thread-reply"),
    path("support/<int:pk>/notes/", views.thread_note, name="thread-note"),
    path("support/templates/", views.templates_page, name="support-templates"),
    path("support/templates/<int:pk>/", views.template_edit, name="support-template"),
]
