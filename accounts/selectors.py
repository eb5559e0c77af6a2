"""Reads for the notification inbox and API-token authentication."""

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken, Notification, User

# Writing last_used_at on every request would turn each API read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_latest(*, user: User, limit: int = 8) -> list[Notification]:
    """What the bell's dropdown lists: the newest first, read or not."""
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def api_token_user(*, key: str) -> User | None:
    """The owner of an unrevoked token, if they may still use Zora; records when the token was last used."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=ApiToken.hash_key(key),
            revoked_at__isnull=True,
            user__is_active=True,
            user__is_suspended=False,
        )
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
    return token.user
