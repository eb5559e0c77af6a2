"""The WebSocket endpoint: Supabase Realtime's protocol (Phoenix Channels) over Channels.

One consumer per socket. At connect it learns who the client is and subscribes
to the process's dispatcher (realtime/socket/dispatcher.py) with the audience
groups the client may read; the dispatcher queues for it every change event of
those groups once, in seq order, with drops already repaired. The socket's
delivery task passes each on to the joined channels whose bindings match,
splicing the event's pre-encoded JSON into the frame.

Delivery and the handling of client frames take turns (the `sending` lock), so
a join's reply, its `system` message and its `since` replay go out before any
live event of the channel, and the live events that arrive meanwhile wait in
the queue. Broadcasts and presence travel through channel-layer groups per topic.
"""

import asyncio
import itertools
import logging
import time
import uuid
from urllib.parse import parse_qs

import token_bucket
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from realtime import metrics, selectors
from realtime.policies import vendor_ids_of_groups
from realtime.protocol.filters import matching_ids
from realtime.protocol.framing import SERIALIZERS, VSN_1, BroadcastPush, ClientFrame, FrameError, dumps
from realtime.socket.channels import (
    ANNOUNCEMENTS,
    ONLINE,
    JoinedChannel,
    JoinRefused,
    parse_join,
    refusal_for,
    topic_group,
)
from realtime.socket.dispatcher import Subscription, process_dispatcher
from realtime.socket.identity import ANONYMOUS, Identity, identity_for_token, identity_for_user, is_public_key
from realtime.socket.presence import PresenceEntry, as_diff, as_state, new_meta, presence_store

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
# A client may send this many frames a second, with bursts up to FRAME_BURST.
FRAME_RATE = 100
FRAME_BURST = 200
REPLAY_PAGE = 1000
PORTALS = ("app", "vendor", "dashboard")

# Close codes, all in the 4000–4999 range RFC 6455 leaves to applications: daphne (autobahn) refuses
# to send any other code but 1000, so RFC 6455's 1008/1009/1011 become 4008/4009/4011.
CLOSE_POLICY_VIOLATION = 4008
CLOSE_MESSAGE_TOO_BIG = 4009
CLOSE_INTERNAL_ERROR = 4011
CLOSE_BAD_REQUEST = 4000
CLOSE_UNAUTHORIZED = 4001
CLOSE_IDLE = 4408


def _idle_seconds() -> float:
    return settings.REALTIME_SOCKET_IDLE_SECONDS


