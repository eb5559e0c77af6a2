"""Two daphne processes on one PostgreSQL and one Redis, as behind a load balancer:
changes and presence cross processes, and a process killed mid-stream loses its
clients nothing once they resume on the other.
"""

import threading

import pytest
from django.db import connection

from catalog.services import product_update
from tests.live.api import ApiClient

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

STREAM_LENGTH = 200
SEEN_BEFORE_THE_KILL = 40


@pytest.mark.node
def test_a_change_written_on_one_process_reaches_sockets_on_the_other(daphne_servers, node_clients, cast):
    first, second = daphne_servers.start("daphne-1"), daphne_servers.start("daphne-2")
    shop = node_clients.open(
        "staff of shop A on daphne-2",
        package="v2",
        url=second.realtime_url,
        apikey=cast.staff_a.apikey,
        channels=[{"name": "orders", "postgres_changes": [{"event": "INSERT", "schema": "public", "table": "orders"}]}],
    )
    shop.wait_subscribed("orders")

    [placed] = ApiClient(first, cast.customer_a.apikey).checkout((cast.product_a.pk, 1))

    [change] = shop.changes("orders", 1)
    assert change["new"]["id"] == placed["id"]
    assert change["new"]["vendor_id"] == cast.vendor_a.pk


@pytest.mark.node
def test_presence_is_the_same_on_both_processes(daphne_servers, node_clients, cast):
    first, second = daphne_servers.start("daphne-1"), daphne_servers.start("daphne-2")
    lobby = {"name": "lobby", "presence": True}
    alice = node_clients.open(
        "alice on daphne-1",
        package="v2",
        url=first.realtime_url,
        apikey=cast.customer_a.apikey,
        channels=[{**lobby, "config": {"presence": {"key": "alice"}}}],
    )
    bob = node_clients.open(
        "bob on daphne-2",
        package="v1",
        url=second.realtime_url,
        apikey=cast.customer_b.apikey,
        channels=[{**lobby, "config": {"presence": {"key": "bob"}}}],
    )
    alice.wait_subscribed("lobby")
    bob.wait_subscribed("lobby")
    alice.track("lobby", {"on": "daphne-1"})
    bob.track("lobby", {"on": "daphne-2"})

    for client in (alice, bob):
        state = client.presence_synced_to("lobby", {"alice", "bob"})
        assert state["alice"][0]["on"] == "daphne-1"
        assert state["bob"][0]["on"] == "daphne-2"

    bob.leave("lobby")
    assert alice.presence_event("lobby", "leave", "bob")["key"] == "bob"


def _rename_in_background(cast, names: list[str]) -> threading.Thread:
    def rename_all():
        try:
            for name in names:
                product_update(actor=cast.staff_a.user, product=cast.product_a, name=name)
        finally:
            connection.close()  # this thread's own connection, so the test database can be flushed

    writer = threading.Thread(target=rename_all, name="writer", daemon=True)
    writer.start()
    return writer


def test_clients_of_a_killed_process_resume_on_the_other_and_lose_nothing(daphne_servers, phoenix_sockets, cast):
    first, second = daphne_servers.start("daphne-1"), daphne_servers.start("daphne-2")
    bindings = [{"event": "UPDATE", "schema": "public", "table": "products", "filter": f"id=eq.{cast.product_a.pk}"}]
    apikey = cast.staff_a.apikey
    names = [f"Stream {index:03d}" for index in range(STREAM_LENGTH)]
    on_first = phoenix_sockets.open("socket on daphne-1", websocket_url=first.websocket_url, apikey=apikey)
    on_first.join("catalog", postgres_changes=bindings)

    writer = _rename_in_background(cast, names)
    before_kill = on_first.changes(SEEN_BEFORE_THE_KILL, timeout=20)
    first.kill()
    assert on_first.closed.wait(10), "the socket did not notice its server die"
    before_kill += on_first.remaining_changes(quiet_for=0)

    on_second = phoenix_sockets.open("socket on daphne-2", websocket_url=second.websocket_url, apikey=apikey)
    on_second.join("catalog", postgres_changes=bindings, since=before_kill[-1]["seq"])
    writer.join(timeout=60)
    assert not writer.is_alive(), "the writer did not finish"
    after_kill = on_second.changes(STREAM_LENGTH - len(before_kill), timeout=30)

    received = before_kill + after_kill
    assert [change["record"]["name"] for change in received] == names
    seqs = [change["seq"] for change in received]
    assert seqs == sorted(set(seqs))
    assert on_second.remaining_changes(quiet_for=1.0) == []
