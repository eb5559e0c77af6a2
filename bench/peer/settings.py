"""The peer's settings: Zora's models, database and channel layer, without Zora's real-time layer.

The textbook Channels way to push model changes: djangochannelsrestframework's
`model_observer` sends each save to channel-layer groups after commit. No
outbox, no ordering, no resume; so the `realtime` app keeps its models (the
services import them) but not its change capture, and the peer pays none of its costs.
"""

from zora.settings import *  # noqa: F403
from zora.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = ["bench.peer.apps.RealtimeModelsOnly" if app == "realtime" else app for app in INSTALLED_APPS] + [
    "bench.peer"
]
MIDDLEWARE = [entry for entry in MIDDLEWARE if not entry.startswith("realtime.")]
ROOT_URLCONF = "bench.peer.urls"
ASGI_APPLICATION = "bench.peer.asgi.application"
DJANGO_CHANNELS_REST_API = {"DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",)}
