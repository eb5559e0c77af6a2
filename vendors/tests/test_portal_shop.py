"""The shop status and profile pages of the vendor portal, through Django's test client."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from vendors.models import HolidayClosure, OpeningHours, Vendor

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor).user


@pytest.fixture
def staff_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def owner_client(client, vendor):
    client.force_login(vendor.owner)
    return client


@pytest.fixture
def closure(vendor):
    return factories.HolidayClosureFactory(vendor=vendor, reason="Stocktake")


PAGES = ["shop-status", "shop-status-now", "shop-hours", "shop-holidays", "shop-profile"]


def set_status(client, htmx=True, **fields):
    return client.post(reverse("vendor:shop-status-set"), fields, **(HTMX if htmx else {}))


def week(days=None, mode="weekly"):
    """The hours form as the browser posts it: `days` maps weekday index to its fields."""
    days = days or {}
    data = {"mode": mode, "day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7"}
    for index in range(7):
        for name, value in days.get(index, {"closed": "on"}).items():
            data[f"day-{index}-{name}"] = value
    return data


# Who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, vendor, closure):
    for name in PAGES:
        response = client.get(reverse(f"vendor:{name}"))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), name
    response = set_status(client, opening_status="busy", busy_extra_minutes="15")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    vendor.refresh_from_db()
    assert vendor.opening_status == "open"


def test_a_customer_gets_the_login_page(client, customer, vendor, closure):
    client.force_login(customer)
    for name in PAGES:
        response = client.get(reverse(f"vendor:{name}"))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), name
    assert client.post(reverse("vendor:shop-holiday-remove", args=[closure.pk])).status_code == 302
    assert HolidayClosure.objects.filter(pk=closure.pk).exists()


def test_another_shops_staff_change_only_their_own_shop_and_get_404_for_this_ones_closures(client, vendor, closure):
    other = factories.VendorFactory()
    client.force_login(other.owner)

    assert client.post(reverse("vendor:shop-holiday-remove", args=[closure.pk])).status_code == 404
    set_status(client, opening_status="closed", pause_for="15")
    page = client.get(reverse("vendor:shop-status")).content.decode()

    assert HolidayClosure.objects.filter(pk=closure.pk).exists()
    assert Vendor.objects.get(pk=vendor.pk).opening_status == "open"
    assert Vendor.objects.get(pk=other.pk).opening_status == "closed"
    assert "Stocktake" not in page


def test_the_shops_own_staff_see_every_page(staff_client):
    for name in PAGES:
        assert staff_client.get(reverse(f"vendor:{name}")).status_code == 200, name


def test_changes_need_a_post(staff_client, closure):
    for url in (
        reverse("vendor:shop-status-set"),
        reverse("vendor:shop-holiday-add"),
        reverse("vendor:shop-holiday-remove", args=[closure.pk]),
    ):
        assert staff_client.get(url).status_code == 405, url


# The status ------------------------------------------------------------------------------------


def test_the_page_shows_the_state_big_and_refreshes_it_live(staff_client):
    page = staff_client.get(reverse("vendor:shop-status")).content.decode()

    assert '<p class="shop-now-state">Open</p>' in page
    assert 'id="shop-now"' in page and 'hx-trigger="zora:changed:vendors from:body"' in page
    assert "vendors" in page.split('data-realtime-tables="')[1].split('"')[0]
    for label in ("Busy +15 min", "Busy +30 min", "Busy +45 min", "15 min", "30 min", "1 hour", "Rest of today"):
        assert f">{label}</button>" in page


def test_busy_answers_htmx_with_the_region_and_a_toast(staff_client, vendor):
    response = set_status(staff_client, opening_status="busy", busy_extra_minutes="30")

    assert response.status_code == 200
    assert '<p class="shop-now-state">Busy +30 min</p>' in response.content.decode()
    assert "zora:toast" in response["HX-Trigger"]
    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.busy_extra_minutes) == ("busy", 30)


def test_a_pause_shows_until_when_and_why(staff_client, vendor):
    response = set_status(staff_client, opening_status="closed", pause_for="60", pause_reason="Deep clean")

    vendor.refresh_from_db()
    assert vendor.paused_until - timezone.now() == pytest.approx(timedelta(hours=1), abs=timedelta(seconds=30))
    body = response.content.decode()
    assert f"Paused until {timezone.localtime(vendor.paused_until):%H:%M}" in body
    assert "<strong>Why:</strong> Deep clean" in body


def test_an_automatic_pause_is_explained_to_the_staff_on_return(staff_client, vendor):
    vendor.opening_status, vendor.pause_reason = "closed", "Paused automatically: no portal was open for 10 minutes"
    vendor.save()

    page = staff_client.get(reverse("vendor:shop-status")).content.decode()

    assert "No new orders until you press Open." in page
    assert "no portal was open for 10 minutes" in page


def test_rest_of_today_pauses_until_midnight_and_without_htmx_redirects_with_a_message(staff_client, vendor):
    response = set_status(staff_client, htmx=False, opening_status="closed", pause_for="day")

    assert response.status_code == 302 and response.url == reverse("vendor:shop-status")
    vendor.refresh_from_db()
    assert timezone.localtime(vendor.paused_until).time().isoformat() == "00:00:00"
    follow = staff_client.get(response.url).content.decode()
    assert "Paused: the shop takes no orders until it opens again." in follow


def test_a_closed_shop_says_when_it_opens(staff_client, vendor):
    opens = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    OpeningHours.objects.create(
        vendor=vendor, weekday=opens.weekday(), opens_at=opens.time(), closes_at=(opens + timedelta(hours=1)).time()
    )

    body = staff_client.get(reverse("vendor:shop-status-now")).content.decode()

    assert '<p class="shop-now-state">Closed now</p>' in body
    assert f"Closed until {opens:%H:%M}" in body


def test_a_pause_without_a_duration_is_refused_with_the_reason(staff_client, vendor):
    response = set_status(staff_client, opening_status="closed")

    assert response.status_code == 422
    assert "Choose how long to pause." in response.content.decode()
    vendor.refresh_from_db()
    assert vendor.opening_status == "open"


def test_a_refusal_of_the_service_is_shown(staff_client, vendor):
    response = set_status(staff_client, opening_status="closed", pause_for="15", pause_reason="x" * 201)

    assert response.status_code == 422
    assert "Ensure this value has at most 200 characters" in response.content.decode()


# Opening hours --------------------------------------------------------------------------------


def test_the_week_is_saved_from_the_form(staff_client, vendor):
    data = week(
        {
            0: {"opens_1": "09:00", "closes_1": "13:00", "opens_2": "14:00", "closes_2": "18:00"},
            4: {"opens_1": "18:00", "closes_1": "02:00"},
        }
    )

    response = staff_client.post(reverse("vendor:shop-hours"), data, **HTMX)

    assert response.status_code == 200, response.content.decode()
    assert [(row.weekday, f"{row.opens_at:%H:%M}", f"{row.closes_at:%H:%M}") for row in vendor.opening_hours.all()] == [
        (0, "09:00", "13:00"),
        (0, "14:00", "18:00"),
        (4, "18:00", "02:00"),
    ]
    assert 'value="14:00"' in response.content.decode()


def test_no_fixed_hours_clears_the_week(staff_client, vendor):
    OpeningHours.objects.create(vendor=vendor, weekday=0, opens_at="09:00", closes_at="17:00")

    response = staff_client.post(reverse("vendor:shop-hours"), week(mode="always"))

    assert response.status_code == 302
    assert not vendor.opening_hours.exists()


@pytest.mark.parametrize(
    ("days", "error"),
    [
        ({0: {"opens_1": "09:00"}}, "Give both times of this opening, or neither."),
        ({0: {}}, "Give Monday&#x27;s hours, or tick Closed."),
        ({}, "Every day is closed"),
        (
            {0: {"opens_1": "09:00", "closes_1": "13:00", "opens_2": "12:00", "closes_2": "15:00"}},
            "Monday 12:00-15:00 overlaps Monday 09:00-13:00.",
        ),
        ({2: {"opens_1": "09:00", "closes_1": "09:00"}}, "closes_at must differ from opens_at"),
    ],
)
def test_hours_refusals_are_shown_on_the_day(staff_client, vendor, days, error):
    response = staff_client.post(reverse("vendor:shop-hours"), week(days), **HTMX)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not vendor.opening_hours.exists()


def test_a_tampered_week_is_refused_not_a_crash(staff_client, vendor):
    for total in ("8", "3"):
        data = {**week({0: {"opens_1": "09:00", "closes_1": "17:00"}}), "day-TOTAL_FORMS": total}
        response = staff_client.post(reverse("vendor:shop-hours"), data, **HTMX)
        assert response.status_code == 422, total
    assert not vendor.opening_hours.exists()


# Holidays -------------------------------------------------------------------------------------


def test_a_holiday_is_added_and_removed(staff_client, vendor):
    first = timezone.localdate() + timedelta(days=3)
    response = staff_client.post(
        reverse("vendor:shop-holiday-add"),
        {"starts_on": first.isoformat(), "ends_on": (first + timedelta(days=1)).isoformat(), "reason": "Family"},
        **HTMX,
    )

    assert response.status_code == 200
    closure = HolidayClosure.objects.get(vendor=vendor)
    assert "Family" in response.content.decode()

    response = staff_client.post(reverse("vendor:shop-holiday-remove", args=[closure.pk]))
    assert response.status_code == 302
    assert not HolidayClosure.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"starts_on": "", "ends_on": ""}, "This field is required."),
        ({"starts_on": "2099-01-05", "ends_on": "2099-01-01"}, "ends_on must be on or after starts_on."),
    ],
)
def test_holiday_refusals_are_shown(staff_client, fields, error):
    response = staff_client.post(reverse("vendor:shop-holiday-add"), fields, **HTMX)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not HolidayClosure.objects.exists()


def test_an_overlapping_holiday_is_refused_naming_the_other(staff_client, closure):
    day = closure.starts_on.isoformat()
    response = staff_client.post(reverse("vendor:shop-holiday-add"), {"starts_on": day, "ends_on": day})

    assert response.status_code == 200
    assert "It overlaps the closure from" in response.content.decode()
    assert HolidayClosure.objects.count() == 1


# Profile ---------------------------------------------------------------------------------------


def profile(**changes):
    return {"name": "Corner Bakery", "description": "", "address": "", "delivery_radius_km": "4.5", **changes}


def test_the_owner_saves_the_profile_with_a_logo(owner_client, vendor):
    response = owner_client.post(reverse("vendor:shop-profile"), profile(logo=factories.image_upload("logo.png")))

    assert response.status_code == 302
    vendor.refresh_from_db()
    assert (vendor.name, str(vendor.delivery_radius_km)) == ("Corner Bakery", "4.50")
    assert vendor.logo.name.startswith("vendors/logos/")
    page = owner_client.get(reverse("vendor:shop-profile")).content.decode()
    assert f'src="{vendor.logo_url}"' in page and 'enctype="multipart/form-data"' in page


def test_a_logo_that_is_no_image_is_refused_on_its_field(owner_client, vendor):
    fake = factories.pdf_upload("logo.png")
    response = owner_client.post(reverse("vendor:shop-profile"), profile(logo=fake))

    assert response.status_code == 200
    assert "logo must be a JPEG, PNG, WebP or GIF image; this file is a PDF document." in response.content.decode()
    vendor.refresh_from_db()
    assert not vendor.logo


def test_a_missing_name_is_shown_on_the_field(owner_client):
    response = owner_client.post(reverse("vendor:shop-profile"), profile(name=""), **HTMX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_staff_see_the_profile_read_only_and_cannot_change_it(staff_client, vendor):
    page = staff_client.get(reverse("vendor:shop-profile")).content.decode()
    assert "Only the shop's owner can change its profile; you can see it here." in page
    assert "Save profile" not in page and "disabled" in page

    response = staff_client.post(reverse("vendor:shop-profile"), profile(name="Taken over"))

    assert "Only the shop&#x27;s owner can change its profile." in response.content.decode()
    vendor.refresh_from_db()
    assert vendor.name != "Taken over"
