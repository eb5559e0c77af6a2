"""The socket end to end in process: real PostgreSQL, the Redis channel layer, real services."""

import asyncio
import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from autobahn.exception import Disconnected
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.services import api_token_create, notification_create, notification_mark_read
from orders.services import cart_remove_item, order_transition
from realtime import relay, selectors
from realtime.models import Event
from realtime.publication import TABLES, change_data
from realtime.services import events_prune
from realtime.socket.dispatcher import process_dispatcher
from realtime.tests.harness import channel_layers_of_kind, kill_channel_layer_reads, lost_in_the_channel_layer
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    APPLICATION,
    TIMEOUT,
    SocketClient,
    anyio_backend,
    binding,
    connected,
    encode_user_broadcast_push,
    in_db,
    postgres_changes,
    session_cookie,
    socket_test_environment,
    subscribed,
    user_with_token,
)
from tests import factories

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("socket_test_environment"),
]


# Heartbeats and framing errors


@pytest.mark.parametrize("vsn", ["1.0.0", "2.0.0"])
async def test_heartbeat_is_answered_on_the_phoenix_topic(vsn):
    client = await connected(vsn=vsn)
    ref = await client.send("phoenix", "heartbeat", {})
    message = await client.expect("phx_reply", topic="phoenix")
    assert (message.ref, message.payload) == (ref, {"status": "ok", "response": {}})
    await client.disconnect()


