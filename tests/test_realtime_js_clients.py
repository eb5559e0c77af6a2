"""The unmodified npm @supabase/realtime-js, both serializer generations, against a real
daphne server: postgres_changes with row-level authorization, broadcast, presence,
and access-token refresh.

v1 is realtime-js 2.15.6 (vsn 1.0.0, JSON object frames); v2 is 2.109.0
(vsn 2.0.0, JSON array frames and binary broadcast frames).
"""

import pytest

from accounts.models import ApiToken
from accounts.services import api_token_revoke
from orders.models import Order
from orders.services import order_transition
from tests.live.api import ApiClient
from tests.live.node_client import PACKAGES
from tests.live.plugin import token_for

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.node, pytest.mark.django_db(transaction=True)]

SERIALIZERS = {"v1": "1.0.0", "v2": "2.0.0"}  # each generation's default, unchanged here
QUIET = 1.0  # how long "nothing arrives" is watched for, after what should arrive did


def orders_channel(name: str, filter_=None) -> dict:
    binding = {"event": "*", "schema": "public", "table": "orders"}
    if filter_:
        binding["filter"] = filter_
    return {"name": name, "postgres_changes": [binding]}


def other_package(package: str) -> str:
    return next(other for other in PACKAGES if other != package)


@pytest.mark.parametrize("package", PACKAGES)
def test_checkout_over_the_api_reaches_exactly_the_sockets_allowed_to_see_it(
    package, daphne_server, node_clients, cast
):
    customer_a, customer_b, staff = cast.customer_a, cast.customer_b, cast.staff_a
    shop = node_clients.open(
        "staff of shop A",
        package=package,
        url=daphne_server.realtime_url,
        apikey=staff.apikey,
        channels=[orders_channel("shop-orders")],
    )
    own = node_clients.open(
        "customer A",
        package=package,
        url=daphne_server.realtime_url,
        apikey=customer_a.apikey,
        channels=[orders_channel("my-orders", f"customer_id=eq.{customer_a.user.pk}")],
    )
    snooper = node_clients.open(
        "customer B",
        package=package,
        url=daphne_server.realtime_url,
        apikey=customer_b.apikey,
        channels=[
            orders_channel("all-orders"),
            orders_channel("orders-of-a", f"customer_id=eq.{customer_a.user.pk}"),
        ],
    )
    assert shop.vsn == SERIALIZERS[package]
    shop.wait_subscribed("shop-orders")
    own.wait_subscribed("my-orders")
    snooper.wait_subscribed("all-orders")
    snooper.wait_subscribed("orders-of-a")

    [placed] = ApiClient(daphne_server, customer_a.apikey).checkout((cast.product_a.pk, 2))

    [change] = shop.changes("shop-orders", 1)
    order = Order.objects.get(pk=placed["id"])
    assert change["eventType"] == "INSERT"
    assert change["table"] == "orders"
    new = change["new"]
    # The client converts each value by its column type: ids are numbers, money is a number, not a string.
    assert new["id"] == order.pk and isinstance(new["id"], int)
    assert new["vendor_id"] == cast.vendor_a.pk and isinstance(new["vendor_id"], int)
    assert new["customer_id"] == customer_a.user.pk
    assert new["total"] == float(order.total)  # a number, where the row holds "11.99"
    assert new["number"] == order.number
    assert new["status"] == "pending"
    [mine] = own.changes("my-orders", 1)
    assert mine["new"]["id"] == order.pk
    snooper.assert_no_changes("all-orders", QUIET)
    snooper.assert_no_changes("orders-of-a", 0)


