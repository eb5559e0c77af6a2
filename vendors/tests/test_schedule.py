"""Opening hours as time: overlaps on a circular week, overnight openings, holidays, clock changes."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from vendors.schedule import Opening, Schedule, describe_moment, end_of_local_day, first_overlap

LONDON = ZoneInfo("Europe/London")
MONDAY, FRIDAY, SATURDAY, SUNDAY = 0, 4, 5, 6


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def opening(weekday: int, opens: str, closes: str) -> Opening:
    return Opening(weekday, time.fromisoformat(opens), time.fromisoformat(closes))


WEEKDAYS_NINE_TO_FIVE = [opening(day, "09:00", "17:00") for day in range(5)]
# 6 January 2025 is a Monday in winter (GMT); 7 July 2025 a Monday in summer (BST).
WINTER_MONDAY = date(2025, 1, 6)
SUMMER_MONDAY = date(2025, 7, 7)


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (opening(MONDAY, "09:00", "13:00"), opening(MONDAY, "12:00", "15:00"), True),
        (opening(MONDAY, "09:00", "12:00"), opening(MONDAY, "12:00", "15:00"), False),
        (opening(MONDAY, "09:00", "12:00"), opening(1, "09:00", "12:00"), False),
        (opening(FRIDAY, "22:00", "02:00"), opening(SATURDAY, "01:00", "05:00"), True),
        (opening(FRIDAY, "22:00", "02:00"), opening(SATURDAY, "02:00", "05:00"), False),
        # The week is a circle: Sunday night runs into Monday morning.
        (opening(SUNDAY, "22:00", "02:00"), opening(MONDAY, "01:00", "03:00"), True),
        (opening(SUNDAY, "22:00", "00:00"), opening(MONDAY, "00:00", "03:00"), False),
    ],
)
def test_overlaps_count_overnight_openings_and_wrap_around_the_week(first, second, overlap):
    assert first.overlaps(second) is overlap
    assert second.overlaps(first) is overlap
    assert (first_overlap([first, second]) == (0, 1)) is overlap


def test_an_opening_describes_itself_for_error_messages():
    assert opening(FRIDAY, "18:00", "02:00").describe() == "Friday 18:00-02:00 (next day)"
    assert opening(MONDAY, "09:00", "00:00").describe() == "Monday 09:00-00:00"


def test_no_hours_means_always_open():
    always = Schedule([], [])
    moment = london(WINTER_MONDAY, 3)
    assert always.is_open(moment)
    assert always.next_open(moment) == moment


@pytest.mark.parametrize(
    ("at", "next_open"),
    [
        (london(WINTER_MONDAY, 8), london(WINTER_MONDAY, 9)),
        (london(WINTER_MONDAY, 9), london(WINTER_MONDAY, 9)),
        (london(WINTER_MONDAY, 12, 30), london(WINTER_MONDAY, 12, 30)),
        (london(WINTER_MONDAY, 17), london(date(2025, 1, 7), 9)),
        (london(date(2025, 1, 10), 18), london(date(2025, 1, 13), 9)),
    ],
)
def test_next_opening_in_the_week(at, next_open):
    assert Schedule(WEEKDAYS_NINE_TO_FIVE, []).next_open(at) == next_open


def test_openings_are_local_time_summer_and_winter():
    schedule = Schedule(WEEKDAYS_NINE_TO_FIVE, [])
    assert schedule.next_open(london(WINTER_MONDAY, 7)) == datetime(2025, 1, 6, 9, tzinfo=UTC)
    assert schedule.next_open(london(SUMMER_MONDAY, 7)) == datetime(2025, 7, 7, 8, tzinfo=UTC)


def test_an_overnight_opening_runs_into_the_next_day():
    late = Schedule([opening(FRIDAY, "22:00", "02:00")], [])
    friday, saturday = date(2025, 1, 10), date(2025, 1, 11)
    assert late.is_open(london(saturday, 1, 59))
    assert not late.is_open(london(saturday, 2))
    assert late.next_open(london(saturday, 2)) == london(date(2025, 1, 17), 22)
    assert late.open_since(london(saturday, 1)) == london(friday, 22)


def test_holidays_close_whole_days_and_opening_resumes_after_them():
    monday_off = Schedule(WEEKDAYS_NINE_TO_FIVE, [(WINTER_MONDAY, WINTER_MONDAY)])
    assert not monday_off.is_open(london(WINTER_MONDAY, 10))
    assert monday_off.next_open(london(WINTER_MONDAY, 10)) == london(date(2025, 1, 7), 9)
    assert monday_off.holiday_end(WINTER_MONDAY) == WINTER_MONDAY
    assert monday_off.holiday_end(date(2025, 1, 7)) is None


def test_back_to_back_holidays_and_no_hours_open_at_the_midnight_after_them():
    schedule = Schedule([], [(date(2025, 12, 25), date(2025, 12, 25)), (date(2025, 12, 26), date(2025, 12, 27))])
    assert schedule.next_open(london(date(2025, 12, 25), 12)) == london(date(2025, 12, 28), 0)
    assert schedule.open_since(london(date(2025, 12, 28), 10)) == london(date(2025, 12, 28), 0)


def test_open_since_is_the_start_of_the_running_opening():
    schedule = Schedule(WEEKDAYS_NINE_TO_FIVE, [])
    assert schedule.open_since(london(WINTER_MONDAY, 10)) == london(WINTER_MONDAY, 9)
    assert schedule.open_since(london(WINTER_MONDAY, 18)) is None
    assert Schedule([], []).open_since(london(WINTER_MONDAY, 10)) < london(WINTER_MONDAY, 10)


def test_moments_are_described_from_the_shoppers_today():
    now = london(WINTER_MONDAY, 12)
    assert describe_moment(london(WINTER_MONDAY, 14, 30), now=now) == "14:30"
    assert describe_moment(london(date(2025, 1, 7), 9), now=now) == "09:00 tomorrow"
    assert describe_moment(london(date(2025, 1, 10), 9), now=now) == "Fri 09:00"
    assert describe_moment(london(date(2025, 2, 3), 9), now=now) == "Mon 3 Feb 09:00"


def test_the_rest_of_the_day_ends_at_local_midnight():
    assert end_of_local_day(london(SUMMER_MONDAY, 15)) == london(date(2025, 7, 8), 0)
