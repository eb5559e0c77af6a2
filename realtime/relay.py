"""The relay: numbers committed outbox rows and publishes them to the channel layer.

Outbox ids are taken when a change is written, but transactions commit in
another order, so ids cannot be the order clients resume by. The relay runs
one at a time across processes, reads the committed rows that have no seq
yet in id order, gives each the next seq, and publishes them in seq order:
anything committed later gets a higher seq. A process that finds the relay
busy leaves its rows to the holder, which looks again after letting go.
"""

import asyncio
import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from realtime import metrics
from realtime.models import Event, EventGroup, SeqCursor
from realtime.policies import channel_group
from realtime.publication import TABLES, change_data
from realtime.services import events_prune

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# PostgreSQL session-level advisory lock key: the ASCII bytes of "ZoraRELY".
ADVISORY_LOCK_KEY = 0x5A6F726152454C59
# Without PostgreSQL (the embedded SQLite run) there is one process, and
# BEGIN IMMEDIATE serializes the numbering transaction on the database.
_process_lock = threading.Lock()


@contextmanager
def relay_lock():
    """Yields whether the caller now holds the relay; never waits for it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])
        return
    held = _process_lock.acquire(blocking=False)
    try:
        yield held
    finally:
        if held:
            _process_lock.release()


def relay_run(*, batch_size: int = BATCH_SIZE) -> int:
    """Number what has committed, then publish what is numbered; returns how many events were sent.

    Numbering does not wait for the channel layer: while it is down, seqs
    still advance (REST catch-up and replays keep working) and the events
    are sent once it is back.
    """
    published = 0
    while True:
        with relay_lock() as held:
            if not held:
                return published
            while _number_batch(batch_size):
                pass
            while sent := _publish_batch(batch_size):
                published += sent
        # A commit whose own run found us holding the lock left its rows to us.
        if not Event.objects.filter(seq__isnull=True).exists():
            return published


def relay_after_commit():
    """The on_commit hook every capturing transaction registers once."""
    relay_run()


def _number_batch(batch_size: int) -> int:
    """Gives the next seqs, in id order, to committed rows that have none; returns how many."""
    with transaction.atomic():
        events = list(Event.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
        if not events:
            return 0
        streams = {SeqCursor.STREAM} | {group for event in events for group in event.audience}
        last_seq = dict(SeqCursor.objects.filter(stream__in=streams).values_list("stream", "last_seq"))
        seq = last_seq.get(SeqCursor.STREAM, 0)
        numbered_at = timezone.now()
        memberships = []
        for event in events:
            seq += 1
            event.seq, event.numbered_at = seq, numbered_at
            for group in event.audience:
                memberships.append(EventGroup(event=event, group=group, seq=seq, prev_seq=last_seq.get(group)))
                last_seq[group] = seq
        last_seq[SeqCursor.STREAM] = seq
        Event.objects.bulk_update(events, ["seq", "numbered_at"])
        EventGroup.objects.bulk_create(memberships)
        SeqCursor.objects.bulk_create(
            [SeqCursor(stream=stream, last_seq=value) for stream, value in last_seq.items()],
            update_conflicts=True,
            unique_fields=["stream"],
            update_fields=["last_seq"],
        )
    for event in events:
        metrics.EVENTS_CAPTURED.labels(event.table).inc()
    return len(events)


def _publish_batch(batch_size: int) -> int:
    """Sends the oldest numbered, unconfirmed events to their groups in seq order; returns how many.

    Besides the rows just numbered, these include rows a process numbered
    but died (or lost the channel layer) before confirming. Only the
    relay's holder publishes, so none of them is in flight elsewhere;
    consumers drop any duplicate by seq.
    """
    events = list(Event.objects.filter(seq__isnull=False, published_at__isnull=True).order_by("seq")[:batch_size])
    if not events:
        return 0
    groups_by_event = {}
    for membership in EventGroup.objects.filter(event__in=events).order_by("seq"):
        groups_by_event.setdefault(membership.event_id, []).append(membership)
    messages = []
    for event in events:
        table = TABLES[event.table]
        data = change_data(event)
        record, old_record = table.ordered(event.record), table.ordered(event.old_record)
        for membership in groups_by_event.get(event.pk, []):
            message = {
                "type": "realtime.event",
                "group": membership.group,
                "seq": event.seq,
                "prev_seq": membership.prev_seq,
                "table": event.table,
                "event_type": event.type,
                "record": record,
                "old_record": old_record,
                "data": data,
            }
            messages.append((channel_group(membership.group), message))
    async_to_sync(_send_in_order)(messages)
    Event.objects.filter(pk__in=[event.pk for event in events]).update(published_at=timezone.now())
    metrics.EVENTS_PUBLISHED.inc(len(events))
    return len(events)


async def _send_in_order(messages):
    # One at a time: a socket in several groups must receive them in seq order.
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)


async def arelay_run() -> int:
    """The relay for async callers; it holds a database session for the whole run, in a worker thread."""
    return await database_sync_to_async(relay_run, thread_sensitive=False)()


def group_cursors_announce(*, window_seconds: float) -> int:
    """Tells every group with events numbered in the last `window_seconds` its latest seq.

    A consumer notices a dropped message by the `prev_seq` of the next one,
    so the last events of a burst, when dropped, would wait for the group's
    next change; this word from each sweep lets consumers repair them within
    a sweep interval. Returns how many groups were told.
    """
    floor = Event.objects.filter(numbered_at__gte=timezone.now() - timedelta(seconds=window_seconds)).aggregate(
        seq=Min("seq")
    )["seq"]
    if floor is None:
        return 0
    latest = EventGroup.objects.filter(seq__gte=floor).values("group").annotate(seq=Max("seq")).order_by()
    messages = [
        (channel_group(row["group"]), {"type": "realtime.cursor", "group": row["group"], "seq": row["seq"]})
        for row in latest
    ]
    async_to_sync(_send_in_order)(messages)
    return len(messages)


def relay_sweep() -> int:
    """The periodic safety net: number and publish what no commit hook did (or could),
    tell recently active groups how far they have got, then prune."""
    published = relay_run()
    group_cursors_announce(window_seconds=3 * settings.REALTIME_SWEEP_SECONDS)
    events_prune()
    return published


async def sweep_forever():
    """Runs in every server process for its lifetime."""
    while True:
        await asyncio.sleep(settings.REALTIME_SWEEP_SECONDS)
        try:
            await database_sync_to_async(relay_sweep, thread_sensitive=False)()
        except Exception:
            # The next sweep retries; a sweep that stops would strand events for good.
            logger.exception("realtime sweep failed")
