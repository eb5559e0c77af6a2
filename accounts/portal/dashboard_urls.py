"""The dashboard's users, activity log and announcements pages (included under /dashboard/)."""

from django.urls import path

from . import dashboard_activity, dashboard_announcements, dashboard_users

urlpatterns = [
    path("users/", dashboard_users.users_page, name="users"),
    path("users/list/", dashboard_users.users_list, name="users-list"),
    path("users/<int:pk>/", dashboard_users.user_detail, name="user"),
    path("users/<int:pk>/account/", dashboard_users.user_account, name="user-account"),
    path("users/<int:pk>/suspension/", dashboard_users.user_suspension, name="user-suspension"),
    path("users/<int:pk>/admin-rights/", dashboard_users.user_admin_rights, name="user-admin-rights"),
    path("activity/", dashboard_activity.activity_page, name="activity"),
    path("activity/entries/", dashboard_activity.activity_entries, name="activity-entries"),
    path("activity/export.csv", dashboard_activity.activity_export, name="activity-export"),
    path("announcements/", dashboard_announcements.announcements_page, name="announcements"),
    path("announcements/sent/", dashboard_announcements.announcements_sent, name="announcements-sent"),
]
