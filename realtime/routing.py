"""WebSocket routes: the Supabase Realtime-compatible endpoint, and a close for every other path.

The session middleware gives portal pages their signed-in user; the origin
check refuses browser sockets opened by other sites (see socket/identity.py).
"""

from channels.auth import AuthMiddlewareStack
from django.urls import path, re_path

from realtime.consumers import NoEndpointConsumer, RealtimeConsumer
from realtime.socket.identity import BrowserOriginValidator

websocket_urlpatterns = [
    path("realtime/v1/websocket", BrowserOriginValidator(AuthMiddlewareStack(RealtimeConsumer.as_asgi()))),
    # Any other path: closed with 4004 (see NoEndpointConsumer). [\s\S]: a path with a newline too.
    re_path(r"^[\s\S]*$", NoEndpointConsumer.as_asgi()),
]
