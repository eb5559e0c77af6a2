"""Stale-action refusal: every admin action carries the version of the object the admin saw.

Two admins on the same application, order or thread each act on what their
page showed them. The page sends that version back with the action; the
service, holding the row's lock, compares it with the row as it is now and
refuses a mismatch with who changed it and when ("Ada Lovell approved this
20 seconds ago"), instead of silently overwriting the other's decision.
"""

from datetime import UTC, timedelta

from django.utils import timezone
from django.utils.timesince import timesince

from zora.errors import Conflict

SEEN_VERSION_FIELD = "seen_version"


def version_of(obj) -> str:
    """The version a page shows: the row's last change, to the microsecond."""
    return version_at(obj.updated_at)


def version_at(moment) -> str:
    """The version of a row last changed at `moment`, in whatever time zone the moment was written."""
    return moment.astimezone(UTC).isoformat()


# How an activity-log action reads after a name: "Ada Lovell approved this 20 seconds ago".
ACTION_PHRASES = {
    "application.under_review": "started reviewing",
    "application.documents_required": "asked for documents on",
    "application.approved": "approved",
    "application.rejected": "rejected",
    "order_status_changed": "moved",
    "order_refunded": "refunded",
    "support.replied": "replied to",
    "support.note_added": "added a note to",
    "support.thread_updated": "updated",
    "user.suspended": "suspended",
    "user.reinstated": "reactivated",
    "user.admin_granted": "made an admin of",
    "user.admin_revoked": "took admin rights from",
    "vendor.activated": "reactivated",
    "vendor.deactivated": "suspended",
    "product.deactivated": "deactivated",
    "product.reactivated": "reactivated",
}
# A log entry this much older than the row's last change did not make that change.
SAME_CHANGE = timedelta(seconds=2)


def _ago(moment) -> str:
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''} ago"
    return f"{timesince(moment, timezone.now())} ago"


def _last_change_said(entity) -> str:
    from accounts.models import AdminActivityLog

    changed_at = getattr(entity, "updated_at", None)
    entry = (
        AdminActivityLog.objects.filter(entity_type=entity._meta.label_lower, entity_id=str(entity.pk))
        .select_related("admin")
        .order_by("-created_at", "-id")
        .first()
    )
    if entry is None or (changed_at is not None and entry.created_at < changed_at - SAME_CHANGE):
        # The last change was not an admin's (an applicant's resubmission, a shop's move).
        return f"This was changed {_ago(changed_at)}" if changed_at else "This has changed since you loaded it"
    phrase = ACTION_PHRASES.get(entry.action, entry.action.rsplit(".", 1)[-1].replace("_", " "))
    return f"{entry.admin_name or entry.admin.get_full_name()} {phrase} this {_ago(entry.created_at)}"


def ensure_unchanged(*, entity, seen_version: str | None, current_version: str | None = None) -> None:
    """Refuses when the page's version is not the row's. `None` means the caller saw no version
    (the API, Django admin), which keeps today's last-write-wins for them."""
    if seen_version is None:
        return
    current = current_version if current_version is not None else version_of(entity)
    if seen_version != current:
        raise Conflict(
            f"{_last_change_said(entity)}; nothing was changed. Look at the current state before acting again.",
            code="stale_version",
            field=SEEN_VERSION_FIELD,
            current_version=current,
        )
