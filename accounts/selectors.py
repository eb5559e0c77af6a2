"""Reads for the notification inbox, API-token authentication, the dashboard's users and the activity log."""

from datetime import date, timedelta
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from .models import AdminActivityLog, ApiToken, Notification, User

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


# The dashboard's users -------------------------------------------------------------------------

USER_KINDS = {
    "customers": Q(is_staff=False, vendor_membership__isnull=True),
    "shop_staff": Q(vendor_membership__isnull=False),
    "admins": Q(is_staff=True),
    "suspended": Q(is_suspended=True),
}


def user_search(*, text: str = "", kind: str = "") -> QuerySet[User]:
    """Users whose name or email contains `text`, of one kind (USER_KINDS) or all."""
    users = User.objects.select_related("vendor_membership__vendor").order_by("-date_joined", "-id")
    if text:
        users = users.filter(Q(full_name__icontains=text) | Q(email__icontains=text))
    if kind:
        users = users.filter(USER_KINDS[kind])
    return users


def user_version(user: User) -> str:
    """What the dashboard's user actions read: User has no updated_at, so its version is these flags."""
    return f"suspended={int(user.is_suspended)};admin={int(user.is_staff)};active={int(user.is_active)}"


# The admin activity log ------------------------------------------------------------------------


def activity_log_search(
    *,
    admin: User | None = None,
    category: str = "",
    entity_type: str = "",
    entity_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AdminActivityLog]:
    """Entries matching every filter given, newest first; dates are whole days in the site's time zone."""
    entries = AdminActivityLog.objects.select_related("admin").order_by("-created_at", "-id")
    if admin is not None:
        entries = entries.filter(admin=admin)
    if category:
        entries = entries.filter(category=category)
    if entity_type:
        entries = entries.filter(entity_type=entity_type)
    if entity_id:
        entries = entries.filter(entity_id=entity_id)
    if date_from is not None:
        entries = entries.filter(created_at__date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(created_at__date__lte=date_to)
    return entries


def activity_log_admins() -> QuerySet[User]:
    """Everyone the log can be filtered by: today's admins and anyone who has an entry."""
    return User.objects.filter(Q(is_staff=True) | Q(admin_activity__isnull=False)).distinct().order_by("full_name")


def activity_url_for(obj) -> str:
    """The activity log filtered to one object's entries, for a link on that object's dashboard page."""
    query = urlencode({"entity_type": obj._meta.label_lower, "entity_id": obj.pk})
    return f"{reverse('dashboard:activity')}?{query}"


def signed_in_devices(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens still valid, most recently used first."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by(
        F("last_used_at").desc(nulls_last=True), "-created_at", "-id"
    )