@pytest.mark.parametrize(
    ("vsn", "text", "reason"),
    [
        ("1.0.0", "{not json", "not valid JSON"),
        ("2.0.0", '{"topic": "phoenix"}', "JSON arrays"),
        ("1.0.0", '[null, "1", "phoenix", "heartbeat", {}]', "JSON objects"),
        # These two closed the socket with 4011 (a RecursionError, an int conversion limit).
        ("1.0.0", "[" * 5000 + "]" * 5000, "nests deeper than 32 levels"),
        ("2.0.0", '[null, "1", "phoenix", "heartbeat", {"n": ' + "9" * 5000 + "}]", "more than 4300 digits"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_socket_stays_up(vsn, text, reason):
    client = await connected(vsn=vsn)
    await client.send_raw(text=text)
    message = await client.expect("phx_reply", topic="phoenix")
    assert message.payload["status"] == "error" and reason in message.payload["response"]["reason"]
    ref = await client.send("phoenix", "heartbeat", {})
    assert (await client.reply_to(ref))["status"] == "ok"
    await client.disconnect()


async def test_a_lone_surrogate_in_a_frame_is_refused_in_the_reply_to_that_frame():
    """It was an "internal error" reply: the topic could not be encoded for its channel-layer group."""
    client = await connected()
    ref = await client.send("realtime:\ud800", "phx_join", {"config": {}})
    reply = await client.expect("phx_reply")
    assert reply.ref == ref and "lone UTF-16 surrogate (U+D800)" in reply.payload["response"]["reason"]
    ref = await client.send("phoenix", "heartbeat", {})
    assert (await client.reply_to(ref))["status"] == "ok"
    await client.disconnect()


async def test_unknown_events_and_unjoined_topics_get_error_replies():
    client = await connected()
    ref = await client.send("phoenix", "shout", {})
    assert "unknown event 'shout'" in (await client.reply_to(ref))["response"]["reason"]
    ref = await client.send("realtime:room", "broadcast", {"type": "broadcast", "event": "e", "payload": {}})
    assert "join realtime:room before" in (await client.reply_to(ref))["response"]["reason"]
    assert (await client.join("realtime:room"))["status"] == "ok"
    ref = await client.send("realtime:room", "dance", {})
    assert (await client.reply_to(ref))["response"] == {"reason": "unknown event 'dance'"}
    ref = await client.send("realtime:room", "broadcast", {"type": "broadcast", "payload": {}})
    assert "event" in (await client.reply_to(ref))["response"]["reason"]
    await client.disconnect()


@pytest.mark.parametrize("vsn", ["1.0.0", "2.0.0"])
async def test_an_oversized_frame_closes_the_socket_as_too_big(vsn):
    client = await connected(vsn=vsn)
    await client.send("phoenix", "heartbeat", {"padding": "x" * (64 * 1024)})
    assert await client.closed_with() == 4009
    await client.disconnect()


async def test_a_flooding_client_is_closed_for_policy_violation():
    client = await connected()
    for _ in range(400):
        await client.send("phoenix", "heartbeat", {})
    assert await client.closed_with() == 4008
    await client.disconnect()


async def test_a_silent_socket_is_closed(settings):
    settings.REALTIME_SOCKET_IDLE_SECONDS = 0.3
    client = await connected()
    assert await client.closed_with(timeout=3) == 4408
    await client.disconnect()


async def test_a_failure_while_delivering_closes_the_socket_so_the_client_resumes():
    client, _ = await subscribed(None, "realtime:everything", binding())
    # The next event of the stream, carrying no encoded data to splice into its frame.
    broken = {
        "type": "realtime.event",
        "seq": process_dispatcher().last + 1,
        "audience": ["public"],
        "table": "products",
        "event_type": "INSERT",
        "record": {},
        "old_record": None,
        "data": None,
    }
    await get_channel_layer().group_send(relay.EVENTS_GROUP, broken)
    assert await client.closed_with() == 4011
    await client.disconnect()


async def test_a_socket_whose_core_channel_layer_read_fails_is_closed():
    """The core layer reads once for all of a process's receivers; each cut fails whichever holds the
    read, the dispatcher (which carries on) or a socket (which must close so its client resumes).
    The pub/sub layer's reads never fail a socket: its connection reconnects underneath
    (test_dispatcher covers what it drops meanwhile)."""
    with override_settings(CHANNEL_LAYERS=channel_layers_of_kind("core")):
        client = await connected()
        for _ in range(20):
            await in_db(kill_channel_layer_reads)()
            if not await client.communicator.receive_nothing(0.3):
                assert await client.communicator.receive_output(0.3) == {"type": "websocket.close", "code": 4011}
                break
        else:
            pytest.fail("the socket stayed open on a dead channel layer")
        await client.disconnect()


# Identity


async def test_an_unknown_apikey_is_refused():
    client = SocketClient(apikey="not-a-token")
    assert await client.connect()
    assert await client.closed_with() == 4001
    await client.disconnect()


async def test_a_socket_with_neither_apikey_nor_session_is_refused():
    client = SocketClient(apikey=False)
    assert await client.connect()
    assert await client.closed_with() == 4001
    await client.disconnect()


@pytest.mark.parametrize("path", ["/", "/realtime/v1/websocket/", "/realtime/v1", "/api/v1/products", "/a\nb"])
async def test_a_path_with_no_endpoint_is_closed_as_not_found(path):
    """The router raised on these, and the server answered the handshake with a 500."""
    communicator = WebsocketCommunicator(APPLICATION, path)
    connected, _ = await communicator.connect(timeout=3)
    assert connected
    assert await communicator.receive_output(3) == {
        "type": "websocket.close",
        "code": 4004,
        "reason": "no WebSocket endpoint here: connect to /realtime/v1/websocket",
    }
    await communicator.disconnect()


async def test_an_unsupported_vsn_is_refused():
    client = SocketClient(vsn="3.0.0")
    assert await client.connect()
    assert await client.closed_with() == 4000
    await client.disconnect()


async def test_a_portal_page_socket_uses_the_session_of_its_own_site():
    user = await in_db(factories.UserFactory)()
    cookie = await in_db(session_cookie)(user)
    client = SocketClient(apikey=False, headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)])
    assert await client.connect()
    assert (await client.join("realtime:inbox", postgres_changes(binding("notifications"))))["status"] == "ok"
    await client.expect("system")
    await in_db(notification_create)(user=user, type="system", title="Welcome")
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["title"] == "Welcome"
    await client.disconnect()


async def test_a_browser_socket_from_another_site_is_refused_even_with_a_session():
    user = await in_db(factories.UserFactory)()
    cookie = await in_db(session_cookie)(user)
    client = SocketClient(headers=[(b"origin", b"https://evil.example"), (b"cookie", cookie)])
    assert not await client.connect()


async def test_private_channels_need_a_user():
    client = await connected()
    reply = await client.join("realtime:staff-room", {"private": True})
    assert reply["status"] == "error" and "private channels need a signed-in user" in reply["response"]["reason"]
    await client.disconnect()


# Joining


async def test_join_reply_lists_binding_ids_in_request_order_then_the_system_message():
    _, key = await in_db(user_with_token)()
    client = await connected(apikey=key, vsn="2.0.0")
    asked = [
        binding("orders", "INSERT"),
        binding("orders", "UPDATE", "status=eq.confirmed"),
        binding("notifications"),
        binding(),
    ]
    join_ref = client.next_ref()
    client.join_refs["realtime:shop"] = join_ref
    await client.send(
        "realtime:shop", "phx_join", {"config": postgres_changes(*asked)}, ref=join_ref, join_ref=join_ref
    )
    reply = await client.expect("phx_reply")
    assert (reply.ref, reply.join_ref, reply.payload["status"]) == (join_ref, join_ref, "ok")
    answered = reply.payload["response"]["postgres_changes"]
    assert [{key: value for key, value in entry.items() if key != "id"} for entry in answered] == asked
    ids = [entry["id"] for entry in answered]
    assert len(set(ids)) == 4 and all(isinstance(id_, int) and id_ > 0 for id_ in ids)
    system = await client.expect("system", topic="realtime:shop")
    assert system.join_ref == join_ref
    assert system.payload == {
        "extension": "postgres_changes",
        "status": "ok",
        "message": "Subscribed to PostgreSQL",
        "channel": "shop",
    }
    await client.nothing_more()
    await client.disconnect()


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (postgres_changes(binding("users")), "unknown table 'users'"),
        (postgres_changes(binding("orders", filter="status=pending")), "malformed"),
        (postgres_changes(binding("orders", filter="colour=eq.red")), "no column 'colour'"),
        (postgres_changes({"event": "*", "schema": "private", "table": "orders"}), "schema must be 'public'"),
        ({"since": -1, **postgres_changes(binding("orders"))}, "config.since"),
        ({"broadcast": {"self": "yes"}}, "config.broadcast.self"),
        ({"presence": []}, "config.presence must be an object"),
    ],
)
async def test_bad_joins_are_refused_with_a_reason(config, reason):
    client = await connected()
    reply = await client.join("realtime:shop", config)
    assert reply["status"] == "error" and reason in reply["response"]["reason"], reply
    ref = await client.send("realtime:shop", "broadcast", {"type": "broadcast", "event": "e", "payload": {}})
    assert (await client.reply_to(ref))["status"] == "error"
    await client.disconnect()


