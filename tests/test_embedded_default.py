"""The embedded default — SQLite and the in-memory channel layer, what `make run` serves — gets
its own runs, because the rest of the suite runs on PostgreSQL and Redis and never reaches the
code that differs: the relay's ORM numbering and process lock, SQLite's one writer, the
in-memory layer's publish from the committing thread.

Two doors: the realtime core's in-process tests re-run in a child pytest with the environment
switched to the embedded default, and a real daphne started the way `make run` starts it
(migrate, seed_demo, daphne, no DATABASE_URL or REDIS_URL), driven through the API and a socket.
"""

import os
import subprocess
import sys

import pytest

from tests.live.api import ApiClient
from tests.live.phoenix import PhoenixSocket
from tests.live.servers import PROJECT_ROOT, LiveServer

# What the Makefile's EMBEDDED_ENV removes, plus what makes a shell's settings production-like:
# `make run` from a clean shell has none of them.
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CHANNEL_LAYER", "TEST_DATABASE_NAME", "DEBUG", "SECRET_KEY")

# The realtime core: capture, relay numbering, the dispatcher, replay with `since`, loss repair.
REALTIME_CORE = [
    "realtime/tests/test_capture.py",
    "realtime/tests/test_relay.py",
    "realtime/tests/test_dispatcher.py",
    "realtime/tests/test_changes_api.py",
    "realtime/tests/test_consumer.py::test_a_customer_never_receives_another_customers_order",
    "realtime/tests/test_consumer.py::test_an_event_in_several_of_the_sockets_groups_is_delivered_once",
    "realtime/tests/test_consumer.py::test_filters_select_rows_by_value",
    "realtime/tests/test_consumer.py::test_a_delete_is_filtered_on_the_old_row",
    "realtime/tests/test_consumer.py::test_since_replays_the_missed_events_in_order_then_goes_live_without_duplicates",
    "realtime/tests/test_consumer.py::test_since_ahead_of_the_stream_asks_for_a_resync_then_goes_live",
    "realtime/tests/test_consumer.py::test_since_behind_the_retention_window_asks_for_a_resync",
    "realtime/tests/test_consumer.py::test_a_message_dropped_by_the_channel_layer_is_repaired_from_the_outbox_in_order",
    "realtime/tests/test_consumer.py::test_a_dropped_last_event_is_repaired_when_the_sweep_announces_the_stream_cursor",
    "realtime/tests/test_consumer.py::test_a_republished_event_is_not_delivered_twice",
]
# Cases that exist only with the production services: two transactions writing at once (SQLite
# has one writer), and faults of a Redis connection (there is none).
PRODUCTION_SERVICES_ONLY = [
    "realtime/tests/test_relay.py::test_the_transaction_that_commits_last_gets_the_higher_seq_even_if_it_wrote_first",
    "realtime/tests/test_dispatcher.py::test_the_dispatcher_carries_on_when_its_channel_layer_connection_dies",
]
CHILD_TIMEOUT = 300


def embedded_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SERVICE_VARIABLES}
    return {
        **env,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private_media"),
        **extra,
    }


def run_child(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_realtime_core_passes_on_sqlite_and_the_in_memory_layer(tmp_path):
    # The test database is a file: the tests' worker threads each open their own connection to it.
    env = embedded_env(tmp_path, TEST_DATABASE_NAME=str(tmp_path / "test.sqlite3"))
    deselected = [arg for node in PRODUCTION_SERVICES_ONLY for arg in ("--deselect", node)]
    child = run_child(["-m", "pytest", "-q", "-p", "no:cacheprovider", *REALTIME_CORE, *deselected], env, CHILD_TIMEOUT)
    report = child.stdout[-6000:] + child.stderr[-2000:]
    assert child.returncode == 0, f"the realtime core fails on the embedded default:\n{report}"
    # The child really ran on SQLite: its settings had no DATABASE_URL to switch to PostgreSQL.
    probe = run_child(
        ["-c", "import django; django.setup(); from django.db import connection; print(connection.vendor)"],
        {**env, "DJANGO_SETTINGS_MODULE": "zora.settings"},
        60,
    )
    assert probe.stdout.strip() == "sqlite", probe.stderr


@pytest.fixture
def embedded_server(tmp_path):
    """A daphne serving the embedded default, prepared and started the way `make run` does."""
    env = embedded_env(tmp_path)
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        step = run_child(["manage.py", *command], env, 180)
        assert step.returncode == 0, (
            f"manage.py {' '.join(command)} failed:\n{step.stdout[-3000:]}{step.stderr[-3000:]}"
        )
    server = LiveServer(env=env, name="embedded daphne").start()
    yield server
    server.close()


def cart_bindings() -> list[dict]:
    return [{"event": "*", "schema": "public", "table": "cart_items"}]


@pytest.mark.live
def test_the_embedded_server_streams_api_changes_and_replays_missed_ones_after_a_reconnect(embedded_server):
    signed_in = ApiClient(embedded_server, None).request(
        "POST", "/auth/token", 200, json={"email": "customer@zora.test", "password": "zora-demo-pass"}
    )
    token = signed_in.json()["token"]
    api = ApiClient(embedded_server, token)
    in_cart = {line["product"]["id"] for line in api.get("/cart")["items"]}
    products = [product["id"] for product in api.get("/products")["results"] if product["id"] not in in_cart][:3]
    assert len(products) == 3, "the demo catalogue has products the customer's cart lacks"

    def add(product_id: int):
        return api.post("/cart/items", {"product": product_id, "quantity": 1})

    first = PhoenixSocket(name="before the break", websocket_url=embedded_server.websocket_url, apikey=token)
    try:
        first.join("cart", postgres_changes=cart_bindings())
        add(products[0])
        [seen] = first.changes(1, timeout=10)
    finally:
        first.close()
    assert (seen["table"], seen["type"], seen["record"]["product_id"]) == ("cart_items", "INSERT", products[0])

    for product_id in products[1:]:
        add(product_id)

    second = PhoenixSocket(name="after the break", websocket_url=embedded_server.websocket_url, apikey=token)
    try:
        second.join("cart", postgres_changes=cart_bindings(), since=seen["seq"])
        replayed = second.changes(2, timeout=10)
        assert [change["record"]["product_id"] for change in replayed] == products[1:]
        assert [change["type"] for change in replayed] == ["INSERT", "INSERT"]
        seqs = [change["seq"] for change in replayed]
        assert seen["seq"] < seqs[0] < seqs[1]

        line = next(line for line in api.get("/cart")["items"] if line["product"]["id"] == products[0])
        api.request("PATCH", f"/cart/items/{line['id']}", 200, json={"quantity": 2})
        [live] = second.changes(1, timeout=10)
        assert (live["type"], live["record"]["id"], live["record"]["quantity"]) == ("UPDATE", line["id"], 2)
        assert live["seq"] > seqs[1]
        assert second.remaining_changes(quiet_for=0.5) == []
    finally:
        second.close()
