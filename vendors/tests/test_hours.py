"""Weekly opening hours (the whole week replaced at once) and holiday closures."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from realtime.models import Event
from tests import factories
from vendors import services
from vendors.models import HolidayClosure, OpeningHours
from zora.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db

WEEK = [
    {"weekday": 0, "opens_at": "09:00", "closes_at": "13:00"},
    {"weekday": 0, "opens_at": "14:00", "closes_at": "18:00"},
    {"weekday": 4, "opens_at": time(18), "closes_at": time(2)},
]


def hours_of(vendor):
    return [(row.weekday, f"{row.opens_at:%H:%M}", f"{row.closes_at:%H:%M}") for row in vendor.opening_hours.all()]


def test_setting_the_week_replaces_it_whole_and_tells_the_clients(vendor):
    services.opening_hours_set(
        actor=vendor.owner, vendor=vendor, openings=[{"weekday": 3, "opens_at": "08:00", "closes_at": "12:00"}]
    )
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first()

    rows = services.opening_hours_set(actor=vendor.owner, vendor=vendor, openings=WEEK)

    assert [row.pk is not None for row in rows] == [True, True, True]
    assert hours_of(vendor) == [(0, "09:00", "13:00"), (0, "14:00", "18:00"), (4, "18:00", "02:00")]
    assert Event.objects.filter(id__gt=last_event, table="vendors", type="UPDATE").count() == 1


def test_an_empty_week_means_no_hours_so_always_open(vendor):
    services.opening_hours_set(actor=vendor.owner, vendor=vendor, openings=WEEK)
    services.opening_hours_set(actor=vendor.owner, vendor=vendor, openings=[])
    assert not OpeningHours.objects.filter(vendor=vendor).exists()


@pytest.mark.parametrize(
    ("openings", "field", "index", "message"),
    [
        ([{"weekday": 7, "opens_at": "09:00", "closes_at": "17:00"}], "weekday", 0, "weekday must be 0"),
        ([*WEEK, {"weekday": 2, "opens_at": "25:00", "closes_at": "17:00"}], "opens_at", 3, "opens_at must be a time"),
        ([{"weekday": 2, "opens_at": "09:00", "closes_at": "09:00"}], "closes_at", 0, "closes_at must differ"),
        (
            [*WEEK, {"weekday": 0, "opens_at": "12:00", "closes_at": "15:00"}],
            "opens_at",
            3,
            "Monday 12:00-15:00 overlaps Monday 09:00-13:00.",
        ),
        (
            [*WEEK, {"weekday": 5, "opens_at": "01:00", "closes_at": "03:00"}],
            "opens_at",
            3,
            "Saturday 01:00-03:00 overlaps Friday 18:00-02:00 (next day).",
        ),
        (
            [{"weekday": 1, "opens_at": f"{hour:02}:00", "closes_at": f"{hour:02}:30"} for hour in range(7)],
            "weekday",
            6,
            "more than 6 openings",
        ),
    ],
)
def test_refusals_name_the_field_and_the_opening(vendor, nothing_written, openings, field, index, message):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.opening_hours_set(actor=vendor.owner, vendor=vendor, openings=openings)

    assert (refusal.value.field, refusal.value.details["index"]) == (field, index)
    assert message in refusal.value.message


def test_staff_set_hours_and_outsiders_cannot(vendor, customer, nothing_written):
    clerk = factories.VendorStaffFactory(vendor=vendor).user
    services.opening_hours_set(actor=clerk, vendor=vendor, openings=WEEK)

    with nothing_written(), pytest.raises(NotFound):
        services.opening_hours_set(actor=customer, vendor=vendor, openings=[])


# Holidays -----------------------------------------------------------------------------------------


def test_a_holiday_is_added_and_removed(vendor):
    today = timezone.localdate()
    closure = services.holiday_closure_add(
        actor=vendor.owner, vendor=vendor, starts_on=today, ends_on=str(today + timedelta(days=2)), reason="Family"
    )
    assert (closure.starts_on, closure.ends_on, closure.reason) == (today, today + timedelta(days=2), "Family")

    services.holiday_closure_remove(actor=vendor.owner, closure=closure)
    assert not HolidayClosure.objects.exists()
    assert Event.objects.filter(table="vendors", type="UPDATE").count() == 2


@pytest.mark.parametrize(
    ("days", "field", "code"),
    [
        ((3, 2), "ends_on", "ends_before_start"),
        ((-5, -1), "ends_on", "in_the_past"),
        ((0, 366), "ends_on", "closure_too_long"),
        (("soon", 2), "starts_on", "invalid_date"),
    ],
)
def test_holiday_refusals_name_the_field(vendor, nothing_written, days, field, code):
    today = timezone.localdate()
    starts, ends = (today + timedelta(days=day) if isinstance(day, int) else day for day in days)
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.holiday_closure_add(actor=vendor.owner, vendor=vendor, starts_on=starts, ends_on=ends)
    assert (refusal.value.field, refusal.value.code) == (field, code)


def test_overlapping_holidays_are_refused_naming_the_other(vendor, nothing_written):
    existing = factories.HolidayClosureFactory(vendor=vendor)

    with nothing_written(), pytest.raises(Conflict) as refusal:
        services.holiday_closure_add(
            actor=vendor.owner, vendor=vendor, starts_on=existing.ends_on, ends_on=existing.ends_on + timedelta(days=1)
        )

    assert refusal.value.field == "starts_on"
    assert refusal.value.details["closure_id"] == existing.pk
    assert f"{existing.starts_on.day} {existing.starts_on:%b %Y}" in refusal.value.message


def test_another_shops_holiday_cannot_be_removed(vendor, nothing_written):
    elsewhere = factories.HolidayClosureFactory()
    with nothing_written(), pytest.raises(NotFound):
        services.holiday_closure_remove(actor=vendor.owner, closure=elsewhere)
