"""A socket's life: opening it, the limits on what a client may send, routing its frames, closing.

The socket is accepted before anything is checked, so that a refusal can be
a close code with a reason the client can show rather than a failed
handshake. Every client frame passes the same gate (rate, size, decoding)
and is then handed to the concern it belongs to; a failure in one frame is
answered with an error reply and never ends the socket, while a failure to
deliver ends it with 4011, since a skipped event would be lost silently.
"""

import asyncio
import logging
import time
import uuid
from urllib.parse import parse_qs

import token_bucket
from channels.exceptions import StopConsumer
from django.conf import settings

from realtime import metrics
from realtime.protocol.framing import SERIALIZERS, VSN_1, BroadcastPush, ClientFrame, FrameError
from realtime.socket.frames import (
    CLOSE_BAD_REQUEST,
    CLOSE_IDLE,
    CLOSE_INTERNAL_ERROR,
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_POLICY_VIOLATION,
    error_payload,
)
from realtime.socket.tracking import PORTALS

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
# A client may send this many frames a second, with bursts up to FRAME_BURST.
FRAME_RATE = 100
FRAME_BURST = 200


def _idle_seconds() -> float:
    return settings.REALTIME_SOCKET_IDLE_SECONDS


class ConnectionMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.socket_id = uuid.uuid4().hex
        self.connected = False
        self.last_frame_at = time.monotonic()
        self.watchdog: asyncio.Task | None = None
        self.frame_budget = token_bucket.Limiter(FRAME_RATE, FRAME_BURST, token_bucket.MemoryStorage())

    async def __call__(self, scope, receive, send):
        """A channel layer that fails under the consumer ends Channels' dispatch loop; the socket is
        then closed, so the client reconnects instead of waiting on a socket that never speaks again."""
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            logger.exception("realtime socket %s lost its channel layer", self.socket_id)
            await send({"type": "websocket.close", "code": CLOSE_INTERNAL_ERROR})
            await self._release()

    async def connect(self):
        params = {name: values[-1] for name, values in parse_qs(self.scope.get("query_string", b"").decode()).items()}
        vsn = params.get("vsn", VSN_1)
        portal = params.get("portal", PORTALS[0])
        self.portal = portal if portal in PORTALS else PORTALS[0]
        await self.accept()
        if vsn not in SERIALIZERS:
            await self._refuse(CLOSE_BAD_REQUEST, f"unsupported vsn {vsn!r}: use {' or '.join(SERIALIZERS)}")
            return
        self.serializer = SERIALIZERS[vsn]
        if not await self._authenticate(params.get("apikey", "")):
            return
        self.delivery = asyncio.create_task(self._deliver_live())
        self.connected = True
        metrics.SOCKETS_OPEN.inc()
        await self._track_online()
        self.watchdog = asyncio.create_task(self._close_when_silent())

    async def disconnect(self, code):
        await self._release()

    async def _release(self) -> None:
        """Lets go of everything the socket holds; runs once, however the socket ends."""
        for task in (self.watchdog, self.delivery):
            if task is not None:
                task.cancel()
        if self.subscription is not None:
            self.dispatcher.unsubscribe(self.subscription)
        if not self.connected:
            return
        self.connected = False
        metrics.SOCKETS_OPEN.dec()
        for channel in list(self.channels.values()):
            await self._drop_channel(channel)
        await self._untrack_online()

    async def _close_when_silent(self):
        while True:
            silent_for = time.monotonic() - self.last_frame_at
            if silent_for >= _idle_seconds():
                await self._refuse(CLOSE_IDLE, f"no frame for {_idle_seconds():g} s: send a heartbeat")
                return
            await asyncio.sleep(_idle_seconds() - silent_for)

    async def dispatch(self, message):
        try:
            await super().dispatch(message)
        except StopConsumer:
            raise
        except Exception:
            logger.exception("realtime socket %s failed on %s", self.socket_id, message.get("type"))
            if message.get("type") == "websocket.disconnect":
                raise StopConsumer() from None
            # A lost event must not pass silently: the client reconnects and resumes from its last seq.
            await self._refuse(CLOSE_INTERNAL_ERROR, "internal error: reconnect and resume from your last seq")

    # Client frames

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        if not self.frame_budget.consume(self.socket_id):
            await self._refuse(CLOSE_POLICY_VIOLATION, f"more than {FRAME_RATE} frames a second")
            return
        size = len(bytes_data) if text_data is None else len(text_data.encode())
        if size > MAX_FRAME_BYTES:
            await self._refuse(CLOSE_MESSAGE_TOO_BIG, f"frames are limited to {MAX_FRAME_BYTES} bytes")
            return
        self.last_frame_at = time.monotonic()
        broadcast = None
        async with self.sending:
            try:
                if text_data is None:
                    frame, broadcast = self.serializer.decode_binary(bytes_data)
                else:
                    frame = self.serializer.decode_text(text_data)
            except FrameError as error:
                topic = error.topic or "phoenix"
                await self._push(topic, "phx_reply", error_payload(str(error)), ref=error.ref, join_ref=error.join_ref)
                return
            try:
                await self._handle(frame, broadcast)
            except FrameError as error:
                await self._reply_error(frame, str(error))
            except Exception:
                logger.exception("realtime socket %s failed on %s %s", self.socket_id, frame.topic, frame.event)
                await self._reply_error(frame, "internal error")

    async def _handle(self, frame: ClientFrame, broadcast: BroadcastPush | None) -> None:
        if frame.topic == "phoenix":
            if frame.event != "heartbeat":
                await self._reply_error(frame, f"unknown event {frame.event!r} on topic phoenix")
                return
            await self._reply(frame)
            return
        if frame.event == "phx_join":
            await self._join(frame)
            return
        if frame.event == "phx_leave":
            await self._leave(frame)
            return
        channel = self.channels.get(frame.topic)
        if channel is None:
            await self._reply_error(frame, f"join {frame.topic} before sending {frame.event!r} on it")
            return
        if frame.event == "broadcast":
            await self._broadcast(frame, channel, broadcast)
        elif frame.event == "presence":
            await self._presence(frame, channel)
        elif frame.event == "access_token":
            await self._access_token(frame, channel)
        else:
            await self._reply_error(frame, f"unknown event {frame.event!r}")
