"""Joining and leaving channels, and the `since` replay a join may ask for.

A join is checked whole (topic, config, bindings, who may be on it) before
anything about the socket changes. It is answered, announced and replayed
while the socket's frames are held back (`sending`), so a channel's first
frames are its reply, its `system` message and its replay, in that order, and
the live events that arrive meanwhile wait in the socket's queue.
"""

import itertools

from channels.db import database_sync_to_async

from realtime import metrics, selectors
from realtime.models import Event
from realtime.protocol.framing import ClientFrame
from realtime.socket.channels import ONLINE, JoinedChannel, JoinRefused, parse_join, refusal_for, topic_group

REPLAY_PAGE = 1000


class JoinsMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channels: dict[str, JoinedChannel] = {}
        self.binding_ids = itertools.count(1)

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

    async def _replay(self, channel: JoinedChannel) -> None:
        """Send the channel what it missed after `since`, up to what the dispatcher has handed out;
        the live events after that wait in the queue meanwhile.

        The replay runs ahead of the live queue, so it reads the socket's access events too: one
        it has not yet taken into account makes it read the identity again before going on, and
        go on with the groups that identity reads."""
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
        tables = None if channel.tables is None else [*channel.tables, Event.ACCESS_TABLE]
        after = channel.since
        while after < through:
            events = await database_sync_to_async(selectors.events_after)(
                groups=self.subscription.groups,
                after_seq=after,
                up_to_seq=through,
                tables=tables,
                limit=REPLAY_PAGE,
            )
            if not events:
                break
            for event in events:
                after = event.seq
                if event.table != Event.ACCESS_TABLE:
                    await self._deliver(event, only=channel)
                elif event.seq > self.resolved_after:
                    if not await self._access_changed(event) or self.channels.get(channel.topic) is not channel:
                        return
                    break  # read on from here with the groups the socket reads now
