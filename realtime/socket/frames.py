"""What a socket sends: frames in its serializer's framing, replies, system messages, closes.

Every concern of the consumer speaks through these helpers, so the rules
that hold for every outgoing frame live here once: frames go out one at a
time in order (`sending`, held while a client frame is handled or an event
delivered), and nothing goes out once the socket is closing.
"""

import asyncio

from autobahn.exception import Disconnected

from realtime.protocol.framing import SERIALIZERS, VSN_1, ClientFrame, dumps
from realtime.socket.channels import JoinedChannel

# Close codes, all in the 4000–4999 range RFC 6455 leaves to applications: daphne (autobahn) refuses
# to send any other code but 1000, so RFC 6455's 1008/1009/1011 become 4008/4009/4011.
CLOSE_POLICY_VIOLATION = 4008
CLOSE_MESSAGE_TOO_BIG = 4009
CLOSE_INTERNAL_ERROR = 4011
CLOSE_BAD_REQUEST = 4000
CLOSE_UNAUTHORIZED = 4001
CLOSE_NOT_FOUND = 4004
CLOSE_IDLE = 4408


# What the server raises for a frame sent after the client closed but before it reports the close:
# an OSError (the ASGI spec's choice, uvicorn's) or, from daphne, autobahn's Disconnected.
CLIENT_GONE = (OSError, Disconnected)


def error_payload(reason: str) -> dict:
    return {"status": "error", "response": {"reason": reason}}


class FramesMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.serializer = SERIALIZERS[VSN_1]
        # Held while a client frame is handled or an event delivered: the socket's frames stay in order.
        self.sending = asyncio.Lock()
        self.closing = False

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Channel-layer messages keep arriving until the server confirms a close; they are not sent."""
        if not self.closing:
            try:
                await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
            except CLIENT_GONE:
                self._client_gone()

    def _client_gone(self) -> None:
        """The client closed while a frame was on its way: nothing more is sent, and the close the
        server reports next releases the socket. Not an error: every busy socket's close races."""
        self.closing = True

    async def _refuse(self, code: int, reason: str) -> None:
        self.closing = True
        await self.close(code=code, reason=reason)

    async def _send_text(self, topic: str, event: str, payload_text: str, *, ref=None, join_ref=None) -> None:
        # Straight to the server, as AsyncWebsocketConsumer.send would: this is every event's path.
        if not self.closing:
            text = self.serializer.encode(
                join_ref=join_ref, ref=ref, topic=topic, event=event, payload_text=payload_text
            )
            try:
                await self.base_send({"type": "websocket.send", "text": text})
            except CLIENT_GONE:
                self._client_gone()

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
        await self._push(frame.topic, "phx_reply", error_payload(reason), ref=frame.ref, join_ref=frame.join_ref)

    async def _system(self, channel: JoinedChannel, extension: str, status: str, message: str) -> None:
        payload = {"extension": extension, "status": status, "message": message, "channel": channel.name}
        await self._push(channel.topic, "system", payload, join_ref=channel.join_ref)
