"""Open sockets follow their user's access changes in process: real PostgreSQL, the Redis
channel layer, real services. A socket whose credential ends is told why and closed with
4001, with nothing committed after the change delivered first; a socket whose user only
gained or lost groups follows them and stays open."""

import asyncio
import time

import pytest
from channels.layers import get_channel_layer
from django.test import Client
from django.urls import reverse

from accounts.services import user_set_platform_admin, user_set_suspended
from realtime.selectors import high_water_seq
from realtime.socket import access as access_module
from realtime.socket import dispatcher as dispatcher_module
from realtime.socket.dispatcher import process_dispatcher
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    SocketClient,
    anyio_backend,
    binding,
    connected,
    in_db,
    postgres_changes,
    session_cookie,
    socket_test_environment,
    subscribed,
    user_with_token,
)
from tests import factories
from vendors.services import vendor_set_active, vendor_staff_add, vendor_staff_remove

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("socket_test_environment"),
]

ORDERS = "realtime:orders"


async def ends_with_4001(client: SocketClient, because: str) -> None:
    """Each joined channel is told why, then the socket closes: nothing else comes in between."""
    for topic in client.join_refs:
        system = await client.expect("system", topic=topic)
        assert system.payload["status"] == "error" and because in system.payload["message"], system
    assert await client.closes_now() == 4001


async def order_ids(client: SocketClient, count: int) -> list[int]:
    return [(await client.expect("postgres_changes")).payload["data"]["record"]["id"] for _ in range(count)]


async def still_open(client: SocketClient) -> None:
    ref = await client.send("phoenix", "heartbeat", {})
    assert (await client.reply_to(ref))["status"] == "ok"


def sign_out_with_the_api(key: str) -> None:
    response = Client().post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 204, response.content


async def test_signing_out_closes_the_tokens_socket_before_anything_committed_after_it():
    customer, key = await in_db(user_with_token)()
    vendor = await in_db(factories.VendorFactory)()
    client, _ = await subscribed(key, ORDERS, binding("orders", "INSERT"))
    before = await in_db(factories.OrderFactory)(customer=customer, vendor=vendor)
    assert await order_ids(client, 1) == [before.pk]

    def sign_out_then_order():
        sign_out_with_the_api(key)
        factories.OrderFactory(customer=customer, vendor=vendor)

    await in_db(sign_out_then_order)()
    await ends_with_4001(client, "revoked")
    await client.disconnect()


async def test_a_revoked_token_no_longer_opens_a_socket():
    _, key = await in_db(user_with_token)()
    await in_db(sign_out_with_the_api)(key)
    client = SocketClient(apikey=key)
    assert await client.connect()
    assert await client.closes_now() == 4001
    await client.disconnect()


async def test_a_suspended_users_socket_is_closed():
    customer, key = await in_db(user_with_token)()
    admin = await in_db(factories.AdminFactory)()
    client, _ = await subscribed(key, ORDERS, binding("orders"))
    await in_db(user_set_suspended)(actor=admin, user=customer, suspended=True, reason="fraud check")
    await ends_with_4001(client, "revoked")
    await client.disconnect()


async def test_a_revoked_access_token_closes_the_socket_it_signed_in():
    _, key = await in_db(user_with_token)()
    client = await connected()
    assert (await client.join(ORDERS, postgres_changes(binding("orders")), access_token=key))["status"] == "ok"
    await client.expect("system")
    await in_db(sign_out_with_the_api)(key)
    await ends_with_4001(client, "revoked")
    await client.disconnect()


@pytest.mark.parametrize(
    "sign_out",
    [
        pytest.param(lambda browser, user, admin: browser.post(reverse("logout")), id="signed out"),
        pytest.param(
            lambda browser, user, admin: user_set_suspended(actor=admin, user=user, suspended=True), id="suspended"
        ),
    ],
)
async def test_a_portal_pages_socket_closes_when_its_session_ends(sign_out):
    user, admin = await in_db(factories.UserFactory)(), await in_db(factories.AdminFactory)()
    browser = Client()
    cookie = await in_db(session_cookie)(user, browser)
    client = SocketClient(apikey=False, headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)])
    assert await client.connect()
    assert (await client.join("realtime:inbox", postgres_changes(binding("notifications"))))["status"] == "ok"
    await client.expect("system")
    await in_db(sign_out)(browser, user, admin)
    await ends_with_4001(client, "session has ended")
    await client.disconnect()


def _remove_from_shop(clerk, vendor):
    vendor_staff_remove(actor=vendor.owner, membership=clerk.vendor_membership)


def _deactivate_shop(clerk, vendor):
    vendor_set_active(actor=factories.AdminFactory(), vendor=vendor, active=False)


