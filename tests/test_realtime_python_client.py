"""Supabase's own Python client (`realtime` on PyPI, unmodified) against a real daphne server:
postgres_changes per event type and with a filter, broadcast, presence, and access-token refresh.

The client validates every frame with pydantic models and drops, with a logged error, any
that does not fit them; each test therefore also checks that it dropped none.
"""

import pytest

from accounts.models import ApiToken
from accounts.services import api_token_revoke
from orders.models import Order
from orders.services import order_transition
from tests.live.api import ApiClient
from tests.live.plugin import token_for

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

QUIET = 1.0  # how long "nothing arrives" is watched for, after what should arrive did
INSERT, UPDATE, DELETE = 0, 1, 2  # the bindings of the "cart" channel, in the order they are asked


def cart_channel(name: str) -> dict:
    return {
        "name": name,
        "postgres_changes": [{"event": event, "table": "cart_items"} for event in ("INSERT", "UPDATE", "DELETE")],
    }


def orders_channel(name: str) -> dict:
    return {"name": name, "postgres_changes": [{"event": "*", "table": "orders"}]}


def test_each_change_reaches_its_binding_and_a_filter_lets_only_its_row_through(daphne_server, python_clients, cast):
    customer = cast.customer_a
    client = python_clients.open(
        "customer A", url=daphne_server.realtime_url, apikey=customer.apikey, channels=[cart_channel("cart")]
    )
    snooper = python_clients.open(
        "customer B",
        url=daphne_server.realtime_url,
        apikey=cast.customer_b.apikey,
        channels=[{"name": "all-carts", "postgres_changes": [{"event": "*", "table": "cart_items"}]}],
    )
    client.wait_subscribed("cart")
    snooper.wait_subscribed("all-carts")
    api = ApiClient(daphne_server, customer.apikey)

    api.post("/cart/items", {"product": cast.product_a.pk, "quantity": 1})
    [inserted] = client.binding_changes("cart", INSERT, 1)
    assert (inserted["schema"], inserted["table"], inserted["type"]) == ("public", "cart_items", "INSERT")
    assert "old_record" not in inserted  # as Supabase sends an INSERT
    first = inserted["record"]
    assert first["user_id"] == customer.user.pk and first["product_id"] == cast.product_a.pk
    assert first["quantity"] == 1
    assert {"name": "quantity", "type": "int4"} in inserted["columns"]

    client.subscribe(
        {
            "name": "first-line",
            "postgres_changes": [{"event": "*", "table": "cart_items", "filter": f"id=eq.{first['id']}"}],
        }
    )
    client.wait_subscribed("first-line")
    api.post("/cart/items", {"product": cast.product_b.pk, "quantity": 1})
    [second] = [change["record"] for change in client.binding_changes("cart", INSERT, 1)]
    assert second["product_id"] == cast.product_b.pk

    for line, quantity in ((first, 3), (second, 2)):
        api.request("PATCH", f"/cart/items/{line['id']}", 200, json={"quantity": quantity})
    updates = client.binding_changes("cart", UPDATE, 2)
    assert [(u["record"]["id"], u["old_record"]["quantity"], u["record"]["quantity"]) for u in updates] == [
        (first["id"], 1, 3),
        (second["id"], 1, 2),
    ]

    for line in (first, second):
        api.request("DELETE", f"/cart/items/{line['id']}", 204)
    deletes = client.binding_changes("cart", DELETE, 2)
    assert [d["old_record"]["id"] for d in deletes] == [first["id"], second["id"]]
    assert all("record" not in d for d in deletes)  # as Supabase sends a DELETE

    assert [(c["type"], c.get("record", c.get("old_record"))["id"]) for c in client.changes("first-line", 2)] == [
        ("UPDATE", first["id"]),
        ("DELETE", first["id"]),
    ]
    client.assert_no_changes("first-line", QUIET)  # not the second line's INSERT, UPDATE or DELETE
    client.assert_no_changes("cart", 0)  # each change reached the one binding of its type, once
    snooper.assert_no_changes("all-carts", 0)  # another customer's cart is not theirs to see
    client.assert_understood_every_frame()
    snooper.assert_understood_every_frame()


def test_broadcast_between_two_clients_reaches_self_only_when_asked(daphne_server, python_clients, cast):
    sender = python_clients.open(
        "sender",
        url=daphne_server.realtime_url,
        apikey=cast.anonymous.apikey,
        channels=[{"name": "room", "config": {"broadcast": {"self": True, "ack": True}}, "broadcast": ["*"]}],
    )
    peer = python_clients.open(
        "peer",
        url=daphne_server.realtime_url,
        apikey=cast.customer_b.apikey,
        channels=[{"name": "room", "broadcast": ["cursor"]}],
    )
    sender.wait_subscribed("room")
    peer.wait_subscribed("room")

    assert sender.broadcast("room", "cursor", {"x": 1, "label": "ünïcode"}) == "ok"  # acknowledged by the server
    [echo] = sender.broadcasts("room", 1)
    [delivered] = peer.broadcasts("room", 1)
    for message in (echo, delivered):
        assert message["event"] == "cursor"
        assert message["payload"] == {"x": 1, "label": "ünïcode"}

    peer.broadcast("room", "cursor", {"x": 2})
    [received] = sender.broadcasts("room", 1)
    assert received["payload"] == {"x": 2}
    sender.broadcast("room", "typing", {"who": "sender"})
    assert sender.broadcasts("room", 1)[0]["event"] == "typing"
    peer.inbox.assert_none(lambda m: m["type"] == "broadcast", QUIET, "echo, or an event it did not listen for")
    sender.assert_understood_every_frame()
    peer.assert_understood_every_frame()


