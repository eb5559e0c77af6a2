"""Presence: Phoenix Presence state and diffs, shared through Redis, and realtime:online."""

import time
import uuid

import anyio
import pytest
import redis

from realtime.socket import presence
from realtime.socket.presence import MemoryPresenceStore, PresenceEntry, RedisPresenceStore, as_diff, new_meta
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    anyio_backend,
    connected,
    in_db,
    socket_test_environment,
    user_with_token,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("socket_test_environment"),
]


def _metas(state: dict, key: str) -> list[dict]:
    return state[key]["metas"]


async def _reply_and_own_diff(client, ref):
    """The reply comes straight back; the diff of one's own track comes round through the channel layer."""
    first, second = await client.receive(), await client.receive()
    reply, diff = (first, second) if first.event == "phx_reply" else (second, first)
    assert (reply.ref, reply.payload["status"], diff.event) == (ref, "ok", "presence_diff")
    return diff


async def _member(topic, key, **kwargs):
    client = await connected(**kwargs)
    reply = await client.join(topic, {"presence": {"key": key, "enabled": True}})
    assert reply["status"] == "ok", reply
    return client, (await client.expect("presence_state", topic=topic)).payload


async def test_track_reaches_every_member_and_late_joiners_get_the_state():
    topic = f"realtime:room-{uuid.uuid4().hex}"
    alice, state = await _member(topic, "alice")
    assert state == {}
    bob, _ = await _member(topic, "bob", vsn="2.0.0")
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "track", "payload": {"status": "online"}})
    for diff in (await _reply_and_own_diff(alice, ref), await bob.expect("presence_diff", topic=topic)):
        assert diff.payload["leaves"] == {}
        (meta,) = _metas(diff.payload["joins"], "alice")
        assert meta["status"] == "online" and meta["phx_ref"]
    carol, state = await _member(topic, "carol")
    assert [meta["status"] for meta in _metas(state, "alice")] == ["online"]
    for client in (alice, bob, carol):
        await client.disconnect()


async def test_tracking_again_replaces_the_meta_and_untrack_leaves():
    topic = f"realtime:room-{uuid.uuid4().hex}"
    alice, _ = await _member(topic, "alice")
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "track", "payload": {"typing": False}})
    first = await _reply_and_own_diff(alice, ref)
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "track", "payload": {"typing": True}})
    update = await _reply_and_own_diff(alice, ref)
    assert _metas(update.payload["leaves"], "alice") == _metas(first.payload["joins"], "alice")
    assert _metas(update.payload["joins"], "alice")[0]["typing"] is True
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "untrack"})
    leave = await _reply_and_own_diff(alice, ref)
    assert leave.payload["joins"] == {} and _metas(leave.payload["leaves"], "alice")[0]["typing"] is True
    await alice.disconnect()


async def test_a_disconnected_socket_leaves():
    topic = f"realtime:room-{uuid.uuid4().hex}"
    alice, _ = await _member(topic, "alice")
    bob, _ = await _member(topic, "bob")
    await alice.send(topic, "presence", {"type": "presence", "event": "track", "payload": {}})
    await bob.expect("presence_diff")
    await alice.disconnect()
    leave = await bob.expect("presence_diff")
    assert list(leave.payload["leaves"]) == ["alice"]
    await bob.disconnect()


async def test_presence_errors_get_error_replies():
    topic = f"realtime:room-{uuid.uuid4().hex}"
    alice, _ = await _member(topic, "alice")
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "wave"})
    assert "track or untrack" in (await alice.reply_to(ref))["response"]["reason"]
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "track", "payload": [1]})
    assert "JSON object" in (await alice.reply_to(ref))["response"]["reason"]
    await alice.disconnect()


