"""ASGI entry point: HTTP goes to Django, WebSocket to the real-time layer."""

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zora.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.relay import sweep_forever  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402


class WithRelaySweep:
    """Starts the relay's periodic sweep once per server process, on its first connection.

    Every process sweeps, so events are published and pruned as long as any
    process runs; the relay's lock keeps them from doing the same work twice.
    """

    def __init__(self, app):
        self.app = app
        self.sweep = None

    async def __call__(self, scope, receive, send):
        if self.sweep is None:
            self.sweep = asyncio.get_running_loop().create_task(sweep_forever())
        return await self.app(scope, receive, send)


application = WithRelaySweep(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": URLRouter(websocket_urlpatterns),
        }
    )
)