class RealtimeConsumer(AsyncWebsocketConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.socket_id = uuid.uuid4().hex
        self.serializer = SERIALIZERS[VSN_1]
        self.dispatcher = None
        self.subscription: Subscription | None = None
        self.delivery: asyncio.Task | None = None
        self.eviction: asyncio.Task | None = None
        # Held while a client frame is handled or an event delivered: the socket's frames stay in order.
        self.sending = asyncio.Lock()
        self.channels: dict[str, JoinedChannel] = {}
        # What the connection itself proved (session or apikey); an access_token may override it.
        self.connection_identity = ANONYMOUS
        self.identity = ANONYMOUS
        self.portal = PORTALS[0]
        self.connected = False
        self.closing = False
        self.last_frame_at = time.monotonic()
        self.watchdog: asyncio.Task | None = None
        self.frame_budget = token_bucket.Limiter(FRAME_RATE, FRAME_BURST, token_bucket.MemoryStorage())
        self.binding_ids = itertools.count(1)

    # Connection lifecycle

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
        identity = await self._connection_identity(params.get("apikey", ""))
        if identity is None:
            return
        self.connection_identity = self.identity = identity
        self.dispatcher = process_dispatcher()
        self.subscription = await self.dispatcher.subscribe(identity.groups, evict=self._evict)
        self.delivery = asyncio.create_task(self._deliver_live())
        self.connected = True
        metrics.SOCKETS_OPEN.inc()
        await self._track_online()
        self.watchdog = asyncio.create_task(self._close_when_silent())

    async def _connection_identity(self, apikey: str) -> Identity | None:
        session_user = self.scope.get("user")
        if apikey and not is_public_key(apikey):
            identity = await database_sync_to_async(identity_for_token)(apikey)
            if identity is None:
                await self._refuse(CLOSE_UNAUTHORIZED, "apikey is neither the public key nor a valid API token")
                return None
            return identity
        if session_user is not None and session_user.is_authenticated:
            return await database_sync_to_async(identity_for_user)(session_user)
        if apikey:
            return ANONYMOUS
        await self._refuse(
            CLOSE_UNAUTHORIZED, "connect with ?apikey=<public key or API token>, or from a signed-in page"
        )
        return None

    async def _refuse(self, code: int, reason: str) -> None:
        self.closing = True
        await self.close(code=code, reason=reason)

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

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Channel-layer messages keep arriving until the server confirms a close; they are not sent."""
        if not self.closing:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    def _evict(self, reason: str) -> None:
        """The dispatcher dropped the socket (its queue overflowed, or the stream was reset): close it
        rather than let it miss events."""
        if self.delivery is not None:
            self.delivery.cancel()
        self.eviction = asyncio.ensure_future(self._refuse(CLOSE_INTERNAL_ERROR, reason))

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
                await self._push(topic, "phx_reply", _error(str(error)), ref=error.ref, join_ref=error.join_ref)
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
            await self._broadcast(frame, channel, broadcast or _text_broadcast(frame.payload))
        elif frame.event == "presence":
            await self._presence(frame, channel)
        elif frame.event == "access_token":
            await self._access_token(frame, channel)
        else:
            await self._reply_error(frame, f"unknown event {frame.event!r}")

    # Joining and leaving

    async def _join(self, frame: ClientFrame) -> None:
        access_token = frame.payload.get("access_token")
        if access_token is not None:
            if not isinstance(access_token, str):
                await self._reply_error(frame, "access_token must be a string")
                return
            if not await self._reauthorize(access_token):
                await self._reply_error(frame, "access_token is invalid or revoked")
                return
        try:
            channel = parse_join(
                frame.topic, frame.join_ref, frame.payload, next_binding_id=lambda: next(self.binding_ids)
            )
        except JoinRefused as error:
            await self._reply_error(frame, str(error))
            return
        refusal = refusal_for(channel.topic, private=channel.private, identity=self.identity)
        if refusal:
            await self._reply_error(frame, refusal)
            return
        previous = self.channels.get(channel.topic)
        if previous is not None:
            # Phoenix's rule for a duplicate join: the old channel closes, the new one takes its place.
            await self._close_channel(previous)
        channel.joined_as = self.identity.user_id
        await self.channel_layer.group_add(topic_group(channel.topic), self.channel_name)
        # Events the dispatcher handed out so far came before the join; every later one is the channel's.
        channel.live_after = self.dispatcher.last
        self.channels[channel.topic] = channel
        metrics.CHANNELS_JOINED.inc()
        await self._reply(frame, {"postgres_changes": [binding.echo for binding in channel.bindings]})
        if channel.bindings:
            await self._system(channel, "postgres_changes", "ok", "Subscribed to PostgreSQL")
        if channel.presence_enabled or channel.topic == ONLINE:
            await self._send_presence_state(channel)
        if channel.bindings and channel.since is not None:
            await self._replay(channel)

    async def _leave(self, frame: ClientFrame) -> None:
        await self._reply(frame)
        channel = self.channels.get(frame.topic)
        if channel is not None:
            await self._close_channel(channel)

    async def _close_channel(self, channel: JoinedChannel) -> None:
        await self._drop_channel(channel)
        await self._push(channel.topic, "phx_close", {}, ref=channel.join_ref, join_ref=channel.join_ref)

    async def _drop_channel(self, channel: JoinedChannel) -> None:
        self.channels.pop(channel.topic, None)
        metrics.CHANNELS_JOINED.dec()
        if channel.tracked:
            await self._untrack(channel)
        await self.channel_layer.group_discard(topic_group(channel.topic), self.channel_name)

    # Authorization

    async def _access_token(self, frame: ClientFrame, channel: JoinedChannel) -> None:
        token = frame.payload.get("access_token")
        if not isinstance(token, str):
            await self._reply_error(frame, "access_token message needs {access_token: <token>}")
            return
        if not await self._reauthorize(token) and channel.topic in self.channels:
            await self._system(
                channel, "system", "error", "access_token is invalid or revoked: this socket now reads public rows only"
            )

    async def _reauthorize(self, token: str) -> bool:
        """Switch the socket to the identity `token` proves; an invalid token leaves it anonymous
        and ends the channels that were authorized for a user. The token is checked again even
        when unchanged, since it may have been revoked since."""
        if is_public_key(token):
            identity = self.connection_identity
        else:
            identity = await database_sync_to_async(identity_for_token)(token)
        valid = identity is not None
        previous_user = self.identity.user_id
        self.identity = identity if valid else ANONYMOUS
        for channel in list(self.channels.values()):
            refusal = refusal_for(channel.topic, private=channel.private, identity=self.identity)
            if refusal is None and not valid and channel.joined_as is not None:
                refusal = "access_token is invalid or revoked: rejoin with a valid token"
            if refusal is not None:
                await self._system(channel, "system", "error", refusal)
                await self._close_channel(channel)
        self.dispatcher.regroup(self.subscription, self.identity.groups)
        if previous_user != self.identity.user_id:
            await self._untrack_online()
            await self._track_online()
        return valid

    # postgres_changes

    async def _deliver_live(self) -> None:
        """Passes on the events the dispatcher queued for the socket, in seq order."""
        queue = self.subscription.queue
        while True:
            # Everything waiting goes out under one hold of the lock: under load, one wake-up per batch.
            events = [await queue.get()]
            while not queue.empty():
                events.append(queue.get_nowait())
            async with self.sending:
                for event in events:
                    try:
                        # The socket may have lost the event's groups (a revoked token) since it was queued.
                        if not event.groups.isdisjoint(self.subscription.groups):
                            await self._deliver(event)
                    except Exception:
                        logger.exception("realtime socket %s failed to deliver seq %s", self.socket_id, event.seq)
                        # Skipping the event would lose it: the client reconnects and resumes from its last seq.
                        await self._refuse(
                            CLOSE_INTERNAL_ERROR, "internal error: reconnect and resume from your last seq"
                        )
                        return

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

    async def _replay(self, channel: JoinedChannel) -> None:
        """Send the channel what it missed after `since`, up to what the dispatcher has handed out;
        the live events after that wait in the queue meanwhile."""
        through = channel.live_after = self.dispatcher.last
        if await database_sync_to_async(selectors.resync_required)(after_seq=channel.since):
            await self._system(
                channel,
                "postgres_changes",
                "resync_required",
                f"events after seq {channel.since} are no longer kept: reload your data, then follow live events",
            )
            return
        # The client has everything up to `since`, even when the dispatcher has not got that far yet.
        channel.live_after = max(channel.since, through)
        metrics.REPLAYS.inc()
        after = channel.since
        while after < through:
            events = await database_sync_to_async(selectors.events_after)(
                groups=self.subscription.groups,
                after_seq=after,
                up_to_seq=through,
                tables=channel.tables,
                limit=REPLAY_PAGE,
            )
            if not events:
                break
            for event in events:
                await self._deliver(event, only=channel)
            after = events[-1].seq

    # Broadcast

    async def _broadcast(self, frame: ClientFrame, channel: JoinedChannel, broadcast: BroadcastPush) -> None:
        if channel.topic == ANNOUNCEMENTS and not self.identity.is_admin:
            await self._reply_error(frame, f"only platform admins may broadcast on {ANNOUNCEMENTS}")
            return
        await self.channel_layer.group_send(
            topic_group(channel.topic),
            {
                "type": "realtime.broadcast",
                "topic": channel.topic,
                "sender": self.channel_name,
                "event": broadcast.event,
                "payload_json": broadcast.payload_json,
                "payload_bytes": broadcast.payload_bytes,
                "meta": broadcast.meta,
            },
        )
        if channel.broadcast_ack:
            await self._reply(frame)

    async def realtime_broadcast(self, message):
        channel = self.channels.get(message["topic"])
        if channel is None or (message["sender"] == self.channel_name and not channel.broadcast_self):
            return
        broadcast = BroadcastPush(
            event=message["event"],
            payload_json=message["payload_json"],
            payload_bytes=message["payload_bytes"],
            meta=message["meta"],
        )
        frame = self.serializer.encode_broadcast(join_ref=channel.join_ref, topic=channel.topic, broadcast=broadcast)
        if isinstance(frame, bytes):
            await self.send(bytes_data=frame)
        elif frame is not None:
            await self.send(text_data=frame)

    # Presence

    async def _presence(self, frame: ClientFrame, channel: JoinedChannel) -> None:
        if channel.topic == ONLINE:
            await self._reply_error(frame, f"presence on {ONLINE} is kept by the server")
            return
        event = frame.payload.get("event")
        if event == "track":
            payload = frame.payload.get("payload", {})
            if not isinstance(payload, dict):
                await self._reply_error(frame, "presence track payload must be a JSON object")
                return
            await self._track(channel.topic, channel.presence_key, payload)
            channel.tracked = True
        elif event == "untrack":
            if channel.tracked:
                await self._untrack(channel)
        else:
            await self._reply_error(frame, "presence event must be track or untrack")
            return
        await self._reply(frame)

    async def _track(self, topic: str, key: str, payload: dict) -> None:
        """Tracking again replaces the socket's entry: a leave of the old meta and a join of the new."""
        entry = PresenceEntry(key, new_meta(payload))
        replaced = await presence_store().track(topic, self.socket_id, entry)
        await self._send_presence_diff(topic, joins=[entry], leaves=[replaced] if replaced else [])

    async def _untrack(self, channel: JoinedChannel) -> None:
        channel.tracked = False
        left = await presence_store().untrack(channel.topic, self.socket_id)
        if left is not None:
            await self._send_presence_diff(channel.topic, leaves=[left])

    async def _send_presence_diff(self, topic: str, *, joins=(), leaves=()) -> None:
        await self.channel_layer.group_send(
            topic_group(topic),
            {"type": "realtime.presence", "topic": topic, "diff": as_diff(joins=joins, leaves=leaves)},
        )

    async def _send_presence_state(self, channel: JoinedChannel) -> None:
        live, lapsed = await presence_store().entries(channel.topic)
        await self._send_text(channel.topic, "presence_state", dumps(as_state(live)), join_ref=channel.join_ref)
        if lapsed:
            await self._send_presence_diff(channel.topic, leaves=lapsed)

    async def realtime_presence(self, message):
        channel = self.channels.get(message["topic"])
        if channel is not None:
            await self._send_text(channel.topic, "presence_diff", dumps(message["diff"]), join_ref=channel.join_ref)

    async def _track_online(self) -> None:
        """Everyone signed in is on realtime:online, with the portal they use."""
        user = self.identity.user
        if user is None:
            return
        meta = {
            "user_id": user.pk,
            "name": user.get_full_name(),
            "portal": self.portal,
            # The shops this user works for: a shop with no portal tab open for long pauses itself.
            "vendor_ids": sorted(vendor_ids_of_groups(self.identity.groups)),
            "online_at": timezone.now().isoformat(),
        }
        await self._track(ONLINE, str(user.pk), meta)

    async def _untrack_online(self) -> None:
        left = await presence_store().untrack(ONLINE, self.socket_id)
        if left is not None:
            await self._send_presence_diff(ONLINE, leaves=[left])

    # Framing

    async def _send_text(self, topic: str, event: str, payload_text: str, *, ref=None, join_ref=None) -> None:
        # Straight to the server, as AsyncWebsocketConsumer.send would: this is every event's path.
        if not self.closing:
            text = self.serializer.encode(
                join_ref=join_ref, ref=ref, topic=topic, event=event, payload_text=payload_text
            )
            await self.base_send({"type": "websocket.send", "text": text})

    async def _push(self, topic: str, event: str, payload: dict, *, ref=None, join_ref=None) -> None:
        await self._send_text(topic, event, dumps(payload), ref=ref, join_ref=join_ref)

    async def _reply(self, frame: ClientFrame, response: dict | None = None) -> None:
        await self._push(
            frame.topic,
            "phx_reply",
            {"status": "ok", "response": response or {}},
            ref=frame.ref,
            join_ref=frame.join_ref,
        )

    async def _reply_error(self, frame: ClientFrame, reason: str) -> None:
        await self._push(frame.topic, "phx_reply", _error(reason), ref=frame.ref, join_ref=frame.join_ref)

    async def _system(self, channel: JoinedChannel, extension: str, status: str, message: str) -> None:
        payload = {"extension": extension, "status": status, "message": message, "channel": channel.name}
        await self._push(channel.topic, "system", payload, join_ref=channel.join_ref)


def _error(reason: str) -> dict:
    return {"status": "error", "response": {"reason": reason}}


def _text_broadcast(payload: dict) -> BroadcastPush:
    if payload.get("type", "broadcast") != "broadcast":
        raise FrameError("a broadcast payload is {type: broadcast, event, payload}")
    return BroadcastPush.from_json_payload(payload)
