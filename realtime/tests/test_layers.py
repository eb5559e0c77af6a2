"""Redis connection pools under a burst: more concurrent callers than connections wait, never fail."""

import asyncio
import uuid

import pytest

from realtime.layers import WaitingRedisChannelLayer
from realtime.socket.presence import PresenceEntry, RedisPresenceStore, new_meta

pytestmark = pytest.mark.anyio

BURST = 60
POOL_SIZE = 3


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def small_pool(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    settings.REDIS_POOL_SIZE = POOL_SIZE
    return settings.REDIS_URL


async def test_the_channel_layer_serves_a_burst_larger_than_its_pool(small_pool):
    layer = WaitingRedisChannelLayer(hosts=[{"address": small_pool, "max_connections": POOL_SIZE}])
    group = f"burst-{uuid.uuid4().hex}"
    channels = [await layer.new_channel() for _ in range(BURST)]
    await asyncio.gather(*(layer.group_add(group, channel) for channel in channels))
    await asyncio.gather(*(layer.group_send(group, {"type": "hello", "n": n}) for n in range(BURST)))
    received = await asyncio.gather(*(layer.receive(channel) for channel in channels))
    assert all(message["type"] == "hello" for message in received)
    await layer.flush()


async def test_presence_serves_a_burst_larger_than_its_pool(small_pool):
    store = RedisPresenceStore(small_pool)
    topic = f"realtime:burst-{uuid.uuid4().hex}"
    entries = [PresenceEntry(f"user-{n}", new_meta({})) for n in range(BURST)]
    await asyncio.gather(*(store.track(topic, f"socket-{n}", entry) for n, entry in enumerate(entries)))
    live, lapsed = await store.entries(topic)
    assert (len(live), lapsed) == (BURST, [])
    await asyncio.gather(*(store.untrack(topic, f"socket-{n}") for n in range(BURST)))