async def test_entries_of_a_process_that_died_lapse_and_are_announced_as_leaves(settings):
    topic = f"realtime:room-{uuid.uuid4().hex}"
    store = RedisPresenceStore(settings.REDIS_URL)
    await store.track(topic, "socket-of-a-dead-process", PresenceEntry("ghost", new_meta({})))
    expiries = RedisPresenceStore._keys(topic)[1]
    redis.Redis.from_url(settings.REDIS_URL).hset(expiries, "socket-of-a-dead-process", time.time() - 1)
    alice = await connected()
    await alice.join(topic, {"presence": {"key": "alice", "enabled": True}})
    assert (await alice.expect("presence_state")).payload == {}
    leave = await alice.expect("presence_diff")
    assert list(leave.payload["leaves"]) == ["ghost"]
    assert await store.entries(topic) == ([], [])
    await alice.disconnect()


async def test_presence_is_shared_between_store_instances_like_between_processes(settings):
    topic = f"realtime:room-{uuid.uuid4().hex}"
    one, other = RedisPresenceStore(settings.REDIS_URL), RedisPresenceStore(settings.REDIS_URL)
    entry = PresenceEntry("alice", new_meta({"at": 1}))
    assert await one.track(topic, "s1", entry) is None
    await one.refresh_held()
    assert await other.entries(topic) == ([entry], [])
    assert await other.untrack(topic, "s1") == entry
    assert await one.entries(topic) == ([], [])


async def test_a_live_process_keeps_its_sockets_entries_alive(settings, monkeypatch):
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.2)
    topic = f"realtime:room-{uuid.uuid4().hex}"
    alice, _ = await _member(topic, "alice")
    ref = await alice.send(topic, "presence", {"type": "presence", "event": "track", "payload": {}})
    await _reply_and_own_diff(alice, ref)
    expiries = redis.Redis.from_url(settings.REDIS_URL)
    expiry_key = RedisPresenceStore._keys(topic)[1]
    (socket_id,) = expiries.hkeys(expiry_key)
    expiries.hset(expiry_key, socket_id, time.time() + 1)
    deadline = time.time() + 5
    while float(expiries.hget(expiry_key, socket_id)) < time.time() + 60 and time.time() < deadline:
        await anyio.sleep(0.1)
    assert float(expiries.hget(expiry_key, socket_id)) > time.time() + 60
    await alice.disconnect()


async def test_the_in_memory_store_of_the_embedded_run():
    store = MemoryPresenceStore()
    first, second = PresenceEntry("alice", new_meta({})), PresenceEntry("alice", new_meta({"away": True}))
    assert await store.track("realtime:r", "s1", first) is None
    assert await store.track("realtime:r", "s1", second) == first
    assert await store.entries("realtime:r") == ([second], [])
    assert await store.untrack("realtime:r", "s1") == second
    assert await store.untrack("realtime:r", "s1") is None
    assert as_diff(joins=[first]) == {"joins": {"alice": {"metas": [first.meta]}}, "leaves": {}}


async def test_online_lists_every_signed_in_socket_with_its_portal_to_admins_only():
    vendor_user, vendor_key = await in_db(user_with_token)()
    admin_user, admin_key = await in_db(user_with_token)(is_staff=True)
    shop = await connected(apikey=vendor_key, portal="vendor")
    customer = await connected()
    refused = await customer.join("realtime:online")
    assert refused["status"] == "error" and "platform admins" in refused["response"]["reason"]
    admin = await connected(apikey=admin_key, portal="dashboard")
    assert (await admin.join("realtime:online"))["status"] == "ok"
    state = (await admin.expect("presence_state", topic="realtime:online")).payload
    (meta,) = _metas(state, str(vendor_user.pk))
    assert (meta["user_id"], meta["portal"]) == (vendor_user.pk, "vendor")
    assert [meta["portal"] for meta in _metas(state, str(admin_user.pk))] == ["dashboard"]
    ref = await admin.send("realtime:online", "presence", {"type": "presence", "event": "track", "payload": {}})
    assert "kept by the server" in (await admin.reply_to(ref))["response"]["reason"]
    await shop.disconnect()
    leave = await admin.expect("presence_diff", topic="realtime:online")
    assert list(leave.payload["leaves"]) == [str(vendor_user.pk)]
    for client in (customer, admin):
        await client.disconnect()
