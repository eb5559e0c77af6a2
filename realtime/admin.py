from django.contrib import admin

from accounts.admin_base import ReadOnlyAdmin
from realtime.models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The outbox as the relay sees it, for diagnosing what clients were (or were not) sent."""

    list_display = ("id", "seq", "table", "type", "created_at", "numbered_at", "published_at")
    list_filter = ("table", "type", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("=id", "=seq", "table")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    show_full_result_count = False
