"""The test harness itself: `make test` must run the suite against real
PostgreSQL and Redis servers, not the embedded SQLite/in-memory defaults.

These fail (never skip) when the servers are missing, so a broken
scripts/test.sh cannot silently turn the suite into an SQLite run.
"""

import asyncio
import os
import uuid
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import connection

RUN_VIA_MAKE = "run the suite via `make test` (scripts/test.sh), which starts throwaway PostgreSQL and Redis"


def _require_env(name):
    value = os.environ.get(name, "")
    if not value:
        pytest.fail(f"{name} is not set: {RUN_VIA_MAKE}.")
    return value


@pytest.mark.django_db
def test_database_is_the_throwaway_postgresql():
    url = urlsplit(_require_env("DATABASE_URL"))

    assert connection.vendor == "postgresql", f"tests are running on {connection.vendor}, not PostgreSQL"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), inet_server_port(), current_database()")
        version, port, database = cursor.fetchone()
    assert version.startswith("PostgreSQL"), version
    # The server we are talking to is the one DATABASE_URL names...
    assert port == url.port, f"connected to port {port}, DATABASE_URL says {url.port}"
    # ...and pytest-django switched to its own test database, never the real one.
    assert database != url.path.lstrip("/"), f"tests are writing to the non-test database {database!r}"


def test_channel_layer_round_trip_through_redis():
    _require_env("REDIS_URL")

    sender = get_channel_layer()
    assert isinstance(sender, (RedisChannelLayer, RedisPubSubChannelLayer)), (
        f"channel layer is {type(sender).__module__}.{type(sender).__name__}, not channels_redis"
    )
    # A second, independent layer instance shares no in-process state with the
    # first, so a message can only get from one to the other through Redis.
    receiver = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    message = {"type": "harness.ping", "nonce": uuid.uuid4().hex}

    async def round_trip():
        # new_channel() also subscribes on the pub/sub layer, so the message
        # cannot be published before anyone listens.
        channel = await receiver.new_channel()
        try:
            await sender.send(channel, message)
            return await asyncio.wait_for(receiver.receive(channel), timeout=10)
        finally:
            # Release this instance's connections (pub/sub: unsubscribe). The
            # core layer's flush() would delete every key, so close pools instead.
            if hasattr(receiver, "close_pools"):
                await receiver.close_pools()
            else:
                await receiver.flush()

    assert async_to_sync(round_trip)() == message
