"""A Phoenix/Supabase Realtime client for in-process socket tests.

It frames and unframes messages the way realtime-js does (vsn 1.0.0 objects,
vsn 2.0.0 arrays and binary user broadcasts), written from the client's
serializer independently of the server's code, so the tests check the server
against the protocol rather than against itself.
"""

import asyncio
import json
import struct
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import redis
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from accounts.services import api_token_create
from realtime.routing import websocket_urlpatterns
from realtime.socket.dispatcher import stop_process_dispatcher
from tests import factories

APPLICATION = URLRouter(websocket_urlpatterns)
TIMEOUT = 3


@dataclass
class Message:
    topic: str
    event: str
    payload: object
    ref: str | None = None
    join_ref: str | None = None
    binary: bool = False


def encode_user_broadcast_push(*, join_ref: str, ref: str, topic: str, event: str, payload, binary=False, meta=""):
    """realtime-js 2.109.0 Serializer._encodeUserBroadcastPush, byte for byte."""
    body = payload if binary else json.dumps(payload).encode()
    fields = [join_ref, ref, topic, event, meta]
    header = bytes([3, *(len(field) for field in fields), 0 if binary else 1])
    return header + "".join(fields).encode("latin1") + body


def decode_user_broadcast(frame: bytes) -> Message:
    """realtime-js 2.109.0 Serializer._decodeUserBroadcast."""
    assert frame[0] == 4, f"kind {frame[0]} is not a user broadcast"
    topic_size, event_size, meta_size, encoding = struct.unpack("4B", frame[1:5])
    offset = 5
    topic = frame[offset : offset + topic_size].decode()
    offset += topic_size
    event = frame[offset : offset + event_size].decode()
    offset += event_size
    meta = frame[offset : offset + meta_size].decode()
    offset += meta_size
    body = frame[offset:]
    data = {"type": "broadcast", "event": event, "payload": json.loads(body) if encoding == 1 else body}
    if meta_size:
        data["meta"] = json.loads(meta)
    return Message(topic=topic, event="broadcast", payload=data, binary=True)


class SocketClient:
    def __init__(self, *, vsn="1.0.0", apikey=None, headers=(), **params):
        query = {"vsn": vsn, **params}
        if apikey is not False:
            query["apikey"] = apikey or settings.REALTIME_PUBLIC_KEY
        self.vsn = vsn
        # A Host header as every client sends one: a browser socket's Origin is checked against it.
        self.communicator = WebsocketCommunicator(
            APPLICATION, "/realtime/v1/websocket?" + urlencode(query), headers=[(b"host", b"testserver"), *headers]
        )
        self._refs = 0
        self.join_refs: dict[str, str] = {}

    def next_ref(self) -> str:
        self._refs += 1
        return str(self._refs)

    async def connect(self) -> bool:
        connected, _ = await self.communicator.connect(timeout=TIMEOUT)
        return connected

    async def disconnect(self):
        await self.communicator.disconnect()

    async def send(self, topic, event, payload, *, ref=None, join_ref=None) -> str:
        ref = ref or self.next_ref()
        join_ref = join_ref if join_ref is not None else self.join_refs.get(topic)
        if self.vsn == "1.0.0":
            frame = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref}
        else:
            frame = [join_ref, ref, topic, event, payload]
        await self.communicator.send_to(text_data=json.dumps(frame))
        return ref

    async def send_raw(self, *, text=None, data=None):
        await self.communicator.send_to(text_data=text, bytes_data=data)

    async def receive(self, timeout=TIMEOUT) -> Message:
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.send", f"expected a frame, got {output}"
        if output.get("bytes") is not None:
            return decode_user_broadcast(output["bytes"])
        decoded = json.loads(output["text"])
        if self.vsn == "1.0.0":
            return Message(decoded["topic"], decoded["event"], decoded["payload"], decoded["ref"], decoded["join_ref"])
        join_ref, ref, topic, event, payload = decoded
        return Message(topic, event, payload, ref, join_ref)

    async def expect(self, event, *, topic=None, timeout=TIMEOUT) -> Message:
        message = await self.receive(timeout)
        assert message.event == event, f"expected {event}, got {message}"
        if topic is not None:
            assert message.topic == topic, f"expected topic {topic}, got {message}"
        return message

    async def reply_to(self, ref, timeout=TIMEOUT) -> dict:
        message = await self.expect("phx_reply", timeout=timeout)
        assert message.ref == ref, f"expected the reply to {ref}, got {message}"
        return message.payload

    async def join(self, topic, config=None, *, access_token=None) -> dict:
        """Joins like realtime-js and returns the join reply's payload."""
        join_ref = self.next_ref()
        self.join_refs[topic] = join_ref
        payload = {"config": config or {}}
        if access_token is not None:
            payload["access_token"] = access_token
        await self.send(topic, "phx_join", payload, ref=join_ref, join_ref=join_ref)
        return await self.reply_to(join_ref)

    async def nothing_more(self, timeout=0.3) -> None:
        assert await self.communicator.receive_nothing(timeout), "unexpected frame"

    async def closes_now(self, timeout=TIMEOUT) -> int:
        """The code of the close that must be the next thing the socket sends."""
        output = await self.communicator.receive_output(timeout)
        assert output["type"] == "websocket.close", f"expected the close, got {output}"
        return output.get("code")

    async def closed_with(self, timeout=TIMEOUT) -> int:
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")


async def connected(**kwargs) -> SocketClient:
    client = SocketClient(**kwargs)
    assert await client.connect()
    return client


async def subscribed(key, topic, *bindings, vsn="1.0.0", **config) -> tuple[SocketClient, list[int]]:
    """A socket of `key` joined to `topic` with `bindings`, past its join reply and system message."""
    client = await connected(apikey=key, vsn=vsn)
    reply = await client.join(topic, {**postgres_changes(*bindings), **config})
    assert reply["status"] == "ok", reply
    await client.expect("system", topic=topic)
    return client, [entry["id"] for entry in reply["response"]["postgres_changes"]]


def session_cookie(user, browser=None) -> bytes:
    """The Cookie header of a portal page `user` is signed in to (sync: run it with in_db)."""
    browser = browser or Client()
    browser.force_login(user)
    return f"sessionid={browser.cookies['sessionid'].value}".encode()


def user_with_token(**fields):
    """A user and the plain key of a fresh API token of theirs (sync: run it with in_db)."""
    user = factories.UserFactory(**fields)
    _, key = api_token_create(user=user)
    return user, key


def postgres_changes(*bindings) -> dict:
    return {"postgres_changes": list(bindings)}


def binding(table=None, event="*", filter=None) -> dict:
    spec = {"event": event, "schema": "public"}
    if table is not None:
        spec["table"] = table
    if filter is not None:
        spec["filter"] = filter
    return spec


def in_db(function):
    """Run a sync test step (service calls, factories) in a worker thread, as the ASGI server does."""
    return database_sync_to_async(function)


async def settle():
    """Let the channel layer hand over messages already sent."""
    await asyncio.sleep(0.05)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def socket_test_environment():
    """Each test starts with no presence left by earlier ones and with a fresh dispatcher, and lets
    go of the test database afterwards (the consumer's database work runs in a worker thread).
    Without Redis (the embedded default) presence lives in memory and ends with each test's sockets."""
    if settings.REDIS_URL:
        store = redis.Redis.from_url(settings.REDIS_URL)
        for key in store.scan_iter(match="zora:presence:*"):
            store.delete(key)
    yield
    await stop_process_dispatcher()
    await in_db(connections.close_all)()
