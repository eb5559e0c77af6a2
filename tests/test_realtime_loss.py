"""Loss repair on a real server whose channel layer drops: a core Redis layer of capacity 1
throws messages away as soon as the process falls one behind, yet every client still
gets every event it is owed, once, in seq order, because the process's dispatcher
notices each gap in the stream's seqs and reads the missing events from the outbox.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from realtime.selectors import high_water_seq
from tests import factories
from tests.live.api import ApiClient
from tests.live.outbox import owed_events, wait_until_numbered

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PRODUCTS_PER_SHOP = 8
DELIVERY_TIMEOUT = 20  # for all the sockets together
# Broadcasts a second on the sockets' topic while the burst is published, inside the frame rate limit.
CHATTER_RATE = 80


def binding(table: str, filter_=None) -> dict:
    spec = {"event": "*", "schema": "public", "table": table}
    if filter_:
        spec["filter"] = filter_
    return spec


def test_every_socket_gets_every_event_it_is_owed_in_order_despite_drops(daphne_servers, phoenix_sockets, cast):
    # The core layer, whose capacity makes it drop on demand (pub/sub drops only when a connection is cut).
    server = daphne_servers.start("daphne with capacity 1", CHANNEL_LAYER="core", CHANNEL_LAYER_CAPACITY="1")
    shelves = [
        factories.ProductFactory.create_batch(PRODUCTS_PER_SHOP, vendor=shop, stock=100)
        for shop in (cast.vendor_a, cast.vendor_b)
    ]
    subscriptions = {
        cast.anonymous: [binding("products")],
        cast.customer_a: [binding("orders"), binding("order_items"), binding("cart_items"), binding("products")],
        cast.staff_a: [
            binding("orders"),
            binding("products", f"vendor_id=eq.{cast.vendor_a.pk}"),
            binding("notifications"),
        ],
        cast.staff_b: [binding("order_items"), binding("products", f"vendor_id=eq.{cast.vendor_b.pk}")],
        cast.admin: [binding("orders"), binding("order_items"), binding("products")],
    }
    sockets = {}
    for actor, bindings in subscriptions.items():
        sockets[actor] = phoenix_sockets.open(actor.name, websocket_url=server.websocket_url, apikey=actor.apikey)
        sockets[actor].join("burst", postgres_changes=bindings)
    baseline = high_water_seq()

    # Two customers fill their carts and check out at once through the dropping server: each checkout
    # commits dozens of events (orders, lines, stock, emptied cart, staff notifications) that the
    # server's relay publishes back to back, while a chatty socket's broadcasts to everyone on the
    # topic keep the process's channel-layer queue full, as a busy channel does.
    chatter = phoenix_sockets.open("chatter", websocket_url=server.websocket_url, apikey=cast.anonymous.apikey)
    chatter.join("burst")
    checked_out = threading.Event()

    def chat():
        while not checked_out.is_set():
            chatter.push("realtime:burst", "broadcast", {"type": "broadcast", "event": "typing", "payload": {}})
            time.sleep(1 / CHATTER_RATE)

    chatting = threading.Thread(target=chat, name="chatter", daemon=True)
    chatting.start()
    lines = [(product.pk, 1) for shelf in shelves for product in shelf]
    shoppers = [ApiClient(server, customer.apikey) for customer in (cast.customer_a, cast.customer_b)]
    with ThreadPoolExecutor(len(shoppers)) as pool:
        placed = list(pool.map(lambda api: api.checkout(*lines), shoppers))
    checked_out.set()
    chatting.join(5)
    assert [len(orders) for orders in placed] == [2, 2]
    wait_until_numbered()

    shortfalls, deadline = [], time.monotonic() + DELIVERY_TIMEOUT
    for actor, socket in sockets.items():
        owed = [event.seq for event in owed_events(actor, subscriptions[actor], after=baseline)]
        assert owed, f"the burst owes {actor.name} nothing: the scenario proves nothing for it"
        timeout = max(deadline - time.monotonic(), 1.0)
        received = [change["seq"] for change in socket.changes_until_quiet(len(owed), timeout=timeout)]
        if received != owed:
            missed, unowed = sorted(set(owed) - set(received)), sorted(set(received) - set(owed))
            shortfalls.append(f"{actor.name} missed {missed}, got {unowed} it is not owed, in order {received}")
    assert not shortfalls, "\n".join(shortfalls)
    assert server.metric("zora_realtime_repairs_total") > 0, "nothing was dropped, so nothing was proven"
    assert server.metric("zora_realtime_repaired_events_total") > 0