async def test_topics_must_be_realtime_channels():
    client = await connected()
    reply = await client.join("room:lobby")
    assert reply["status"] == "error" and "realtime:<name>" in reply["response"]["reason"]
    await client.disconnect()


async def test_leave_replies_ok_then_closes_the_channel():
    user, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, "realtime:inbox", binding("notifications"))
    join_ref = client.join_refs["realtime:inbox"]
    ref = await client.send("realtime:inbox", "phx_leave", {})
    assert (await client.reply_to(ref))["status"] == "ok"
    close = await client.expect("phx_close", topic="realtime:inbox")
    assert (close.ref, close.join_ref) == (join_ref, join_ref)
    await in_db(notification_create)(user=user, type="system", title="After leaving")
    await client.nothing_more()
    await client.disconnect()


async def test_joining_a_joined_topic_again_closes_the_old_channel():
    user, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, "realtime:inbox", binding("notifications"))
    old_join_ref = client.join_refs["realtime:inbox"]
    join_ref = client.next_ref()
    client.join_refs["realtime:inbox"] = join_ref
    config = postgres_changes(binding("notifications", "INSERT"))
    await client.send("realtime:inbox", "phx_join", {"config": config}, ref=join_ref, join_ref=join_ref)
    assert (await client.expect("phx_close")).join_ref == old_join_ref
    assert (await client.reply_to(join_ref))["status"] == "ok"
    await client.expect("system")
    await in_db(notification_create)(user=user, type="system", title="Once")
    assert (await client.expect("postgres_changes")).join_ref == join_ref
    await client.nothing_more()
    await client.disconnect()


# postgres_changes


