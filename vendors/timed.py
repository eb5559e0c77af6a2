"""The shops' timed changes: pauses that end, and shops paused when no portal watches them."""

from datetime import datetime, timedelta

from django.conf import settings

from zora.scheduling import timed_change

from . import services
from .models import Vendor
from .presence import vendor_ids_with_portal_open
from .selectors import vendors_unattended

# When this process began watching presence. It cannot know who was connected before it started
# (a restart drops every socket, and tablets take a moment to reconnect), so absence counts from here.
_watching_since: datetime | None = None


@timed_change(every=30)
def resume_paused_shops(now: datetime) -> int:
    due = Vendor.objects.filter(opening_status=Vendor.OpeningStatus.CLOSED, paused_until__lte=now)
    return sum(services.vendor_resume_due(vendor_id=pk, now=now) for pk in due.values_list("pk", flat=True))


@timed_change(every=60)
def pause_shops_without_portal(now: datetime) -> int:
    """Notes which shops have a portal tab open, then pauses those nobody has watched for the
    configured minutes of their opening hours."""
    global _watching_since
    services.portal_sightings_record(vendor_ids=vendor_ids_with_portal_open(), now=now)
    if _watching_since is None:
        _watching_since = now
    minutes = settings.VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES
    if not minutes or now - _watching_since < timedelta(minutes=minutes):
        return 0
    candidates = vendors_unattended(since=now - timedelta(minutes=minutes)).values_list("pk", flat=True)
    return sum(
        services.vendor_pause_unattended(vendor_id=pk, now=now, watched_since=_watching_since) for pk in candidates
    )
