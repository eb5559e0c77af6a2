"""The dashboard's vendors pages, through Django's test client."""

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminActivityLog
from orders.models import Order
from orders.selectors import vendor_order_health
from tests import factories
from vendors import services
from vendors.models import VendorPortalPresence
from vendors.selectors import vendor_paused_time
from vendors.services import vendor_set_active
from zora.versions import version_of


@contextmanager
def freeze(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page_urls(vendor):
    return [
        reverse("dashboard:vendors"),
        reverse("dashboard:vendors-list"),
        reverse("dashboard:vendor", args=[vendor.pk]),
        reverse("dashboard:vendor-account", args=[vendor.pk]),
    ]


def set_active(client, vendor, make_active, htmx=True, **fields):
    data = {
        "seen_version": version_of(vendor),
        "active": "1" if make_active else "0",
        "reason": "Unpaid fees",
        **fields,
    }
    return client.post(reverse("dashboard:vendor-activation", args=[vendor.pk]), data, **(HTMX if htmx else {}))


def test_anonymous_visitors_are_sent_to_sign_in(client, vendor):
    for url in page_urls(vendor):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    assert set_active(client, vendor, False).status_code == 302
    vendor.refresh_from_db()
    assert vendor.is_active


def test_customers_and_shop_staff_get_the_sign_in_page(client, customer, vendor):
    for user in (customer, vendor.owner):
        client.force_login(user)
        for url in page_urls(vendor):
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
        assert set_active(client, vendor, False).status_code == 302
    vendor.refresh_from_db()
    assert vendor.is_active


def test_an_admin_sees_every_page(admin_client, vendor):
    factories.OrderFactory(vendor=vendor)
    for url in page_urls(vendor):
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get(reverse("dashboard:vendor", args=[vendor.pk + 1000])).status_code == 404


def test_the_list_shows_status_rating_and_orders_today_and_filters(admin_client, vendor):
    vendor.rating_avg, vendor.rating_count = "4.50", 12
    vendor.save()
    suspended = factories.VendorFactory(name="Closed Corner", is_active=False)
    factories.OrderFactory(vendor=vendor)
    factories.OrderFactory(vendor=vendor)
    page = admin_client.get(reverse("dashboard:vendors")).content.decode()
    assert vendor.name in page and suspended.name in page and "4.50" in page and "Suspended" in page
    listed = admin_client.get(reverse("dashboard:vendors-list"), {"state": "suspended"}).content.decode()
    assert suspended.name in listed and vendor.name not in listed
    listed = admin_client.get(reverse("dashboard:vendors-list"), {"q": "corner"}).content.decode()
    assert suspended.name in listed and vendor.name not in listed
    listed = admin_client.get(reverse("dashboard:vendors-list"), {"state": "open"}).content.decode()
    assert '<td class="num">2</td>' in listed


def test_the_health_figures(vendor):
    now = timezone.now()
    accepted = factories.OrderFactory(vendor=vendor, status=Order.Status.CONFIRMED)
    Order.objects.filter(pk=accepted.pk).update(
        created_at=now - timedelta(minutes=10), accepted_at=now - timedelta(minutes=6)
    )
    factories.OrderFactory(vendor=vendor, status=Order.Status.CANCELLED, cancel_reason_code="not_accepted_in_time")
    factories.OrderFactory(vendor=vendor, status=Order.Status.CANCELLED, cancel_reason_code="customer_request")
    old = factories.OrderFactory(vendor=vendor, status=Order.Status.CANCELLED, cancel_reason_code="too_busy")
    Order.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=31))
    health = vendor_order_health(vendor=vendor, now=now)
    assert health.orders == 3 and health.cancelled == 1 and health.auto_rejected == 1
    assert health.average_acceptance_minutes == 4
    assert str(health.cancellation_rate) == "33.3"


def test_time_paused_counts_the_shops_pauses_within_the_window(admin_client, vendor, settings):
    """Pauses by the team and the heartbeat's automatic ones, each clipped to the window; a due end
    counts as the end even before the sweep reopens the shop."""
    now = timezone.now()
    with freeze(now - timedelta(days=31)):
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="closed")
    with freeze(now - timedelta(days=30, hours=-2)):  # 2 h of this pause fall inside the 30 days
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="open")
    with freeze(now - timedelta(days=29)):  # wholly inside: the page, reading the clock later, counts it all
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="closed")
    with freeze(now - timedelta(days=29, hours=-1)):
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="open")
    with freeze(now - timedelta(hours=5)):
        services.vendor_set_status(
            actor=vendor.owner, vendor=vendor, opening_status="closed", paused_until=now - timedelta(hours=4)
        )
    with freeze(now - timedelta(minutes=45)):
        vendor.refresh_from_db()
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="open")  # after its due end
    settings.VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES = 10
    VendorPortalPresence.objects.create(vendor=vendor, last_seen_at=now - timedelta(minutes=42))
    unwatched = now - timedelta(minutes=30)
    assert services.vendor_pause_unattended(vendor_id=vendor.pk, now=unwatched, watched_since=now - timedelta(days=1))

    paused = vendor_paused_time(vendor=vendor, since=now - timedelta(days=30), now=now)
    # 2 h + 1 h + the 1 h up to the due end, not the 4 h 15 until it was reopened
    assert paused.by_team == timedelta(hours=4)
    assert paused.unattended == timedelta(minutes=30)
    page = admin_client.get(reverse("dashboard:vendor", args=[vendor.pk])).content.decode()
    assert "3 h 59 min" in page or "4 h 0 min" in page  # its window starts a moment later
    assert "30 min" in page


def test_an_admin_suspends_and_reactivates_a_shop(admin_client, admin_user, vendor):
    response = set_active(admin_client, vendor, False)
    assert response.status_code == 200 and "Reactivate the shop" in response.content.decode()
    vendor.refresh_from_db()
    assert not vendor.is_active
    assert AdminActivityLog.objects.filter(entity_id=str(vendor.pk), action="vendor.deactivated").exists()
    response = set_active(admin_client, vendor, True, htmx=False)
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.is_active


def test_suspending_without_a_reason_shows_the_field_error(admin_client, vendor):
    response = set_active(admin_client, vendor, False, reason="")
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    vendor.refresh_from_db()
    assert vendor.is_active


def test_a_malformed_action_is_refused(admin_client, vendor):
    response = set_active(admin_client, vendor, False, active="maybe")
    assert response.status_code == 422
    vendor.refresh_from_db()
    assert vendor.is_active


def test_a_stale_suspension_is_refused_with_409(admin_client, admin_user, vendor):
    seen = version_of(vendor)
    vendor_set_active(actor=admin_user, vendor=vendor, active=False, reason="Fraud check")
    vendor_set_active(actor=admin_user, vendor=vendor, active=True, reason="Cleared")
    response = set_active(admin_client, vendor, False, seen_version=seen)
    assert response.status_code == 409
    assert "activated this" in response.content.decode()
    vendor.refresh_from_db()
    assert vendor.is_active