async def test_a_customer_never_receives_another_customers_order():
    customer_a, key_a = await in_db(user_with_token)()
    _, key_b = await in_db(user_with_token)()
    vendor = await in_db(factories.VendorFactory)()
    _, key_vendor = await in_db(api_token_create)(user=vendor.owner)
    a, _ = await subscribed(key_a, "realtime:orders", binding("orders"))
    b, _ = await subscribed(key_b, "realtime:orders", binding("orders"))
    shop, _ = await subscribed(key_vendor, "realtime:orders", binding("orders"))
    order = await in_db(factories.OrderFactory)(customer=customer_a, vendor=vendor)
    for client in (a, shop):
        change = await client.expect("postgres_changes")
        assert change.payload["data"]["record"]["id"] == order.pk
        assert change.payload["data"]["type"] == "INSERT"
    await b.nothing_more()
    for client in (a, b, shop):
        await client.disconnect()


async def test_an_event_in_several_of_the_sockets_groups_is_delivered_once():
    vendor = await in_db(factories.VendorFactory)()
    admin = await in_db(factories.AdminFactory)()
    await in_db(factories.VendorStaffFactory)(vendor=vendor, user=admin)
    _, key = await in_db(api_token_create)(user=admin)
    client, _ = await subscribed(key, "realtime:orders", binding("orders", "INSERT"))
    # The order is in the customer's, the vendor's and the staff group; the admin reads the last two.
    order = await in_db(factories.OrderFactory)(vendor=vendor)
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["id"] == order.pk
    await client.nothing_more()
    await client.disconnect()


async def test_one_frame_per_channel_carries_every_matching_binding_id():
    user, key = await in_db(user_with_token)()
    client = await connected(apikey=key, vsn="2.0.0")
    first = await client.join(
        "realtime:a", postgres_changes(binding("notifications", "INSERT"), binding("notifications"))
    )
    await client.expect("system")
    second = await client.join("realtime:b", postgres_changes(binding("notifications", "UPDATE"), binding()))
    await client.expect("system")
    await in_db(notification_create)(user=user, type="system", title="Hi")
    by_topic = {}
    for _ in range(2):
        change = await client.expect("postgres_changes")
        by_topic[change.topic] = change
    assert by_topic["realtime:a"].payload["ids"] == [entry["id"] for entry in first["response"]["postgres_changes"]]
    assert by_topic["realtime:b"].payload["ids"] == [second["response"]["postgres_changes"][1]["id"]]
    assert by_topic["realtime:a"].join_ref == client.join_refs["realtime:a"]
    await client.nothing_more()
    await client.disconnect()


async def test_the_frame_splices_the_events_data_exactly_as_the_outbox_encoded_it():
    user, key = await in_db(user_with_token)()
    client, ids = await subscribed(key, "realtime:inbox", binding("notifications"), vsn="2.0.0")
    notification = await in_db(notification_create)(user=user, type="order", title="Packed")
    frame = (await client.communicator.receive_output(3))["text"]
    event = await in_db(Event.objects.get)(table="notifications", record__id=notification.pk)
    data = await in_db(change_data)(event)
    join_ref = json.dumps(client.join_refs["realtime:inbox"])
    assert frame == f'[{join_ref},null,"realtime:inbox","postgres_changes",{{"ids":[{ids[0]}],"data":{data}}}]'
    await client.disconnect()


async def test_filters_select_rows_by_value():
    vendor = await in_db(factories.VendorFactory)()
    _, key = await in_db(api_token_create)(user=vendor.owner)
    order = await in_db(factories.OrderFactory)(vendor=vendor)
    client, _ = await subscribed(key, "realtime:orders", binding("orders", "UPDATE", "status=in.(confirmed,ready)"))
    await in_db(order_transition)(actor=vendor.owner, order=order, to_status="confirmed")
    change = await client.expect("postgres_changes")
    assert change.payload["data"]["record"]["status"] == "confirmed"
    assert change.payload["data"]["old_record"]["status"] == "pending"
    await in_db(order_transition)(actor=vendor.owner, order=order, to_status="preparing")
    await client.nothing_more()
    await client.disconnect()


