"""The channel layer Zora runs on Redis by default."""

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class WaitingRedisChannelLayer(RedisChannelLayer):
    """channels-redis's core layer on a pool that waits for a free connection instead of failing.

    redis-py 8's default pool raises MaxConnectionsError once 100 connections are in use. A burst
    of sockets connecting at once reaches that (each connect tracks presence, each join adds a
    group), and the failing sockets were closed. Waiting a few milliseconds for a connection is
    what such a burst should cost.
    """

    def create_pool(self, index):
        host = dict(self.hosts[index])
        return BlockingConnectionPool.from_url(host.pop("address"), **host)