@pytest.mark.parametrize("package", PACKAGES)
def test_broadcast_reaches_other_members_and_self_only_when_asked(package, daphne_server, node_clients, cast):
    """The sender runs `package`, its peer the other generation: JSON and binary broadcast frames must interoperate."""
    sender = node_clients.open(
        "sender",
        package=package,
        url=daphne_server.realtime_url,
        apikey=cast.anonymous.apikey,
        channels=[{"name": "room", "config": {"broadcast": {"self": True, "ack": True}}, "broadcast": ["*"]}],
    )
    peer = node_clients.open(
        "peer",
        package=other_package(package),
        url=daphne_server.realtime_url,
        apikey=cast.customer_b.apikey,
        channels=[{"name": "room", "config": {"broadcast": {"self": False, "ack": False}}, "broadcast": ["*"]}],
    )
    sender.wait_subscribed("room")
    peer.wait_subscribed("room")

    assert sender.broadcast("room", "cursor", {"x": 1, "label": "ünïcode"}) == "ok"  # acknowledged by the server
    [echo] = sender.broadcasts("room", 1)
    [delivered] = peer.broadcasts("room", 1)
    for message in (echo, delivered):
        assert message["event"] == "cursor"
        assert message["payload"] == {"x": 1, "label": "ünïcode"}

    assert peer.broadcast("room", "cursor", {"x": 2}) == "ok"  # without ack the client resolves at once
    [received] = sender.broadcasts("room", 1)
    assert received["payload"] == {"x": 2}
    peer.inbox.assert_none(lambda m: m["type"] == "broadcast", QUIET, "echo of its own broadcast")


@pytest.mark.parametrize("package", PACKAGES)
def test_presence_sync_join_and_leave_between_two_clients(package, daphne_server, node_clients, cast):
    alice = node_clients.open(
        "alice",
        package=package,
        url=daphne_server.realtime_url,
        apikey=cast.customer_a.apikey,
        channels=[{"name": "lobby", "config": {"presence": {"key": "alice"}}, "presence": True}],
    )
    alice.wait_subscribed("lobby")
    alice.track("lobby", {"status": "online"})
    alice.presence_synced_to("lobby", {"alice"})

    bob = node_clients.open(
        "bob",
        package=other_package(package),
        url=daphne_server.realtime_url,
        apikey=cast.customer_b.apikey,
        channels=[{"name": "lobby", "config": {"presence": {"key": "bob"}}, "presence": True}],
    )
    bob.wait_subscribed("lobby")
    bob.presence_synced_to("lobby", {"alice"})  # the state as it was when bob joined
    bob.track("lobby", {"status": "away"})

    joined = alice.presence_event("lobby", "join", "bob")
    assert [presence["status"] for presence in joined["presences"]] == ["away"]
    state = bob.presence_synced_to("lobby", {"alice", "bob"})
    assert state["alice"][0]["status"] == "online"
    assert state["bob"][0]["status"] == "away"
    alice.presence_synced_to("lobby", {"alice", "bob"})

    bob.leave("lobby")
    left = alice.presence_event("lobby", "leave", "bob")
    assert [presence["status"] for presence in left["presences"]] == ["away"]
    alice.presence_synced_to("lobby", {"alice"})


@pytest.mark.parametrize("package", PACKAGES)
def test_access_token_refresh_keeps_the_channel_and_a_revoked_token_ends_it(package, daphne_server, node_clients, cast):
    """The app's usual pattern: the public key as apikey, the user's token set with setAuth()."""
    customer, staff = cast.customer_a, cast.staff_a
    first_token = customer.apikey
    client = node_clients.open(
        "customer A",
        package=package,
        url=daphne_server.realtime_url,
        apikey=cast.anonymous.apikey,
        access_token=first_token,
        channels=[orders_channel("my-orders")],
    )
    client.wait_subscribed("my-orders")
    api = ApiClient(daphne_server, first_token)

    [placed] = api.checkout((cast.product_a.pk, 1))
    assert client.changes("my-orders", 1)[0]["new"]["id"] == placed["id"]

    second_token = token_for(customer.user, "rotated")
    client.set_auth(second_token)
    api_token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash_key(first_token)))
    order = Order.objects.get(pk=placed["id"])
    order_transition(actor=staff.user, order=order, to_status=Order.Status.CONFIRMED)
    [update] = client.changes("my-orders", 1)
    assert update["eventType"] == "UPDATE"
    assert update["new"]["status"] == "confirmed"

    revoked_token = token_for(customer.user, "lost phone")
    api_token_revoke(token=ApiToken.objects.get(key_hash=ApiToken.hash_key(revoked_token)))
    client.set_auth(revoked_token)
    ended = client.inbox.take_one(
        lambda m: m["type"] == "status" and m["channel"] == "my-orders", 10, "the channel ending"
    )
    assert ended["status"] in ("CLOSED", "CHANNEL_ERROR"), ended
    order_transition(actor=staff.user, order=order, to_status=Order.Status.PREPARING)
    client.assert_no_changes("my-orders", QUIET)