async def test_a_delete_is_filtered_on_the_old_row():
    user, key = await in_db(user_with_token)()
    item = await in_db(factories.CartItemFactory)(user=user)
    client, _ = await subscribed(key, "realtime:cart", binding("cart_items", "DELETE", f"user_id=eq.{user.pk}"))
    await in_db(cart_remove_item)(user=user, item_id=item.pk)
    change = await client.expect("postgres_changes")
    assert change.payload["data"]["type"] == "DELETE"
    assert change.payload["data"]["old_record"]["id"] == item.pk
    await client.disconnect()


# Resume: config.since


async def test_since_replays_the_missed_events_in_order_then_goes_live_without_duplicates():
    user, key = await in_db(user_with_token)()
    other, _ = await in_db(user_with_token)()
    before = await in_db(selectors.high_water_seq)()
    await in_db(notification_create)(user=user, type="system", title="one")
    await in_db(notification_create)(user=other, type="system", title="not yours")
    client = await connected(apikey=key)
    # Written after the socket connected but before the channel joined: live for the socket, replayed for the channel.
    await in_db(notification_create)(user=user, type="system", title="two")
    reply = await client.join("realtime:inbox", {**postgres_changes(binding("notifications")), "since": before})
    assert reply["status"] == "ok"
    await client.expect("system")
    replayed = [await client.expect("postgres_changes") for _ in range(2)]
    assert [change.payload["data"]["record"]["title"] for change in replayed] == ["one", "two"]
    seqs = [change.payload["data"]["seq"] for change in replayed]
    assert seqs == sorted(seqs) and seqs[0] > before
    await client.nothing_more()
    await in_db(notification_create)(user=user, type="system", title="three")
    live = await client.expect("postgres_changes")
    assert live.payload["data"]["record"]["title"] == "three" and live.payload["data"]["seq"] > seqs[-1]
    await client.nothing_more()
    await client.disconnect()


async def test_since_ahead_of_the_stream_asks_for_a_resync_then_goes_live():
    user, key = await in_db(user_with_token)()
    high_water = await in_db(selectors.high_water_seq)()
    client = await connected(apikey=key)
    reply = await client.join(
        "realtime:inbox", {**postgres_changes(binding("notifications")), "since": high_water + 50}
    )
    assert reply["status"] == "ok"
    await client.expect("system")
    resync = await client.expect("system")
    assert resync.payload["extension"] == "postgres_changes"
    assert (resync.payload["status"], resync.payload["channel"]) == ("resync_required", "inbox")
    await in_db(notification_create)(user=user, type="system", title="live")
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["title"] == "live"
    await client.disconnect()


async def test_since_behind_the_retention_window_asks_for_a_resync(settings):
    user, key = await in_db(user_with_token)()
    before = await in_db(selectors.high_water_seq)()
    await in_db(notification_create)(user=user, type="system", title="old")
    await in_db(notification_create)(user=user, type="system", title="old too")
    settings.REALTIME_RETENTION_HOURS = 1
    assert await in_db(events_prune)(now=timezone.now() + timedelta(hours=2)) > 0
    client = await connected(apikey=key)
    await client.join("realtime:inbox", {**postgres_changes(binding("notifications")), "since": before})
    await client.expect("system")
    assert (await client.expect("system")).payload["status"] == "resync_required"
    await client.nothing_more()
    await client.disconnect()


# Loss repair


def _number_and_lose_in_the_channel_layer(notification):
    """An update of `notification` the channel layer dropped."""
    record = TABLES["notifications"].record(notification)
    return lost_in_the_channel_layer(
        table="notifications",
        type="UPDATE",
        record={**record, "title": "lost"},
        old_record=record,
        audience=[f"user.{notification.user_id}"],
    )


async def test_a_message_dropped_by_the_channel_layer_is_repaired_from_the_outbox_in_order():
    user, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, "realtime:inbox", binding("notifications"))
    repairs = REGISTRY.get_sample_value("zora_realtime_repairs_total") or 0
    notification = await in_db(notification_create)(user=user, type="system", title="first")
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["title"] == "first"
    lost_seq = await in_db(_number_and_lose_in_the_channel_layer)(notification)
    await client.nothing_more()
    await in_db(notification_mark_read)(user=user, notification_id=notification.pk)
    repaired = await client.expect("postgres_changes")
    assert (repaired.payload["data"]["seq"], repaired.payload["data"]["record"]["title"]) == (lost_seq, "lost")
    live = await client.expect("postgres_changes")
    assert live.payload["data"]["seq"] > lost_seq and live.payload["data"]["record"]["read_at"] is not None
    await client.nothing_more()
    assert REGISTRY.get_sample_value("zora_realtime_repairs_total") == repairs + 1
    await client.disconnect()


