"""The WebSocket endpoint: Supabase Realtime's protocol (Phoenix Channels) over Channels.

One consumer per socket. Its protocol concerns live in realtime/socket/, one
mixin each, and this class only puts them together:

- connection.py: the socket's life (connect, limits, frame routing, close);
- access.py: who the socket reads as, the `access_token` message, and the
  access events that make it read its identity again or close;
- joins.py: joining and leaving channels, and the `since` replay;
- delivery.py: passing on the events the process's dispatcher queued;
- broadcast.py and tracking.py: broadcasts and presence, through
  channel-layer groups per topic;
- frames.py: every outgoing frame, and the close codes.

The split follows what changes together: the rules of one concern (who may
read what, when a join's replay runs, how presence is shared) can be read and
changed in one module. The concerns share one socket, so they are mixins over
one object rather than collaborators: each owns the state its `__init__` sets
and calls the others through the consumer's methods, as the frames they send
must keep one order (`sending`) and one closing state.
"""

from channels.generic.websocket import AsyncWebsocketConsumer

from realtime.socket.access import AccessMixin
from realtime.socket.broadcast import BroadcastMixin
from realtime.socket.connection import ConnectionMixin
from realtime.socket.delivery import DeliveryMixin
from realtime.socket.frames import CLOSE_NOT_FOUND, FramesMixin
from realtime.socket.joins import JoinsMixin
from realtime.socket.tracking import PresenceMixin


class RealtimeConsumer(
    ConnectionMixin,
    AccessMixin,
    JoinsMixin,
    DeliveryMixin,
    BroadcastMixin,
    PresenceMixin,
    FramesMixin,
    AsyncWebsocketConsumer,
):
    """One socket: see the module docstring for which concern lives where."""


class NoEndpointConsumer(AsyncWebsocketConsumer):
    """A socket opened at a path no endpoint serves. Channels' router would raise, and the server
    answer the handshake with a 500 and log a traceback; the client is told with a close code."""

    async def connect(self):
        await self.accept()
        # Close reasons are at most 123 bytes, so the path the client asked for is not repeated.
        await self.close(code=CLOSE_NOT_FOUND, reason="no WebSocket endpoint here: connect to /realtime/v1/websocket")
