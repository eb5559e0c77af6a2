"""Presence: who is on a channel, shared by every server process.

With Redis (settings.REDIS_URL) each topic has two hashes keyed by socket id:
the tracked entry and its expiry time. A socket's heartbeats push its expiry
forward, so the entries of a process that died without cleaning up lapse on
their own and are removed (and announced as leaves) by the next reader.
Without Redis, the embedded single process keeps presence in memory.

The wire shapes are Phoenix Presence's: a state is `{key: {metas: [...]}}`
and a diff is `{joins: state, leaves: state}`; each meta carries `phx_ref`.
"""

import asyncio
import hashlib
import json
import logging
import secrets
import time
import weakref
from abc import ABC, abstractmethod
from collections import defaultdict
from typing import NamedTuple

import redis.asyncio as redis
from django.conf import settings

logger = logging.getLogger(__name__)

# A socket silent for 60 s is closed and untracked; a live process renews its sockets' entries
# every REFRESH_SECONDS, so the entries of a process that died lapse within ENTRY_TTL_SECONDS.
ENTRY_TTL_SECONDS = 90
REFRESH_SECONDS = 30


class PresenceEntry(NamedTuple):
    key: str
    meta: dict


def new_meta(payload: dict) -> dict:
    return {**payload, "phx_ref": secrets.token_urlsafe(9)}


def as_state(entries) -> dict:
    state: dict[str, dict] = {}
    for entry in entries:
        state.setdefault(entry.key, {"metas": []})["metas"].append(entry.meta)
    return state


def as_diff(*, joins=(), leaves=()) -> dict:
    return {"joins": as_state(joins), "leaves": as_state(leaves)}


class PresenceStore(ABC):
    @abstractmethod
    async def track(self, topic: str, socket_id: str, entry: PresenceEntry) -> PresenceEntry | None:
        """Store the socket's entry on the topic; returns the one it replaces."""

    @abstractmethod
    async def untrack(self, topic: str, socket_id: str) -> PresenceEntry | None:
        """Remove the socket's entry; returns it, or None when it had none."""

    @abstractmethod
    async def entries(self, topic: str) -> tuple[list[PresenceEntry], list[PresenceEntry]]:
        """The live entries, and the lapsed ones this call removed."""

    @abstractmethod
    async def refresh_held(self) -> None:
        """Keep alive every entry this process's sockets hold."""


class MemoryPresenceStore(PresenceStore):
    def __init__(self):
        self._topics: dict[str, dict[str, PresenceEntry]] = defaultdict(dict)

    async def track(self, topic, socket_id, entry):
        previous = self._topics[topic].get(socket_id)
        self._topics[topic][socket_id] = entry
        return previous

    async def untrack(self, topic, socket_id):
        entries = self._topics.get(topic, {})
        previous = entries.pop(socket_id, None)
        if not entries:
            self._topics.pop(topic, None)
        return previous

    async def entries(self, topic):
        return list(self._topics.get(topic, {}).values()), []

    async def refresh_held(self):
        """Entries live as long as their socket in a single process: nothing lapses."""


class RedisPresenceStore(PresenceStore):
    def __init__(self, url: str):
        self._url = url
        # redis.asyncio connections belong to the event loop that opened them.
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # socket id -> the topics it is tracked on, for this process's sockets.
        self._held: dict[str, set[str]] = defaultdict(set)
        self._refreshers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> redis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # A pool that waits rather than raising when a burst of sockets wants more connections.
            pool = redis.BlockingConnectionPool.from_url(self._url, max_connections=settings.REDIS_POOL_SIZE)
            client = self._clients[loop] = redis.Redis(connection_pool=pool)
        return client

    @staticmethod
    def _keys(topic: str) -> tuple[str, str]:
        digest = hashlib.sha256(topic.encode()).hexdigest()[:40]
        return f"zora:presence:{digest}", f"zora:presence:{digest}:expires"

    @staticmethod
    def _decode(raw) -> PresenceEntry:
        key, meta = json.loads(raw)
        return PresenceEntry(key, meta)

    async def track(self, topic, socket_id, entry):
        entries_key, expiry_key = self._keys(topic)
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hget(entries_key, socket_id)
            pipe.hset(entries_key, socket_id, json.dumps([entry.key, entry.meta]))
            pipe.hset(expiry_key, socket_id, time.time() + ENTRY_TTL_SECONDS)
            pipe.expire(entries_key, ENTRY_TTL_SECONDS)
            pipe.expire(expiry_key, ENTRY_TTL_SECONDS)
            previous, *_ = await pipe.execute()
        self._held[socket_id].add(topic)
        self._keep_refreshing()
        return None if previous is None else self._decode(previous)

    async def untrack(self, topic, socket_id):
        entries_key, expiry_key = self._keys(topic)
        held = self._held.get(socket_id)
        if held is not None:
            held.discard(topic)
            if not held:
                del self._held[socket_id]
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hget(entries_key, socket_id)
            pipe.hdel(entries_key, socket_id)
            pipe.hdel(expiry_key, socket_id)
            previous, *_ = await pipe.execute()
        return None if previous is None else self._decode(previous)

    async def entries(self, topic):
        entries_key, expiry_key = self._keys(topic)
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.hgetall(entries_key)
            pipe.hgetall(expiry_key)
            raw_entries, expiries = await pipe.execute()
        now = time.time()
        live, lapsed = [], []
        for socket_id, raw in raw_entries.items():
            (lapsed if float(expiries.get(socket_id, 0)) < now else live).append((socket_id, self._decode(raw)))
        if lapsed:
            # Only the reader whose HDEL removed an entry announces its leave.
            async with self._client().pipeline(transaction=True) as pipe:
                for socket_id, _ in lapsed:
                    pipe.hdel(entries_key, socket_id)
                    pipe.hdel(expiry_key, socket_id)
                removed = (await pipe.execute())[::2]
            lapsed = [item for item, was_removed in zip(lapsed, removed, strict=True) if was_removed]
        return [entry for _, entry in live], [entry for _, entry in lapsed]

    async def refresh_held(self):
        """One pipeline for all of the process's entries: heartbeats cost Redis nothing, which
        matters when a thousand clients that connected together heartbeat together."""
        if not self._held:
            return
        expires_at = time.time() + ENTRY_TTL_SECONDS
        async with self._client().pipeline(transaction=False) as pipe:
            for socket_id, topics in list(self._held.items()):
                for topic in topics:
                    entries_key, expiry_key = self._keys(topic)
                    pipe.hset(expiry_key, socket_id, expires_at)
                    pipe.expire(entries_key, ENTRY_TTL_SECONDS)
                    pipe.expire(expiry_key, ENTRY_TTL_SECONDS)
            await pipe.execute()

    def _keep_refreshing(self) -> None:
        loop = asyncio.get_running_loop()
        if loop not in self._refreshers:
            self._refreshers[loop] = loop.create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh_held()
            except Exception:
                # The next round retries; entries outlive two missed rounds.
                logger.exception("presence: renewing this process's entries failed")


_memory_store = MemoryPresenceStore()
_redis_stores: dict[str, RedisPresenceStore] = {}


def presence_store() -> PresenceStore:
    url = settings.REDIS_URL
    if not url:
        return _memory_store
    if url not in _redis_stores:
        _redis_stores[url] = RedisPresenceStore(url)
    return _redis_stores[url]