async def test_a_dropped_last_event_is_repaired_when_the_sweep_announces_the_stream_cursor():
    user, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, "realtime:inbox", binding("notifications"))
    notification = await in_db(notification_create)(user=user, type="system", title="first")
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["title"] == "first"
    lost_seq = await in_db(_number_and_lose_in_the_channel_layer)(notification)
    await client.nothing_more()

    await in_db(relay.stream_cursor_announce)()

    repaired = await client.expect("postgres_changes")
    assert (repaired.payload["data"]["seq"], repaired.payload["data"]["record"]["title"]) == (lost_seq, "lost")
    await in_db(relay.stream_cursor_announce)()
    await client.nothing_more()
    await client.disconnect()


async def test_a_republished_event_is_not_delivered_twice():
    user, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, "realtime:inbox", binding("notifications"))
    await in_db(notification_create)(user=user, type="system", title="once")
    change = await client.expect("postgres_changes")
    event = await in_db(Event.objects.get)(seq=change.payload["data"]["seq"])
    event.published_at = None
    await in_db(event.save)()
    await in_db(relay.relay_run)()
    await client.nothing_more()
    await client.disconnect()


# Authorization changes


async def test_an_access_token_upgrades_an_anonymous_socket():
    user, key = await in_db(user_with_token)()
    client = await connected()
    await client.join("realtime:inbox", postgres_changes(binding("notifications")))
    await client.expect("system")
    await client.send("realtime:inbox", "access_token", {"access_token": key})
    await client.reply_to(await client.send("phoenix", "heartbeat", {}))
    await in_db(notification_create)(user=user, type="system", title="now yours")
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["title"] == "now yours"
    await client.disconnect()


async def test_an_invalid_access_token_ends_the_channels_a_user_authorized():
    user, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, "realtime:inbox", binding("notifications"))
    await client.send("realtime:inbox", "access_token", {"access_token": "not-a-token"})
    system = await client.expect("system", topic="realtime:inbox")
    assert system.payload["status"] == "error" and "invalid or revoked" in system.payload["message"]
    await client.expect("phx_close", topic="realtime:inbox")
    await in_db(notification_create)(user=user, type="system", title="hidden")
    await client.nothing_more()
    ref = await client.send("phoenix", "heartbeat", {})
    assert (await client.reply_to(ref))["status"] == "ok"
    await client.disconnect()


async def test_a_join_with_an_invalid_access_token_is_refused():
    client = await connected()
    reply = await client.join("realtime:inbox", postgres_changes(binding("notifications")), access_token="bogus")
    assert reply["status"] == "error" and "invalid or revoked" in reply["response"]["reason"]
    await client.disconnect()


async def test_the_public_key_as_access_token_keeps_the_connections_identity():
    user, key = await in_db(user_with_token)()
    client = await connected(apikey=key)
    public_key = django_settings.REALTIME_PUBLIC_KEY
    await client.join("realtime:inbox", postgres_changes(binding("notifications")), access_token=public_key)
    await client.expect("system")
    await in_db(notification_create)(user=user, type="system", title="still yours")
    assert (await client.expect("postgres_changes")).payload["data"]["record"]["title"] == "still yours"
    await client.disconnect()


# Broadcast


