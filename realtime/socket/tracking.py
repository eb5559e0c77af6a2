"""Presence on a socket: tracking and untracking, the state on join, diffs, realtime:online.

The entries live in the process-shared store (realtime/socket/presence.py);
diffs travel through the topic's channel-layer group, so every member on
every process sees them. Every signed-in socket is tracked on realtime:online
by the server itself, under its user id, with the portal it uses and the
shops its user works for.
"""

from django.utils import timezone

from realtime.policies import vendor_ids_of_groups
from realtime.protocol.framing import ClientFrame, dumps
from realtime.socket.channels import ONLINE, JoinedChannel, topic_group
from realtime.socket.presence import PresenceEntry, as_diff, as_state, new_meta, presence_store

PORTALS = ("app", "vendor", "dashboard")


class PresenceMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.portal = PORTALS[0]

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
