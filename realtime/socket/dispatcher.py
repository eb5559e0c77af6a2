"""One dispatcher per server process: it hands change events to the process's sockets.

The relay publishes each event once, in seq order, to the channel-layer group
`rt.events`, and seqs have no gaps. The channel layer is at-most-once
(channels-redis drops messages silently when a channel is over capacity), so
the dispatcher keeps the last seq it handed out: a message beyond the next
seq, or a sweep's cursor ahead of it, means events were dropped, and it reads
them from the outbox and hands them out first. So every socket of the process
gets every event of its groups once and in seq order, however many groups it
reads; a socket tracking one chain per group could not, since it learns of a
loss in one group only after it has delivered later events of another.

Each socket has a bounded queue that the socket drains itself, so a slow
client never holds up the others. A socket's sends wait for its client to
read (zora/backpressure.py), so the events of a client that does not read
wait here; one with too many events or too many bytes of them waiting is
closed, so that its client resumes with `since` instead of silently missing
events and without the server holding an unbounded backlog for it.

Access events (Event.ACCESS_TABLE: a user's token revoked, session ended,
account suspended, shop membership or admin flag changed) travel in the same
stream, so they reach each socket in seq order with every other event. A
socket learns its new groups only once it has read its identity again, which
takes a database read; until it regroups, the dispatcher queues it every
event (it is *held*), so nothing committed after the change is handed out
by the old groups alone and nothing of a group it just gained is missed; the
socket sorts the queued events out by its new groups. The dispatcher also
remembers the seq of each user's latest access event, so that a socket that
read its identity before subscribing can tell whether an access change
slipped in meanwhile (`access_changed`).
"""

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from realtime import metrics, selectors
from realtime.models import Event
from realtime.relay import EVENTS_GROUP

logger = logging.getLogger(__name__)

# Events a socket may have waiting, and their encoded size, before it counts as not reading.
SOCKET_QUEUE_LIMIT = 10_000
SOCKET_QUEUE_BYTES = 8 * 2**20
REPAIR_PAGE = 1000
RETRY_SECONDS = 1.0
# Redis can lose the group's membership (a restart without persistence, a flush, channels-redis's
# group_expiry): the dispatcher joins again this often, and whenever a socket subscribes.
REJOIN_SECONDS = 30.0
# How long a connecting socket waits for a dispatcher that cannot reach the channel layer.
READY_TIMEOUT = 10.0
# Users whose latest access event is remembered; an identity read older than the oldest of them
# counts as possibly outdated, and is read again.
RECENT_ACCESS_LIMIT = 10_000


@dataclass(frozen=True)
class LiveEvent:
    """An event as the relay sent it; it has the attributes of selectors.ReplayEvent that sockets read."""

    seq: int
    groups: frozenset[str]
    table: str
    event_type: str
    record: dict | None
    old_record: dict | None
    data: str

    @classmethod
    def from_message(cls, message: dict) -> "LiveEvent":
        return cls(
            seq=message["seq"],
            groups=frozenset(message["audience"]),
            table=message["table"],
            event_type=message["event_type"],
            record=message["record"],
            old_record=message["old_record"],
            data=message["data"],
        )


class Subscription:
    """A socket's place at the dispatcher: the groups it reads and the events waiting for it.

    An event waits from when it is queued until the socket has passed it on (`sent`), so the
    events a socket took from its queue but is still sending to a client that does not read
    count too.
    """

    def __init__(self, *, groups: frozenset[str], evict: Callable[[str], None]):
        self.groups = groups
        self.queue: asyncio.Queue = asyncio.Queue()
        self.waiting_events = 0
        self.waiting_bytes = 0
        # Called, with the reason, when the socket can no longer be kept in order; it must close the socket.
        self.evict = evict

    def offer(self, event) -> str | None:
        """Queues the event, or says why the socket is too far behind to be given more."""
        if self.waiting_events >= SOCKET_QUEUE_LIMIT:
            return f"more than {SOCKET_QUEUE_LIMIT} events waiting"
        size = _size(event)
        if self.waiting_bytes + size > SOCKET_QUEUE_BYTES:
            return f"more than {SOCKET_QUEUE_BYTES // 2**20} MiB of events waiting"
        self.queue.put_nowait(event)
        self.waiting_events += 1
        self.waiting_bytes += size
        return None

    def sent(self, event) -> None:
        """The socket is done with an event it took from the queue (sent it, or had nothing to send)."""
        self.waiting_events -= 1
        self.waiting_bytes -= _size(event)


