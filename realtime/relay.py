"""The relay: numbers committed outbox rows and publishes them to the channel layer.

Outbox ids are taken when a change is written, but transactions commit in
another order, so ids cannot be the order clients resume by. The relay runs
one at a time across processes, reads the committed rows that have no seq
yet in id order, gives each the next seq, and publishes them in seq order:
anything committed later gets a higher seq. A process that finds the relay
busy leaves its rows to the holder, which looks again after letting go.

Each event is one message to the channel-layer group `EVENTS_GROUP`, which
holds one dispatcher per server process (realtime/socket/dispatcher.py); the
dispatcher hands it to the process's sockets.
"""

import asyncio
import functools
import logging
import threading
from contextlib import contextmanager

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from realtime import metrics
from realtime.layer_loop import run_on_layer_loop
from realtime.models import Event, EventGroup, SeqCursor
from realtime.selectors import high_water_seq, stream_event
from realtime.services import events_prune

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# The channel-layer group every server process's dispatcher listens on.
EVENTS_GROUP = "rt.events"
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
    """Number what has committed and publish it; returns how many events were sent.

    This runs after every capturing commit, so it is the commit-to-socket
    latency: a handful of round trips. Numbering does not wait for the
    channel layer: while it is down, seqs still advance (REST catch-up and
    replays keep working), and the sweep sends what stayed unconfirmed.
    """
    published = 0
    while True:
        with relay_lock() as held:
            if not held:
                return published
            while True:
                events = _number_batch(batch_size)
                if events:
                    published += _publish(events)
                if len(events) < batch_size:
                    break
        # A commit whose own run found us holding the lock left its rows to us.
        if not Event.objects.filter(seq__isnull=True).exists():
            return published


def relay_after_commit():
    """The on_commit hook every capturing transaction registers once."""
    relay_run()


def _number_batch(batch_size: int) -> list[Event]:
    """Gives the next seqs, in id order, to committed rows that have none; returns them.

    Seqs are gapless: each is the previous one plus one, given under the
    relay's lock in one transaction with the stream cursor, so a dispatcher
    that has seen seq N knows the next one is N + 1.
    """
    number = _number_in_one_statement if connection.vendor == "postgresql" else _number_with_the_orm
    events = number(batch_size)
    for event in events:
        metrics.EVENTS_CAPTURED.labels(event.table).inc()
    return events


def _number_in_one_statement(batch_size: int) -> list[Event]:
    """PostgreSQL: the cursor, the seqs and the group rows in one round trip. This runs after
    every capturing commit, and the ORM's version cost three round trips and most of the relay's CPU."""
    return list(Event.objects.raw(_numbering_sql(), {"batch_size": batch_size, "stream": SeqCursor.STREAM}))


@functools.cache
def _numbering_sql() -> str:
    quote = connection.ops.quote_name
    return _NUMBERING_SQL.format(
        event=quote(Event._meta.db_table),
        group=quote(EventGroup._meta.db_table),
        cursor=quote(SeqCursor._meta.db_table),
    )


# The cursor row is upserted, so a new database needs no setup.
_NUMBERING_SQL = """
WITH pending AS (
    SELECT id, row_number() OVER (ORDER BY id) AS position
    FROM {event} WHERE seq IS NULL ORDER BY id LIMIT %(batch_size)s
), advanced AS (
    INSERT INTO {cursor} AS cursor (stream, last_seq)
    SELECT %(stream)s, count(*) FROM pending HAVING count(*) > 0
    ON CONFLICT (stream) DO UPDATE SET last_seq = cursor.last_seq + excluded.last_seq
    RETURNING last_seq - (SELECT count(*) FROM pending) AS before
), numbered AS (
    UPDATE {event} AS event SET seq = advanced.before + pending.position, numbered_at = now()
    FROM pending, advanced WHERE event.id = pending.id
    RETURNING event.*
), grouped AS (
    INSERT INTO {group} (event_id, "group", seq)
    SELECT id, jsonb_array_elements_text(audience), seq FROM numbered
)
SELECT * FROM numbered ORDER BY seq
"""


def _number_with_the_orm(batch_size: int) -> list[Event]:
    with transaction.atomic():
        events = list(Event.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
        if not events:
            return []
        seq = _advance_cursor(len(events)) - len(events)
        numbered_at = timezone.now()
        memberships = []
        for event in events:
            seq += 1
            event.seq, event.numbered_at = seq, numbered_at
            memberships.extend(EventGroup(event=event, group=group, seq=seq) for group in event.audience)
        Event.objects.bulk_update(events, ["seq", "numbered_at"])
        EventGroup.objects.bulk_create(memberships)
    return events


def _advance_cursor(count: int) -> int:
    """Moves the stream cursor on by `count` in one statement; returns the new last seq."""
    table = connection.ops.quote_name(SeqCursor._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + %s WHERE stream = %s RETURNING last_seq",
            [count, SeqCursor.STREAM],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    SeqCursor.objects.create(stream=SeqCursor.STREAM, last_seq=count)
    return count


def _republish_batch(batch_size: int) -> int:
    """Sends the oldest numbered, unconfirmed events again, in seq order; returns how many.

    These are rows a process numbered but died (or lost the channel layer)
    before confirming. Only the relay's holder publishes, so none of them is
    in flight elsewhere; dispatchers drop any duplicate by seq, and have
    already read from the outbox any they noticed missing.
    """
    events = list(Event.objects.filter(seq__isnull=False, published_at__isnull=True).order_by("seq")[:batch_size])
    return _publish(events) if events else 0


def _publish(events: list[Event]) -> int:
    """One message per event, in seq order, then the events are marked confirmed."""
    messages = []
    for event in events:
        sent = stream_event(event)
        messages.append(
            {
                "type": "realtime.event",
                "seq": event.seq,
                "audience": event.audience,
                "table": event.table,
                "event_type": event.type,
                "record": sent.record,
                "old_record": sent.old_record,
                "data": sent.data,
            }
        )
    run_on_layer_loop(_send_in_order, messages)
    Event.objects.filter(pk__in=[event.pk for event in events]).update(published_at=timezone.now())
    metrics.EVENTS_PUBLISHED.inc(len(events))
    return len(events)


async def _send_in_order(messages):
    # One at a time: dispatchers expect seqs in order and treat a jump as a loss to repair.
    layer = get_channel_layer()
    for message in messages:
        await layer.group_send(EVENTS_GROUP, message)


async def arelay_run() -> int:
    """The relay for async callers; it holds a database session for the whole run, in a worker thread."""
    return await database_sync_to_async(relay_run, thread_sensitive=False)()


def stream_cursor_announce() -> int:
    """Tells every dispatcher the latest seq given out; returns it (0: nothing numbered yet, nothing sent).

    A dispatcher notices a dropped message when the next one arrives, so
    the last events of a burst, if dropped, would wait for the next change;
    this word from each sweep lets it repair them within a sweep interval.
    It is sent every sweep, busy or idle: one message per process per
    interval.
    """
    seq = high_water_seq()
    if seq:
        run_on_layer_loop(get_channel_layer().group_send, EVENTS_GROUP, {"type": "realtime.cursor", "seq": seq})
    return seq


def relay_sweep() -> int:
    """The periodic safety net: number and publish what no commit hook did (or could),
    tell every dispatcher how far the stream has got, then prune."""
    published = relay_run()
    with relay_lock() as held:
        if held:
            while sent := _republish_batch(BATCH_SIZE):
                published += sent
    stream_cursor_announce()
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