async def test_frames_for_a_client_that_just_closed_are_dropped_without_an_error(caplog):
    """daphne raises on a send after the client's close frame and before it reports the close. Each
    such race (a broadcast, an event, a presence diff arriving then) was logged as a failure with a
    traceback, and answered with a 4011 close that failed the same way."""
    incoming, gone, sent = asyncio.Queue(), asyncio.Event(), []

    async def send(message):
        if gone.is_set():
            raise Disconnected("Attempt to send on a closed protocol")
        sent.append(message)

    def frame(event, payload, ref):
        return {
            "type": "websocket.receive",
            "text": json.dumps(
                {"topic": "realtime:room", "event": event, "payload": payload, "ref": ref, "join_ref": "1"}
            ),
        }

    query = urlencode({"vsn": "1.0.0", "apikey": django_settings.REALTIME_PUBLIC_KEY}).encode()
    scope = {"type": "websocket", "path": "/realtime/v1/websocket", "query_string": query, "headers": []}
    socket = asyncio.ensure_future(APPLICATION(scope, incoming.get, send))
    await incoming.put({"type": "websocket.connect"})
    await incoming.put(frame("phx_join", {"config": {"broadcast": {"self": True}}}, "1"))
    for _ in range(150):
        if any('"phx_reply"' in message.get("text", "") for message in sent):
            break
        await asyncio.sleep(0.02)
    gone.set()
    with caplog.at_level(logging.WARNING):
        await incoming.put(frame("broadcast", {"type": "broadcast", "event": "e", "payload": {}}, "2"))
        await asyncio.sleep(0.5)
        await incoming.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(socket, TIMEOUT)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []


async def test_broadcast_reaches_other_members_in_each_framing_and_self_only_when_asked():
    sender = await connected(vsn="1.0.0")
    await sender.join("realtime:room", {"broadcast": {"self": True, "ack": True}})
    text_member = await connected(vsn="1.0.0")
    await text_member.join("realtime:room")
    binary_member = await connected(vsn="2.0.0")
    await binary_member.join("realtime:room")
    quiet_sender = await connected(vsn="2.0.0")
    await quiet_sender.join("realtime:room")
    ref = await sender.send("realtime:room", "broadcast", {"type": "broadcast", "event": "cursor", "payload": {"x": 1}})
    assert (await sender.reply_to(ref))["status"] == "ok"
    expected = {"type": "broadcast", "event": "cursor", "payload": {"x": 1}}
    assert (await sender.expect("broadcast")).payload == expected
    assert (await text_member.expect("broadcast")).payload == expected
    binary = await binary_member.expect("broadcast")
    assert binary.binary and binary.payload == expected and binary.topic == "realtime:room"
    assert (await quiet_sender.expect("broadcast")).payload == expected
    await quiet_sender.send_raw(
        data=encode_user_broadcast_push(
            join_ref=quiet_sender.join_refs["realtime:room"],
            ref="9",
            topic="realtime:room",
            event="blob",
            payload=b"\x00\x01",
            binary=True,
        )
    )
    blob = await binary_member.expect("broadcast")
    assert blob.payload == {"type": "broadcast", "event": "blob", "payload": b"\x00\x01"}
    await quiet_sender.nothing_more()  # no self, no ack
    await text_member.nothing_more()  # raw bytes cannot travel in vsn 1.0.0 text frames
    for client in (sender, text_member, binary_member, quiet_sender):
        await client.disconnect()


async def test_only_platform_admins_broadcast_announcements_and_everyone_listens():
    _, admin_key = await in_db(lambda: user_with_token(is_staff=True))()
    listener = await connected()
    await listener.join("realtime:announcements")
    customer = await connected()
    await customer.join("realtime:announcements")
    ref = await customer.send(
        "realtime:announcements", "broadcast", {"type": "broadcast", "event": "news", "payload": {}}
    )
    assert "only platform admins" in (await customer.reply_to(ref))["response"]["reason"]
    admin = await connected(apikey=admin_key)
    await admin.join("realtime:announcements")
    await admin.send(
        "realtime:announcements", "broadcast", {"type": "broadcast", "event": "news", "payload": {"t": "Hi"}}
    )
    assert (await listener.expect("broadcast")).payload["payload"] == {"t": "Hi"}
    assert (await customer.expect("broadcast")).payload["event"] == "news"
    for client in (listener, customer, admin):
        await client.disconnect()


# Metrics


async def test_gauges_follow_sockets_and_channels():
    def value(name):
        return REGISTRY.get_sample_value(name) or 0

    sockets, channels = value("zora_realtime_sockets_open"), value("zora_realtime_channels_joined")
    client = await connected()
    await client.join("realtime:room")
    await asyncio.sleep(0)
    assert (value("zora_realtime_sockets_open"), value("zora_realtime_channels_joined")) == (sockets + 1, channels + 1)
    await client.disconnect()
    assert (value("zora_realtime_sockets_open"), value("zora_realtime_channels_joined")) == (sockets, channels)