@pytest.mark.parametrize("change", [_remove_from_shop, _deactivate_shop], ids=["removed", "shop deactivated"])
async def test_a_clerk_who_leaves_a_shop_keeps_their_own_orders_only(change):
    vendor, elsewhere = await in_db(factories.VendorFactory)(), await in_db(factories.VendorFactory)()
    clerk, key = await in_db(user_with_token)()
    await in_db(factories.VendorStaffFactory)(vendor=vendor, user=clerk)
    client, _ = await subscribed(key, ORDERS, binding("orders", "INSERT"))
    shop_order = await in_db(factories.OrderFactory)(vendor=vendor)
    assert await order_ids(client, 1) == [shop_order.pk]

    def leave_then_orders():
        change(clerk, vendor)
        factories.OrderFactory(vendor=vendor)
        return factories.OrderFactory(customer=clerk, vendor=elsewhere)

    own = await in_db(leave_then_orders)()
    assert await order_ids(client, 1) == [own.pk]
    await client.nothing_more()
    await still_open(client)
    await client.disconnect()


async def test_a_new_clerk_reads_the_shops_orders_from_the_change_on():
    vendor = await in_db(factories.VendorFactory)()
    clerk, key = await in_db(user_with_token)()
    client, _ = await subscribed(key, ORDERS, binding("orders", "INSERT"))

    def join_then_order():
        vendor_staff_add(actor=vendor.owner, vendor=vendor, user=clerk)
        return factories.OrderFactory(vendor=vendor)

    order = await in_db(join_then_order)()
    assert await order_ids(client, 1) == [order.pk]
    await client.disconnect()


async def test_an_admin_who_loses_the_rights_leaves_the_admin_only_channels():
    demoted, key = await in_db(user_with_token)(is_staff=True)
    admin = await in_db(factories.AdminFactory)()
    client, _ = await subscribed(key, ORDERS, binding("orders", "INSERT"))
    assert (await client.join("realtime:online"))["status"] == "ok"
    await client.expect("presence_state", topic="realtime:online")
    await in_db(user_set_platform_admin)(actor=admin, user=demoted, is_admin=False)
    system = await client.expect("system", topic="realtime:online")
    assert "platform admins only" in system.payload["message"]
    await client.expect("phx_close", topic="realtime:online")
    await in_db(factories.OrderFactory)()
    await client.nothing_more()
    await still_open(client)
    await client.disconnect()


async def test_a_replay_that_meets_the_access_change_goes_on_with_the_new_groups(monkeypatch):
    """The replay runs ahead of the live queue, where the access event waits; a shop order
    committed after the clerk left is in the replayed range and must not be sent."""
    vendor, elsewhere = await in_db(factories.VendorFactory)(), await in_db(factories.VendorFactory)()
    clerk, key = await in_db(user_with_token)()
    await in_db(factories.VendorStaffFactory)(vendor=vendor, user=clerk)
    client = await connected(apikey=key)
    since = await in_db(high_water_seq)()
    earlier = await in_db(factories.OrderFactory)(vendor=vendor)
    layer = get_channel_layer()
    group_add = layer.group_add
    later = []

    def leave_then_orders():
        vendor_staff_remove(actor=vendor.owner, membership=clerk.vendor_membership)
        factories.OrderFactory(vendor=vendor)
        later.append(factories.OrderFactory(customer=clerk, vendor=elsewhere))
        return high_water_seq()

    async def changes_while_joining(group, channel):
        # The join's group_add runs after its checks and before the replay reads how far to go.
        if group.startswith("rt-topic.") and not later:
            through = await in_db(leave_then_orders)()
            while process_dispatcher().last < through:
                await asyncio.sleep(0.01)
        await group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", changes_while_joining)
    reply = await client.join(ORDERS, {**postgres_changes(binding("orders", "INSERT")), "since": since})
    assert reply["status"] == "ok", reply
    await client.expect("system")
    assert await order_ids(client, 2) == [earlier.pk, later[0].pk]
    await client.nothing_more()
    await client.disconnect()


async def test_an_access_change_while_the_socket_connects_is_not_missed(monkeypatch):
    """The token is revoked, and its access event handed out, after the socket read its identity
    and before it subscribed: it would never see the event live."""
    _, key = await in_db(user_with_token)()
    read = access_module.identity_for

    def read_then_revoke(credential):
        identity = read(credential)
        if identity is not None:
            sign_out_with_the_api(key)
            through = high_water_seq()
            while dispatcher_module._dispatcher.last < through:
                time.sleep(0.01)
        return identity

    monkeypatch.setattr(access_module, "identity_for", read_then_revoke)
    client = SocketClient(apikey=key)
    assert await client.connect()
    assert await client.closes_now() == 4001
    await client.disconnect()
