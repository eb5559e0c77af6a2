"""A shop taking orders that no portal tab watches pauses itself; presence tells which shops are watched."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from accounts.models import Notification
from realtime.socket.channels import ONLINE
from realtime.socket.presence import PresenceEntry, new_meta, presence_store
from tests import factories
from vendors import selectors, services, timed
from vendors.models import OpeningHours, Vendor, VendorPortalPresence
from vendors.presence import vendor_ids_with_portal_open

pytestmark = pytest.mark.django_db
PAUSE_MINUTES = 10


@pytest.fixture(autouse=True)
def pause_after_ten_minutes(settings, monkeypatch):
    settings.VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES = PAUSE_MINUTES
    monkeypatch.setattr(timed, "_watching_since", None)


@pytest.fixture
def present(monkeypatch):
    """The shops with a portal tab open, as the sweep will find them."""
    shops: set[int] = set()
    monkeypatch.setattr(timed, "vendor_ids_with_portal_open", lambda: set(shops))
    return shops


def seen(vendor, at):
    VendorPortalPresence.objects.update_or_create(vendor=vendor, defaults={"last_seen_at": at})


def pause(vendor, now, watched_since=None):
    return services.vendor_pause_unattended(
        vendor_id=vendor.pk, now=now, watched_since=watched_since or now - timedelta(days=1)
    )


# Sightings --------------------------------------------------------------------------------------


def test_sightings_write_each_shop_at_most_once_a_minute(vendor):
    other = factories.VendorFactory()
    now = timezone.now()

    assert services.portal_sightings_record(vendor_ids={vendor.pk, other.pk}, now=now) == 2
    assert services.portal_sightings_record(vendor_ids={vendor.pk}, now=now + timedelta(seconds=59)) == 0
    assert services.portal_sightings_record(vendor_ids={vendor.pk}, now=now + timedelta(seconds=60)) == 1

    assert selectors.vendor_portal_last_seen(vendor=vendor) == now + timedelta(seconds=60)
    assert selectors.vendor_portal_last_seen(vendor=other) == now


# The rule -----------------------------------------------------------------------------------------


def test_ten_minutes_without_a_portal_pauses_the_shop_and_tells_its_team(vendor):
    clerk = factories.VendorStaffFactory(vendor=vendor).user
    now = timezone.now()
    seen(vendor, now - timedelta(minutes=PAUSE_MINUTES))

    assert pause(vendor, now)

    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.paused_until) == ("closed", None)
    assert vendor.pause_reason == "Paused automatically: no portal was open for 10 minutes"
    assert not selectors.vendor_is_open_now(vendor=vendor)
    for member in (vendor.owner, clerk):
        notice = Notification.objects.get(user=member)
        assert notice.body.startswith(vendor.pause_reason)
        assert notice.action_url == "/vendor/shop/status/"


@pytest.mark.parametrize(
    "situation",
    ["seen recently", "never seen", "already paused", "outside its hours", "just opened", "watching just began", "off"],
)
def test_no_pause_unless_unattended_for_ten_minutes_of_opening_time(vendor, settings, situation):
    now = timezone.now()
    watched_since = now - timedelta(days=1)
    seen(vendor, now - timedelta(hours=3))
    if situation == "seen recently":
        seen(vendor, now - timedelta(minutes=PAUSE_MINUTES - 1))
    elif situation == "never seen":
        VendorPortalPresence.objects.filter(vendor=vendor).delete()
    elif situation == "already paused":
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="closed")
    elif situation == "outside its hours":
        opens = timezone.localtime(now + timedelta(hours=1))
        OpeningHours.objects.create(
            vendor=vendor, weekday=opens.weekday(), opens_at=opens.time(), closes_at=(opens + timedelta(hours=1)).time()
        )
    elif situation == "just opened":
        opened = timezone.localtime(now - timedelta(minutes=PAUSE_MINUTES - 2))
        OpeningHours.objects.create(
            vendor=vendor,
            weekday=opened.weekday(),
            opens_at=opened.time(),
            closes_at=(opened + timedelta(hours=2)).time(),
        )
    elif situation == "watching just began":
        watched_since = now - timedelta(minutes=1)
    else:
        settings.VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES = 0

    assert not pause(vendor, now, watched_since)
    vendor.refresh_from_db()
    assert vendor.pause_reason == ""


# The sweep ----------------------------------------------------------------------------------------


def test_the_sweep_notes_who_is_watched_and_pauses_the_shop_left_alone(vendor, present):
    watched = factories.VendorFactory()
    start = timezone.now()
    present.update({vendor.pk, watched.pk})
    assert timed.pause_shops_without_portal(start) == 0

    present.discard(vendor.pk)
    assert timed.pause_shops_without_portal(start + timedelta(minutes=PAUSE_MINUTES - 1)) == 0
    assert timed.pause_shops_without_portal(start + timedelta(minutes=PAUSE_MINUTES)) == 1
    assert timed.pause_shops_without_portal(start + timedelta(minutes=PAUSE_MINUTES + 1)) == 0

    assert Vendor.objects.get(pk=vendor.pk).opening_status == "closed"
    assert Vendor.objects.get(pk=watched.pk).opening_status == "open"


def test_a_process_that_just_started_waits_before_pausing_anyone(vendor, present):
    """After a restart nobody is connected yet; the tablets need a moment to come back."""
    now = timezone.now()
    seen(vendor, now - timedelta(hours=1))

    assert timed.pause_shops_without_portal(now) == 0
    assert timed.pause_shops_without_portal(now + timedelta(minutes=PAUSE_MINUTES - 1)) == 0
    assert timed.pause_shops_without_portal(now + timedelta(minutes=PAUSE_MINUTES)) == 1


# Presence -----------------------------------------------------------------------------------------


def test_presence_on_realtime_online_says_which_shops_have_a_vendor_portal_open(vendor, customer):
    other_shop_staff = factories.VendorFactory().owner
    inactive = factories.VendorFactory(is_active=False)
    tabs = {
        "tab-1": (vendor.owner, "vendor"),
        "tab-2": (other_shop_staff, "app"),
        "tab-3": (customer, "vendor"),
        "tab-4": (inactive.owner, "vendor"),
    }
    store = presence_store()
    for socket_id, (user, portal) in tabs.items():
        entry = PresenceEntry(str(user.pk), new_meta({"user_id": user.pk, "portal": portal}))
        async_to_sync(store.track)(ONLINE, socket_id, entry)
    try:
        assert vendor_ids_with_portal_open() == {vendor.pk}
    finally:
        for socket_id in tabs:
            async_to_sync(store.untrack)(ONLINE, socket_id)
    assert vendor_ids_with_portal_open() == set()
