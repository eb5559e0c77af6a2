"""Opening hours as time: a week of openings, some running past midnight, with holidays on top.

Everything is local time in settings.TIME_ZONE (a shop in London opens at
09:00 London time in winter and in summer); instants are compared in UTC,
because Python compares two datetimes of the same zone by their wall clock.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# How far ahead "when does it open next" looks: past the longest holiday closure allowed.
HORIZON_DAYS = 400
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_zone():
    return timezone.get_default_timezone()


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


@dataclass(frozen=True)
class Opening:
    """One interval of the weekly hours; closing at or before opening means closing the next day."""

    weekday: int
    opens_at: time
    closes_at: time

    @property
    def overnight(self) -> bool:
        return self.closes_at <= self.opens_at

    def week_minutes(self) -> tuple[int, int]:
        """Start and end in minutes from Monday 00:00; the end may run past the week's end."""
        start = self.weekday * MINUTES_PER_DAY + _minute_of_day(self.opens_at)
        length = (_minute_of_day(self.closes_at) - _minute_of_day(self.opens_at)) % MINUTES_PER_DAY
        return start, start + length

    def overlaps(self, other: "Opening") -> bool:
        start, end = self.week_minutes()
        other_start, other_end = other.week_minutes()
        # The week is a circle: Sunday night's opening may run into Monday morning's.
        return any(
            start < other_end + shift and other_start + shift < end
            for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK)
        )

    def on(self, day: date) -> tuple[datetime, datetime]:
        """This opening as instants (UTC) when it starts on `day`."""
        zone = local_zone()
        closing_day = day + timedelta(days=1) if self.overnight else day
        start = datetime.combine(day, self.opens_at, tzinfo=zone)
        end = datetime.combine(closing_day, self.closes_at, tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def describe(self) -> str:
        suffix = " (next day)" if self.overnight and self.closes_at != time(0) else ""
        return f"{WEEKDAY_NAMES[self.weekday]} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}{suffix}"


def first_overlap(openings: list[Opening]) -> tuple[int, int] | None:
    """The indexes of the first two openings that overlap, or None."""
    for later, opening in enumerate(openings):
        for earlier in range(later):
            if openings[earlier].overlaps(opening):
                return earlier, later
    return None


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def end_of_local_day(moment: datetime) -> datetime:
    return local_midnight(local_date(moment) + timedelta(days=1))


class Schedule:
    """A shop's weekly openings and holiday closures. No openings at all means always open."""

    def __init__(self, openings: Iterable[Opening], holidays: Iterable[tuple[date, date]]):
        self.openings = sorted(openings, key=lambda opening: (opening.weekday, opening.opens_at))
        self.holidays = sorted(holidays)

    def holiday_end(self, day: date) -> date | None:
        """The last day of the holiday closures running through `day`, or None when it is no holiday."""
        return max((ends_on for starts_on, ends_on in self.holidays if starts_on <= day <= ends_on), default=None)

    def _openings_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The openings (start, end) that end after `moment`, in order, starting with yesterday's
        (an overnight one may still be running)."""
        if not self.openings:
            yield moment, datetime.max.replace(tzinfo=UTC)
            return
        first_day = local_date(moment) - timedelta(days=1)
        for offset in range(HORIZON_DAYS):
            day = first_day + timedelta(days=offset)
            for opening in self.openings:
                if opening.weekday == day.weekday():
                    start, end = opening.on(day)
                    if end > moment:
                        yield start, end

    def next_open(self, moment: datetime) -> datetime | None:
        """The first instant at or after `moment` when the shop is open by its hours, or None."""
        moment = moment.astimezone(UTC)
        for start, end in self._openings_from(moment):
            candidate = max(start, moment)
            while candidate < end:
                holiday_end = self.holiday_end(local_date(candidate))
                if holiday_end is None:
                    return candidate
                candidate = max(candidate, local_midnight(holiday_end + timedelta(days=1)))
        return None

    def is_open(self, moment: datetime) -> bool:
        return self.next_open(moment) == moment.astimezone(UTC)

    def open_since(self, moment: datetime) -> datetime | None:
        """When the opening running at `moment` began (a holiday ending within it moves that to its
        midnight); None when the shop is closed at `moment`. A shop without hours opened at the end
        of its last holiday, or at the earliest moment there is."""
        if not self.is_open(moment):
            return None
        moment = moment.astimezone(UTC)
        if self.openings:
            start = next(start for start, end in self._openings_from(moment) if start <= moment)
        else:
            start = datetime.min.replace(tzinfo=UTC)
        for _, ends_on in self.holidays:
            holiday_over = local_midnight(ends_on + timedelta(days=1))
            if start < holiday_over <= moment:
                start = holiday_over
        return start


def describe_moment(moment: datetime, *, now: datetime) -> str:
    """'14:30' today, '09:00 tomorrow', 'Mon 09:00' this week, 'Mon 3 Feb 09:00' later."""
    local = moment.astimezone(local_zone())
    days_ahead = (local.date() - local_date(now)).days
    if days_ahead == 0:
        return f"{local:%H:%M}"
    if days_ahead == 1:
        return f"{local:%H:%M} tomorrow"
    if 0 < days_ahead < 7:
        return f"{local:%a %H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"