def _size(event) -> int:
    return len(event.data or "")


class Dispatcher:
    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.layer = get_channel_layer()
        # Every event up to this seq has been handed out.
        self.last = 0
        self._subscriptions: dict[str, set[Subscription]] = {}
        # Sockets between an access event of theirs and their regroup: they are queued every event.
        self._held: set[Subscription] = set()
        # Audience group -> the seq of its latest access event handed out, oldest first.
        self._recent_access: OrderedDict[str, int] = OrderedDict()
        self._access_forgotten_through = 0
        self._ready = asyncio.Event()
        self._channel = None
        self.task = self.loop.create_task(self._run())
        self._rejoining = self.loop.create_task(self._keep_joined())

    # Sockets

    async def ready(self) -> None:
        """Returns once `last` counts: the dispatcher has joined the stream and read where it stands."""
        await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT)

    async def subscribe(self, groups: Iterable[str], *, evict: Callable[[str], None]) -> Subscription:
        """Registers a socket: from the return on, it gets every event of `groups` after `last`."""
        await self.ready()
        await self._join_group()
        seen = self.last
        high_water = await database_sync_to_async(selectors.high_water_seq)()
        # Against `seen` (what had been handed out before the read), unless another socket's
        # subscription restarted the stream meanwhile.
        if high_water < min(seen, self.last):
            self._restart_stream(high_water)
        subscription = Subscription(groups=frozenset(groups), evict=evict)
        self._add(subscription)
        return subscription

    def regroup(self, subscription: Subscription, groups: Iterable[str]) -> None:
        """The socket's identity changed: the events handed out from now on follow its new groups.
        A held socket is let go."""
        self._remove(subscription)
        subscription.groups = frozenset(groups)
        self._add(subscription)
        self._held.discard(subscription)

    def hold(self, subscription: Subscription) -> None:
        """Queues the socket every event until its next regroup: it is reading its identity again."""
        self._held.add(subscription)

    def access_changed(self, groups: Iterable[str], *, after: int) -> bool:
        """Whether an access event of any of `groups` was handed out after seq `after`."""
        if after < self._access_forgotten_through:
            return True
        return any(self._recent_access.get(group, 0) > after for group in groups)

    def unsubscribe(self, subscription: Subscription) -> None:
        self._drop(subscription)

    async def stop(self) -> None:
        """Leaves the channel layer, for an orderly shutdown; the sockets still subscribed are closed."""
        for task in (self.task, self._rejoining):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._channel is not None:
            await self.layer.group_discard(EVENTS_GROUP, self._channel)
        for subscription in self._members():
            self._drop(subscription)
            subscription.evict("the server is shutting down: reconnect and resume")

    def _members(self) -> set[Subscription]:
        return self._held.union(*self._subscriptions.values())

    def _add(self, subscription: Subscription) -> None:
        for group in subscription.groups:
            self._subscriptions.setdefault(group, set()).add(subscription)

    def _remove(self, subscription: Subscription) -> None:
        for group in subscription.groups:
            members = self._subscriptions.get(group)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del self._subscriptions[group]

    def _drop(self, subscription: Subscription) -> None:
        self._remove(subscription)
        self._held.discard(subscription)

    def _restart_stream(self, high_water: int) -> None:
        """The stream is behind what was handed out: the database was replaced (restored from a
        backup, say). The sockets' positions belong to the old stream, so they are closed and
        their clients resume, which tells them to resync."""
        logger.warning("the event stream went back from seq %s to %s: closing the sockets", self.last, high_water)
        self.last = high_water
        self._recent_access.clear()
        self._access_forgotten_through = 0
        for subscription in self._members():
            self._drop(subscription)
            subscription.evict("the event stream was reset: reconnect and resume")

    # The channel layer

    async def _run(self):
        await self._start()
        self._ready.set()
        rejoin = False
        while True:
            try:
                if rejoin:
                    await self._join_group()
                    rejoin = False
                await self._handle(await self.layer.receive(self._channel))
            except Exception:
                _unless_cancelled()
                # Nothing is lost: the next message or sweep cursor shows the gap, and the outbox fills it.
                logger.exception("realtime dispatcher: the channel layer or the outbox failed; carrying on")
                rejoin = True
                await asyncio.sleep(RETRY_SECONDS)

    async def _start(self):
        while True:
            try:
                self._channel = await self.layer.new_channel()
                await self._join_group()
                # Read after joining: an event numbered in between is either within the baseline or arrives.
                self.last = await database_sync_to_async(selectors.high_water_seq)()
                return
            except Exception:
                _unless_cancelled()
                logger.exception("realtime dispatcher cannot start; retrying")
                await asyncio.sleep(RETRY_SECONDS)

    async def _join_group(self):
        # Joining again is harmless; events missed while out of the group are repaired like drops.
        await self.layer.group_add(EVENTS_GROUP, self._channel)

    async def _keep_joined(self):
        await self._ready.wait()
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await self._join_group()
            except Exception:
                _unless_cancelled()
                logger.exception("realtime dispatcher cannot renew its membership; retrying")

    async def _handle(self, message: dict) -> None:
        seq = message["seq"]
        if seq <= self.last:
            return  # a re-publish, or a cursor already reached
        if message["type"] == "realtime.cursor":
            await self._catch_up(through=seq)
            return
        if seq > self.last + 1:
            await self._catch_up(through=seq - 1)
        self._hand_out(LiveEvent.from_message(message))

    async def _catch_up(self, *, through: int) -> None:
        """Hands out, from the outbox and in order, the events up to `through` the channel layer dropped."""
        metrics.REPAIRS.inc()
        while self.last < through:
            events = await database_sync_to_async(selectors.events_after)(
                groups=None, after_seq=self.last, up_to_seq=through, limit=REPAIR_PAGE
            )
            if not events:
                break
            metrics.REPAIRED_EVENTS.inc(len(events))
            for event in events:
                self._hand_out(event)
        # Seqs with no event left were pruned: nobody can be owed them any more.
        self.last = max(self.last, through)

    def _hand_out(self, event) -> None:
        """Queues the event once for each local socket in any of its groups, and for each held one."""
        self.last = event.seq
        targets = set(self._held)
        for group in event.groups:
            targets.update(self._subscriptions.get(group, ()))
        if event.table == Event.ACCESS_TABLE:
            self._note_access(event)
            self._held.update(targets)
        for subscription in targets:
            if behind := subscription.offer(event):
                self._drop(subscription)
                subscription.evict(f"{behind}: reconnect and resume with since")

    def _note_access(self, event) -> None:
        for group in event.groups:
            self._recent_access[group] = event.seq
            self._recent_access.move_to_end(group)
        while len(self._recent_access) > RECENT_ACCESS_LIMIT:
            _, forgotten = self._recent_access.popitem(last=False)
            self._access_forgotten_through = forgotten


def _unless_cancelled() -> None:
    """Re-raises when the dispatcher is being stopped: the channel layer may turn a cancellation
    of its receive into another exception, which must not keep the dispatcher going."""
    if asyncio.current_task().cancelling():
        raise asyncio.CancelledError


_dispatcher: Dispatcher | None = None


def process_dispatcher() -> Dispatcher:
    """The dispatcher of this process, started by the first socket that connects."""
    global _dispatcher
    if _dispatcher is None or _dispatcher.loop is not asyncio.get_running_loop():
        _dispatcher = Dispatcher()
    return _dispatcher


async def stop_process_dispatcher() -> None:
    """Stops this process's dispatcher, if it runs in the current event loop."""
    global _dispatcher
    if _dispatcher is not None and _dispatcher.loop is asyncio.get_running_loop():
        await _dispatcher.stop()
        _dispatcher = None