def test_presence_track_sync_join_and_leave_seen_by_another_client(daphne_server, python_clients, cast):
    def lobby(key: str) -> dict:
        return {"name": "lobby", "config": {"presence": {"key": key, "enabled": True}}, "presence": True}

    alice = python_clients.open(
        "alice", url=daphne_server.realtime_url, apikey=cast.customer_a.apikey, channels=[lobby("alice")]
    )
    alice.wait_subscribed("lobby")
    alice.track("lobby", {"status": "online"})
    alice.presence_synced_to("lobby", {"alice"})

    bob = python_clients.open(
        "bob", url=daphne_server.realtime_url, apikey=cast.customer_b.apikey, channels=[lobby("bob")]
    )
    bob.wait_subscribed("lobby")
    bob.presence_synced_to("lobby", {"alice"})  # the state as it was when bob joined
    bob.track("lobby", {"status": "away"})

    joined = alice.presence_event("lobby", "join", "bob")
    assert [presence["status"] for presence in joined["presences"]] == ["away"]
    state = bob.presence_synced_to("lobby", {"alice", "bob"})
    assert state["alice"][0]["status"] == "online"
    assert state["bob"][0]["status"] == "away"
    assert all(presence["presence_ref"] for presences in state.values() for presence in presences)
    alice.presence_synced_to("lobby", {"alice", "bob"})

    bob.leave("lobby")
    left = alice.presence_event("lobby", "leave", "bob")
    assert [presence["status"] for presence in left["presences"]] == ["away"]
    alice.presence_synced_to("lobby", {"alice"})
    alice.assert_understood_every_frame()
    bob.assert_understood_every_frame()


def test_set_auth_with_a_new_token_keeps_the_channel_and_a_revoked_token_ends_it(daphne_server, python_clients, cast):
    """The app's usual pattern: the public key as apikey, the user's token set with set_auth()."""
    customer, staff = cast.customer_a, cast.staff_a
    first_token = customer.apikey
    client = python_clients.open(
        "customer A",
        url=daphne_server.realtime_url,
        apikey=cast.anonymous.apikey,
        access_token=first_token,
        channels=[orders_channel("my-orders")],
    )
    client.wait_subscribed("my-orders")

    [placed] = ApiClient(daphne_server, first_token).checkout((cast.product_a.pk, 1))
    [insert] = client.changes("my-orders", 1)
    assert insert["record"]["id"] == placed["id"]

    second_token = token_for(customer.user, "rotated")
    client.set_auth(second_token)
    api_token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash_key(first_token)))
    order = Order.objects.get(pk=placed["id"])
    order_transition(actor=staff.user, order=order, to_status=Order.Status.CONFIRMED)
    [update] = client.changes("my-orders", 1)
    assert update["type"] == "UPDATE"
    assert (update["old_record"]["status"], update["record"]["status"]) == ("pending", "confirmed")

    revoked_token = token_for(customer.user, "lost phone")
    api_token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash_key(revoked_token)))
    client.set_auth(revoked_token)
    ended = client.wait_status("my-orders")
    assert ended["status"] in ("CLOSED", "CHANNEL_ERROR"), ended
    order_transition(actor=staff.user, order=order, to_status=Order.Status.PREPARING)
    client.assert_no_changes("my-orders", QUIET)
    client.assert_understood_every_frame()


def test_revoking_the_token_in_use_errors_the_channel_with_the_reason_and_closes_the_socket(
    daphne_server, python_clients, cast
):
    """Without auto_reconnect: the client would reconnect at once after every 4001, see docs/realtime.md."""
    customer, staff = cast.customer_a, cast.staff_a
    client = python_clients.open(
        "customer A",
        url=daphne_server.realtime_url,
        apikey=customer.apikey,
        auto_reconnect=False,
        channels=[orders_channel("my-orders")],
    )
    client.wait_subscribed("my-orders")
    [placed] = ApiClient(daphne_server, customer.apikey).checkout((cast.product_a.pk, 1))
    assert client.changes("my-orders", 1)[0]["record"]["id"] == placed["id"]

    api_token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash_key(customer.apikey)))
    errored = client.wait_status("my-orders")
    assert errored["status"] == "CHANNEL_ERROR" and "revoked" in errored["error"], errored
    client.inbox.take_one(
        lambda m: m["type"] == "log" and "closed with code: 4001" in m["message"], 10, "the socket closed with 4001"
    )
    order_transition(actor=staff.user, order=Order.objects.get(pk=placed["id"]), to_status=Order.Status.CONFIRMED)
    client.assert_no_changes("my-orders", QUIET)
    client.inbox.assert_none(lambda m: m["type"] == "status", 0, "a rejoin after the socket closed")
    client.assert_understood_every_frame()
