from functools import cache

from accounts.selectors import notification_unread_count, notifications_latest


def notification_bell(request):
    """The bell in every portal page's header: read once, and only when a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_count": cache(lambda: notification_unread_count(user=user)),
        "notifications": cache(lambda: notifications_latest(user=user)),
    }
