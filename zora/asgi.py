"""ASGI entry point: HTTP goes to Django, WebSocket to the real-time layer."""

import asyncio
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zora.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.relay import sweep_forever  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from zora import backpressure  # noqa: E402
from zora.scheduling import start_scheduler  # noqa: E402


class WithBackgroundWork:
    """Starts the relay's periodic sweep and the timed changes once per server process, on its first connection.

    Every process sweeps, so events are published and pruned, and due changes
    applied, as long as any process runs; the relay's lock and the services'
    row locks keep them from doing the same work twice.
    """

    def __init__(self, app):
        self.app = app
        self.sweep = None

    async def __call__(self, scope, receive, send):
        if self.sweep is None:
            self.sweep = asyncio.get_running_loop().create_task(sweep_forever())
            start_scheduler()
        return await self.app(scope, receive, send)


# daphne buffers what a client does not read without limit; this makes its WebSocket sends wait instead.
backpressure.install()

application = WithBackgroundWork(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": URLRouter(websocket_urlpatterns),
        }
    )
)

# A server process holds a thousand sockets' worth of long-lived objects (tasks,
# queues, protocol state), and each full collection walks all of them: with the
# default thresholds one ran every ~10 s under load and stopped the event loop,
# every delivery with it, for 150-290 ms. What was loaded so far (Django, the
# apps) is frozen out of collections, and a larger young generation lets the
# per-event garbage die young, so full collections become rare.
gc.freeze()
gc.set_threshold(20_000, 20, 10)
