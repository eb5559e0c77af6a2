"""Reads of the event stream: the high-water mark, replays, retention, backlog."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone

from realtime import metrics
from realtime.models import Event, EventGroup, SeqCursor
from realtime.policies import groups_for_user
from realtime.publication import TABLES, change_data


@dataclass(frozen=True)
class ReplayEvent:
    """A numbered event as sockets and the REST catch-up read it, and as the relay sends it."""

    seq: int
    table: str
    event_type: str
    record: dict | None
    old_record: dict | None
    commit_timestamp: datetime
    # The same JSON text the relay sent live as the message's `data`.
    data: str
    groups: frozenset[str]


def high_water_seq() -> int:
    """The last seq given out (0 before the first event): everything up to it has committed."""
    return SeqCursor.objects.filter(stream=SeqCursor.STREAM).values_list("last_seq", flat=True).first() or 0


def oldest_retained_seq() -> int | None:
    """The first seq still readable; None while nothing was ever numbered.

    When every event has been pruned this is the next seq to be given out,
    so any position behind the high-water mark reads as too old.
    """
    oldest = Event.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", flat=True).first()
    if oldest is not None:
        return oldest
    high_water = high_water_seq()
    return high_water + 1 if high_water else None


def resync_required(*, after_seq: int) -> bool:
    """Whether a client that saw everything up to `after_seq` can no longer be caught up.

    Either events it missed were pruned, or the position is ahead of the
    stream (it came from another database, e.g. one restored from a backup).
    """
    if after_seq > high_water_seq():
        return True
    oldest = oldest_retained_seq()
    return oldest is not None and after_seq < oldest - 1


def events_after(
    *,
    groups: Iterable[str] | None,
    after_seq: int,
    up_to_seq: int | None = None,
    tables: Iterable[str] | None = None,
    limit: int = 1000,
) -> list[ReplayEvent]:
    """The events any of `groups` may see with after_seq < seq <= up_to_seq, in seq order, each once.

    `groups=None` reads the whole stream, for the dispatcher's repairs, which
    sort events out to sockets themselves. Otherwise each group's stream is
    read on its (group, seq) index up to `limit` rows, and the first `limit`
    distinct seqs of their union are the answer. Access events
    (Event.ACCESS_TABLE) are among them unless `tables` leaves them out: they
    are for sockets, and never reach a client as a change.
    """
    tables = None if tables is None else list(tables)
    if groups is None:
        events = Event.objects.filter(seq__gt=after_seq)
        if up_to_seq is not None:
            events = events.filter(seq__lte=up_to_seq)
        if tables is not None:
            events = events.filter(table__in=tables)
        return [stream_event(event) for event in events.order_by("seq")[:limit]]
    seqs: set[int] = set()
    for group in set(groups):
        rows = EventGroup.objects.filter(group=group, seq__gt=after_seq)
        if up_to_seq is not None:
            rows = rows.filter(seq__lte=up_to_seq)
        if tables is not None:
            rows = rows.filter(event__table__in=tables)
        seqs.update(rows.order_by("seq").values_list("seq", flat=True)[:limit])
    wanted = sorted(seqs)[:limit]
    return [stream_event(event) for event in Event.objects.filter(seq__in=wanted).order_by("seq")]


def stream_event(event: Event) -> ReplayEvent:
    """A numbered outbox row as it travels; an access event carries no row and no `data`."""
    table = TABLES.get(event.table)
    return ReplayEvent(
        seq=event.seq,
        table=event.table,
        event_type=event.type,
        record=None if table is None else table.ordered(event.record),
        old_record=None if table is None else table.ordered(event.old_record),
        commit_timestamp=event.numbered_at,
        data="" if table is None else change_data(event),
        groups=frozenset(event.audience),
    )


@dataclass(frozen=True)
class ChangesPage:
    events: list[ReplayEvent]
    next_since: int
    has_more: bool
    high_water_seq: int
    resync_required: bool


def changes_page(*, user, since: int, limit: int) -> ChangesPage:
    """One page of the events `user` may see after `since`, for REST catch-up.

    Reads up to the high-water mark taken first, so `next_since` may skip
    past events the user cannot see without ever skipping one they can.
    Access events count towards the page and its `next_since` like the
    others, and are then left out: they are the sockets' business.
    """
    high_water = high_water_seq()
    if resync_required(after_seq=since):
        return ChangesPage(
            events=[], next_since=high_water, has_more=False, high_water_seq=high_water, resync_required=True
        )
    events = events_after(groups=groups_for_user(user), after_seq=since, up_to_seq=high_water, limit=limit + 1)
    has_more = len(events) > limit
    events = events[:limit]
    if events:
        metrics.REPLAYS.inc()
    return ChangesPage(
        events=[event for event in events if event.table != Event.ACCESS_TABLE],
        next_since=events[-1].seq if has_more else max(since, high_water),
        has_more=has_more,
        high_water_seq=high_water,
        resync_required=False,
    )


@dataclass(frozen=True)
class RelayBacklog:
    events: int
    oldest_age_seconds: float


def relay_backlog() -> RelayBacklog:
    """Committed events not yet confirmed published, and how long the oldest has waited."""
    waiting = [
        Event.objects.filter(seq__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at")),
        Event.objects.filter(seq__isnull=False, published_at__isnull=True).aggregate(
            count=Count("id"), oldest=Min("created_at")
        ),
    ]
    oldest = min((part["oldest"] for part in waiting if part["oldest"] is not None), default=None)
    age = 0.0 if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())
    return RelayBacklog(events=sum(part["count"] for part in waiting), oldest_age_seconds=age)
