"""Broadcast: a channel's members send each other messages through the server.

A broadcast goes to the channel-layer group of its topic, so members on every
server process receive it; each consumer encodes it in its own socket's
framing (a vsn 2.0.0 socket gets a binary frame, a vsn 1.0.0 socket JSON
text). Only platform admins may broadcast on realtime:announcements.
"""

from realtime.protocol.framing import BroadcastPush, ClientFrame, FrameError
from realtime.socket.channels import ANNOUNCEMENTS, JoinedChannel, topic_group


def _text_broadcast(payload: dict) -> BroadcastPush:
    if payload.get("type", "broadcast") != "broadcast":
        raise FrameError("a broadcast payload is {type: broadcast, event, payload}")
    return BroadcastPush.from_json_payload(payload)


class BroadcastMixin:
    async def _broadcast(self, frame: ClientFrame, channel: JoinedChannel, broadcast: BroadcastPush | None) -> None:
        """`broadcast` is the decoded binary frame's; a text frame carries it in its payload."""
        broadcast = broadcast or _text_broadcast(frame.payload)
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
