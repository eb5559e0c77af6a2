"""Access changes reach open sockets on every server process: real daphne processes, one
PostgreSQL, one Redis. A signed-out or suspended user's sockets are told why and closed
with 4001 before anything committed after the change reaches them; a clerk who leaves a
shop stops reading its orders and keeps their own, on a socket that stays open.
"""

import pytest

from accounts.services import user_set_suspended
from orders.services import cart_add_item, order_checkout
from tests import factories
from tests.live.api import ApiClient
from vendors.services import vendor_staff_remove

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

NEW_ORDERS = [{"event": "INSERT", "schema": "public", "table": "orders"}]
TIMEOUT = 10


def sockets_on_both(daphne_server, daphne_servers, phoenix_sockets, actor):
    """One socket of `actor` on the shared server and one on a second process, each reading new orders."""
    second = daphne_servers.start("daphne-2")
    sockets = [
        phoenix_sockets.open(f"{actor.name} on {server.name}", websocket_url=server.websocket_url, apikey=actor.apikey)
        for server in (daphne_server, second)
    ]
    for socket in sockets:
        socket.join("orders", postgres_changes=NEW_ORDERS)
    return sockets


def order_for(customer, product) -> int:
    cart_add_item(user=customer, product=product, quantity=1)
    [order] = order_checkout(customer=customer)
    return order.pk


def assert_closed_as_unauthorized(socket, because: str):
    """The socket's channel is told why, nothing else arrives, and the socket closes with 4001."""
    system = socket.inbox.take_one(
        lambda m: m["event"] == "system" and m["payload"]["status"] == "error", TIMEOUT, "the system error"
    )
    assert because in system["payload"]["message"]
    code, _ = socket.close_frame(TIMEOUT)
    assert code == 4001
    assert socket.remaining_changes(quiet_for=0) == [], "a change reached the socket after the access change"


def test_signing_out_closes_the_tokens_sockets_before_the_next_order_reaches_them(
    daphne_server, daphne_servers, phoenix_sockets, cast
):
    customer = cast.customer_a
    sockets = sockets_on_both(daphne_server, daphne_servers, phoenix_sockets, customer)
    api = ApiClient(daphne_server, customer.apikey)
    [placed] = api.checkout((cast.product_a.pk, 1))
    for socket in sockets:
        assert [change["record"]["id"] for change in socket.changes(1, TIMEOUT)] == [placed["id"]]

    api.request("POST", "/auth/logout", 204)
    order_for(customer.user, cast.product_b)  # committed right after the token was revoked

    for socket in sockets:
        assert_closed_as_unauthorized(socket, "revoked")


def test_a_suspended_users_sockets_are_closed(daphne_server, daphne_servers, phoenix_sockets, cast):
    sockets = sockets_on_both(daphne_server, daphne_servers, phoenix_sockets, cast.customer_b)
    user_set_suspended(actor=cast.admin.user, user=cast.customer_b.user, suspended=True, reason="chargebacks")
    factories.OrderFactory(customer=cast.customer_b.user, vendor=cast.vendor_b)  # committed right after
    for socket in sockets:
        assert_closed_as_unauthorized(socket, "revoked")


def test_a_clerk_removed_from_a_shop_keeps_reading_their_own_orders(
    daphne_server, daphne_servers, phoenix_sockets, cast
):
    clerk = cast.staff_a
    sockets = sockets_on_both(daphne_server, daphne_servers, phoenix_sockets, clerk)
    shop_order = order_for(cast.customer_a.user, cast.product_a)
    for socket in sockets:
        assert [change["record"]["id"] for change in socket.changes(1, TIMEOUT)] == [shop_order]

    vendor_staff_remove(actor=cast.vendor_a.owner, membership=clerk.user.vendor_membership)
    order_for(cast.customer_a.user, cast.product_a)  # shop A's, committed right after the clerk left
    own_order = order_for(clerk.user, cast.product_b)  # the clerk shopping at shop B

    for socket in sockets:
        assert [change["record"]["id"] for change in socket.changes_until_quiet(1, TIMEOUT)] == [own_order]
        ref = socket.push("phoenix", "heartbeat", {})
        reply = socket.inbox.take_one(lambda m, ref=ref: m["ref"] == ref, TIMEOUT, "the heartbeat reply")
        assert reply["payload"]["status"] == "ok", "the socket must stay open"


def test_a_revoked_token_cannot_open_a_socket(daphne_server, phoenix_sockets, cast):
    ApiClient(daphne_server, cast.customer_a.apikey).request("POST", "/auth/logout", 204)
    socket = phoenix_sockets.open("revoked", websocket_url=daphne_server.websocket_url, apikey=cast.customer_a.apikey)
    code, _ = socket.close_frame(TIMEOUT)
    assert code == 4001
