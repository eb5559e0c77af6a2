"""postgres_changes: passing on the events the process's dispatcher queued for the socket.

The dispatcher (realtime/socket/dispatcher.py) queues each event of the
socket's groups once, in seq order, with the channel layer's drops already
repaired; this drains the queue into one frame per joined channel whose
bindings match, splicing the event's pre-encoded JSON into it. An access
event in the queue is not a frame: it makes the socket read its identity
again (realtime/socket/access.py) before anything queued after it goes out.
"""

import asyncio
import logging

from realtime import metrics
from realtime.models import Event
from realtime.protocol.filters import matching_ids
from realtime.protocol.framing import dumps
from realtime.socket.channels import JoinedChannel
from realtime.socket.dispatcher import Subscription
from realtime.socket.frames import CLOSE_INTERNAL_ERROR

logger = logging.getLogger(__name__)


class DeliveryMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dispatcher = None
        self.subscription: Subscription | None = None
        self.delivery: asyncio.Task | None = None
        self.eviction: asyncio.Task | None = None

    def _evict(self, reason: str) -> None:
        """The dispatcher dropped the socket (its queue overflowed, or the stream was reset): close it
        rather than let it miss events."""
        if self.delivery is not None:
            self.delivery.cancel()
        self.eviction = asyncio.ensure_future(self._refuse(CLOSE_INTERNAL_ERROR, reason))

    async def _deliver_live(self) -> None:
        """Passes on the events the dispatcher queued for the socket, in seq order."""
        subscription = self.subscription
        while True:
            # Everything waiting goes out under one hold of the lock: under load, one wake-up per batch.
            events = [await subscription.queue.get()]
            while not subscription.queue.empty():
                events.append(subscription.queue.get_nowait())
            async with self.sending:
                for event in events:
                    try:
                        # The socket may have lost the event's groups (a revoked token) since it was queued,
                        # or have been queued every event while it read its identity again.
                        if event.groups.isdisjoint(subscription.groups):
                            continue
                        if event.table != Event.ACCESS_TABLE:
                            await self._deliver(event)
                        elif not await self._access_changed(event):
                            return
                    except Exception:
                        logger.exception("realtime socket %s failed to deliver seq %s", self.socket_id, event.seq)
                        # Skipping the event would lose it: the client reconnects and resumes from its last seq.
                        await self._refuse(
                            CLOSE_INTERNAL_ERROR, "internal error: reconnect and resume from your last seq"
                        )
                        return
                    finally:
                        subscription.sent(event)

    async def _deliver(self, event, *, only: JoinedChannel | None = None) -> None:
        """One frame per channel whose bindings match: all of them, or just `only` (a replay)."""
        for channel in [only] if only is not None else list(self.channels.values()):
            if not channel.bindings or (only is None and event.seq <= channel.live_after):
                continue
            ids = matching_ids(
                channel.bindings,
                table=event.table,
                event_type=event.event_type,
                record=event.record,
                old_record=event.old_record,
            )
            if ids:
                payload_text = '{"ids":' + dumps(ids) + ',"data":' + event.data + "}"
                await self._send_text(channel.topic, "postgres_changes", payload_text, join_ref=channel.join_ref)
                metrics.EVENTS_DELIVERED.inc()
