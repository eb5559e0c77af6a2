"""WebSocket routes: the Supabase Realtime-compatible endpoint.

The session middleware gives portal pages their signed-in user; the origin
check refuses browser sockets opened by other sites (see socket/identity.py).
"""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from realtime.consumers import RealtimeConsumer
from realtime.socket.identity import BrowserOriginValidator

websocket_urlpatterns = [
    path("realtime/v1/websocket", BrowserOriginValidator(AuthMiddlewareStack(RealtimeConsumer.as_asgi())))
]
