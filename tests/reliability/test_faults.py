"""Faults under real daphne processes, PostgreSQL and Redis, with customers checking out through
the API and clients reading the change stream on both processes.

After each fault: every client that reconnects with `since` holds every event it is owed, in
order, once; the order totals and the stock add up and no checkout was placed twice; the
servers recover by themselves; `/healthz` names what was down while it was.

These tests stop and start the run's own PostgreSQL and Redis (tests/live/services.py); each
brings them back before it ends, whatever happens.
"""

import json
import time
from collections import Counter
from contextlib import contextmanager

import psutil
import psycopg
import pytest
from django.db import connection, transaction

from catalog.services import product_update
from realtime.models import Event
from realtime.relay import ADVISORY_LOCK_KEY
from realtime.selectors import high_water_seq
from tests.live.outbox import wait_until_numbered
from tests.live.servers import database_url
from tests.reliability.faults import (
    Background,
    Retries,
    Shopper,
    StalledSocket,
    Subscriber,
    assert_every_subscriber_got_what_it_is_owed,
    assert_steadily_healthy,
    assert_the_books_balance,
    health,
    report,
    subscribe_everyone,
    wait_for,
    wait_until_healthy,
)
from tests.reliability.profile import scale

pytest_plugins = ["tests.live.plugin", "tests.live.services"]
pytestmark = [pytest.mark.reliability, pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Checkouts each of the two customers makes while a fault happens; each writes about 15 events.
CHECKOUTS = scale(6, 60)
# How long an outage lasts.
OUTAGE_SECONDS = scale(2, 6)
REPETITIONS = scale(1, 3)
# The servers write fast enough for a stream, and an outage's retries do not trip the write throttle.
SERVER_ENV = {"THROTTLE_WRITES": "100000/min"}


def binding(table: str, filter_: str | None = None) -> dict:
    spec = {"event": "*", "schema": "public", "table": table}
    if filter_:
        spec["filter"] = filter_
    return spec


def two_servers(daphne_servers, **env):
    return [daphne_servers.start(f"daphne-{index}", **SERVER_ENV, **env) for index in (1, 2)]


def placements(cast, first, second) -> dict:
    """Who reads what, and on which of the two processes."""
    return {
        (cast.staff_a, "staff of shop A"): (
            first,
            [binding("orders"), binding("order_items"), binding("products", f"vendor_id=eq.{cast.vendor_a.pk}")],
        ),
        (cast.admin, "admin"): (second, [binding("orders"), binding("order_items"), binding("products")]),
        (cast.customer_a, "customer A"): (first, [binding("orders"), binding("order_items"), binding("cart_items")]),
        (cast.customer_b, "customer B"): (second, [binding("orders"), binding("cart_items"), binding("notifications")]),
        (cast.anonymous, "anonymous"): (second, [binding("products")]),
    }


def shop_in_background(shoppers, cast, checkouts: int) -> list[Background]:
    """Each customer checks out `checkouts` times, each request to the next running server."""
    lines = [(cast.product_a.pk, 1), (cast.product_b.pk, 2)]

    def shop(shopper):
        for _ in range(checkouts):
            shopper.checkout(lines)

    return [Background(lambda shopper=shopper: shop(shopper), f"{shopper.actor.name} shopping") for shopper in shoppers]


def shoppers_for(cast, retries, servers) -> list[Shopper]:
    return [Shopper(cast.customer_a, retries, servers), Shopper(cast.customer_b, retries, servers)]


def checkouts_done(shoppers) -> int:
    return sum(len(shopper.checkouts) for shopper in shoppers)


def finish(shopping, shoppers, cast) -> None:
    """Waits for the shopping, then each customer checks out once more: what is written after a
    fault must reach everyone too, not just what was written before it."""
    for background in shopping:
        background.result()
    for shopper in shoppers:
        shopper.checkout([(cast.product_a.pk, 1)])


def initial_stock(cast) -> dict[int, int]:
    return {product.pk: product.stock for product in (cast.product_a, cast.product_b)}


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_redis_restarted_mid_stream(daphne_servers, phoenix_sockets, cast, services, repetition):
    servers = two_servers(daphne_servers)
    stock = initial_stock(cast)
    subscribers = subscribe_everyone(phoenix_sockets, placements(cast, *servers))
    retries = Retries()
    shoppers = shoppers_for(cast, retries, servers)
    shopping = shop_in_background(shoppers, cast, CHECKOUTS)
    wait_for(lambda: checkouts_done(shoppers) >= CHECKOUTS // 2, timeout=60, what="half the shopping")

    services.stop_redis()
    down_at = time.monotonic()
    # While Redis is away the servers say so, and only that: the database is fine.
    for server in servers:
        status, checks, took = health(server)
        assert status == 503, f"{server.name} /healthz answered {status} with Redis down: {checks}"
        assert checks["channel_layer"]["status"] == "error" and checks["database"]["status"] == "ok", checks
        assert took < 5, f"{server.name} /healthz took {took:.1f}s to say Redis is down"
    time.sleep(max(OUTAGE_SECONDS - (time.monotonic() - down_at), 0))
    services.start_redis()
    healthy_after = wait_until_healthy(servers)

    finish(shopping, shoppers, cast)
    events = assert_every_subscriber_got_what_it_is_owed(subscribers)
    orders = assert_the_books_balance(stock, shoppers)
    report(
        "redis restart",
        down_s=OUTAGE_SECONDS,
        healthy_again_s=round(healthy_after, 2),
        events=events,
        orders=orders,
        client_retries=dict(retries.failures),
        reconnects=sum(s.reconnects for s in subscribers),
        replayed=sum(s.replayed for s in subscribers),
    )


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_postgres_restarted_mid_stream(daphne_servers, phoenix_sockets, cast, services, repetition):
    servers = two_servers(daphne_servers)
    stock = initial_stock(cast)
    subscribers = subscribe_everyone(phoenix_sockets, placements(cast, *servers))
    retries = Retries()
    shoppers = shoppers_for(cast, retries, servers)
    shopping = shop_in_background(shoppers, cast, CHECKOUTS)
    wait_for(lambda: checkouts_done(shoppers) >= CHECKOUTS // 2, timeout=60, what="half the shopping")

    services.stop_postgres()
    down_at = time.monotonic()
    for server in servers:
        status, checks, took = health(server)
        assert status == 503, f"{server.name} /healthz answered {status} with PostgreSQL down: {checks}"
        assert checks["database"]["status"] == "error" and checks["channel_layer"]["status"] == "ok", checks
        assert took < 5, f"{server.name} /healthz took {took:.1f}s to say PostgreSQL is down"
    time.sleep(max(OUTAGE_SECONDS - (time.monotonic() - down_at), 0))
    services.start_postgres()
    healthy_after = wait_until_healthy(servers)
    assert_steadily_healthy(servers)

    finish(shopping, shoppers, cast)
    events = assert_every_subscriber_got_what_it_is_owed(subscribers)
    orders = assert_the_books_balance(stock, shoppers)
    report(
        "postgres restart",
        down_s=OUTAGE_SECONDS,
        healthy_again_s=round(healthy_after, 2),
        events=events,
        orders=orders,
        client_retries=dict(retries.failures),
        reconnects=sum(s.reconnects for s in subscribers),
        replayed=sum(s.replayed for s in subscribers),
    )


# Times the server processes' database connections are killed while customers shop.
KILLS = scale(5, 40)
# pg_locks shows a bigint advisory key as two 32-bit halves.
RELAY_LOCK_HALVES = (ADVISORY_LOCK_KEY >> 32, ADVISORY_LOCK_KEY & 0xFFFFFFFF)


def terminate(where: str, params=()) -> list[str]:
    """pg_terminate_backend on the server processes' backends matching `where`; returns their states."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT activity.state, pg_terminate_backend(activity.pid) FROM pg_stat_activity AS activity "
            "WHERE activity.datname = current_database() AND activity.pid <> pg_backend_pid() "
            f"AND activity.backend_type = 'client backend' AND {where}",
            params,
        )
        return [state for state, _terminated in cursor.fetchall()]


def terminate_relay_holder() -> bool:
    """Kills the backend holding the relay's lock, if one does now: the relay dies mid-run."""
    return bool(
        terminate(
            "activity.pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s::oid AND objid = %s::oid AND objsubid = 1)",
            RELAY_LOCK_HALVES,
        )
    )


def test_postgres_connections_killed_mid_request(daphne_servers, phoenix_sockets, cast):
    servers = two_servers(daphne_servers)
    stock = initial_stock(cast)
    subscribers = subscribe_everyone(phoenix_sockets, placements(cast, *servers))
    retries = Retries()
    shoppers = shoppers_for(cast, retries, servers)
    shopping = shop_in_background(shoppers, cast, CHECKOUTS)
    states = Counter()
    for _ in range(KILLS):
        wait_for(lambda: terminate("activity.state <> 'idle'"), timeout=30, what="a busy backend", every=0.005)
        states.update(terminate("true") + ["busy"])
        time.sleep(0.2)
    healthy_after = wait_until_healthy(servers)
    assert_steadily_healthy(servers)

    finish(shopping, shoppers, cast)
    events = assert_every_subscriber_got_what_it_is_owed(subscribers)
    orders = assert_the_books_balance(stock, shoppers)
    assert "500" not in retries.failures, f"a killed connection made a 500, not a 503 to retry: {retries.failures}"
    report(
        "pg_terminate_backend mid-request",
        kills=KILLS,
        backends_terminated=sum(states.values()) - states["busy"],
        healthy_again_s=round(healthy_after, 2),
        events=events,
        orders=orders,
        client_retries=dict(retries.failures),
    )


def test_postgres_connection_killed_mid_relay(daphne_servers, phoenix_sockets, cast):
    servers = two_servers(daphne_servers)
    stock = initial_stock(cast)
    subscribers = subscribe_everyone(phoenix_sockets, placements(cast, *servers))
    retries = Retries()
    shoppers = shoppers_for(cast, retries, servers)
    shopping = shop_in_background(shoppers, cast, CHECKOUTS)
    for _ in range(KILLS):
        wait_for(terminate_relay_holder, timeout=30, what="the relay's lock holder", every=0.002)
    healthy_after = wait_until_healthy(servers)

    finish(shopping, shoppers, cast)
    events = assert_every_subscriber_got_what_it_is_owed(subscribers)
    orders = assert_the_books_balance(stock, shoppers)
    report(
        "pg_terminate_backend mid-relay",
        relay_runs_killed=KILLS,
        healthy_again_s=round(healthy_after, 2),
        events=events,
        orders=orders,
        client_retries=dict(retries.failures),
    )


def relay_holder(servers):
    """The server process whose database connection holds the relay's lock, if one does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT activity.client_port FROM pg_locks JOIN pg_stat_activity AS activity USING (pid) "
            "WHERE locktype = 'advisory' AND granted AND classid = %s::oid AND objid = %s::oid AND objsubid = 1",
            RELAY_LOCK_HALVES,
        )
        ports = {port for (port,) in cursor.fetchall()}
    for server in servers:
        if ports & {conn.laddr.port for conn in psutil.Process(server.pid).net_connections(kind="tcp")}:
            return server
    return None


STRANDED_EVENTS = scale(20, 200)


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_a_process_killed_between_commit_and_publish(daphne_servers, phoenix_sockets, cast, services, repetition):
    servers = two_servers(daphne_servers)
    stock = initial_stock(cast)
    subscribers = subscribe_everyone(phoenix_sockets, placements(cast, *servers))
    retries = Retries()
    shoppers = shoppers_for(cast, retries, servers)
    for background in shop_in_background(shoppers, cast, CHECKOUTS // 2):
        background.result()

    with lock_the_relay() as release_the_relay:
        for index in range(STRANDED_EVENTS):
            product_update(actor=cast.staff_a.user, product=cast.product_a, name=f"Stranded {index:03d}")
        with services.redis_paused():
            # Redis answers nothing, so whichever process's sweep takes the relay now numbers these
            # committed events and then hangs publishing them: it is killed right there.
            release_the_relay()
            doomed = wait_for(lambda: relay_holder(servers), timeout=30, what="a server process numbering")
            wait_for(lambda: not Event.objects.filter(seq__isnull=True).exists(), timeout=30, what="the numbering")
            stranded = Event.objects.filter(seq__isnull=False, published_at__isnull=True).count()
            doomed.kill()
    survivor = next(server for server in servers if server is not doomed)
    killed_at = time.monotonic()
    wait_for(
        lambda: not Event.objects.filter(published_at__isnull=True).exists(),
        timeout=30,
        what="the survivor publishing what the killed process numbered",
    )
    republished_after = time.monotonic() - killed_at

    finish([], shoppers, cast)
    events = assert_every_subscriber_got_what_it_is_owed(subscribers, fallback=survivor)
    orders = assert_the_books_balance(stock, shoppers)
    report(
        "SIGKILL between commit and publish",
        killed=doomed.name,
        numbered_not_published=stranded,
        published_by_survivor_s=round(republished_after, 2),
        events=events,
        orders=orders,
        reconnects=sum(s.reconnects for s in subscribers),
        replayed=sum(s.replayed for s in subscribers),
    )
    assert stranded > 0, "the killed process had published everything: nothing was proven"


@contextmanager
def lock_the_relay():
    """Holds the relay's lock on a connection of its own, so the commits made meanwhile are left
    to the next relay run, whoever makes it; yields the function that lets go of it."""
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as session:
        session.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        yield session.close


CUTS = scale(10, 80)


def test_sockets_cut_without_a_close_frame(daphne_servers, phoenix_sockets, cast):
    servers = two_servers(daphne_servers)
    stock = initial_stock(cast)
    subscribers = subscribe_everyone(phoenix_sockets, placements(cast, *servers))
    retries = Retries()
    shoppers = shoppers_for(cast, retries, servers)
    shopping = shop_in_background(shoppers, cast, CHECKOUTS)
    resumes = []
    for index in range(CUTS):
        subscriber = subscribers[index % len(subscribers)]
        subscriber.take(quiet_for=0)
        subscriber.socket.cut(reset=index % 2 == 0)
        time.sleep(0.3 * (index % 3))  # back at once, or after a while offline
        resumes.append(subscriber.connect(subscriber.server))
    finish(shopping, shoppers, cast)
    events = assert_every_subscriber_got_what_it_is_owed(subscribers)
    orders = assert_the_books_balance(stock, shoppers)
    # The servers let go of every cut socket: only the live ones are left open.
    for server in servers:
        live = sum(1 for subscriber in subscribers if subscriber.server is server)
        wait_for(
            lambda server=server, live=live: server.metric("zora_realtime_sockets_open") == live,
            timeout=10,
            what=f"{server.name} releasing the cut sockets",
        )
    report(
        "sockets cut without a close frame",
        cuts=CUTS,
        events=events,
        orders=orders,
        slowest_resume_s=round(max(resumes), 2),
        replayed=sum(s.replayed for s in subscribers),
    )


# Product descriptions this long make every event a frame of ~130 KB (record and old record), so
# a client that stops reading is soon owed far more than the server may hold for it.
DESCRIPTION_LENGTH = 64_000
SLOW_CLIENT_EVENTS = scale(400, 3000)


def describe_in_step(cast, reader, count: int) -> None:
    """`count` edits of shop A's product description, 25 per commit, each batch once the reader has
    the one before: the server keeps up with the stream, so whatever it holds is the stalled
    client's, not a backlog of its own."""
    for start in range(0, count, 25):
        with transaction.atomic():
            for index in range(start, min(start + 25, count)):
                text = f"{index:06d} " + "x" * DESCRIPTION_LENGTH
                product_update(actor=cast.staff_a.user, product=cast.product_a, description=text)
        wait_until_numbered()
        reader.collect(list(range(reader.baseline + 1, high_water_seq() + 1)), timeout=30)


def test_a_client_that_stops_reading_delays_no_one_and_costs_bounded_memory(daphne_servers, phoenix_sockets, cast):
    server = daphne_servers.start("daphne", **SERVER_ENV)
    bindings = [binding("products", f"id=eq.{cast.product_a.pk}")]
    baseline = high_water_seq()
    stalled = StalledSocket(server, cast.staff_a, bindings)
    [reader] = subscribe_everyone(phoenix_sockets, {(cast.admin, "admin"): (server, bindings)}, since=baseline)
    process = psutil.Process(server.pid)
    memory_before = process.memory_info().rss

    started = time.monotonic()
    describe_in_step(cast, reader, SLOW_CLIENT_EVENTS // 2)
    memory_halfway = process.memory_info().rss
    describe_in_step(cast, reader, SLOW_CLIENT_EVENTS - SLOW_CLIENT_EVENTS // 2)
    written_in = time.monotonic() - started
    owed = list(range(baseline + 1, baseline + SLOW_CLIENT_EVENTS + 1))
    reader.collect(owed, timeout=60)
    reader_lag = time.monotonic() - started - written_in
    memory_after = process.memory_info().rss
    frame_bytes = {event.seq: 2 * len(json.dumps(event.record)) for event in Event.objects.filter(seq__in=owed)}
    owed_in_second_half = sum(frame_bytes[seq] for seq in owed[SLOW_CLIENT_EVENTS // 2 :])

    second_half_growth = memory_after - memory_halfway
    got_before_the_close = stalled.wake_up()
    closed_by_server = stalled.closed_by_server
    stalled.close()
    # Awake again, the client resumes where it got to.
    resumed = Subscriber(phoenix_sockets, cast.staff_a, bindings, since=baseline, name="stalled client")
    resumed.received = list(got_before_the_close)
    resumed.connect(server)
    resumed.collect(owed, timeout=60)
    report(
        "slow client",
        events=SLOW_CLIENT_EVENTS,
        owed_to_stalled_mib=round(sum(frame_bytes.values()) / 2**20),
        server_memory_growth_mib=round((memory_after - memory_before) / 2**20, 1),
        second_half_growth_mib=round(second_half_growth / 2**20, 1),
        written_s=round(written_in, 2),
        reader_lag_s=round(reader_lag, 2),
        stalled_got_before_close=len(got_before_the_close),
        replayed_on_resume=len(resumed.received) - len(got_before_the_close),
    )
    # The reader on the same process had everything while the other client was still stalled.
    assert reader.shortfall(owed) is None, reader.shortfall(owed)
    assert reader_lag < 15, f"the reader had its last event {reader_lag:.1f}s after the last write"
    # The server stopped keeping for the stalled client what it could not send (it closed the socket):
    # its memory grew no further while a second half of the stream went by.
    assert second_half_growth < owed_in_second_half / 2, (
        f"the server grew by {second_half_growth / 2**20:.0f} MiB while {owed_in_second_half / 2**20:.0f} MiB "
        "more were owed to a client that does not read"
    )
    assert closed_by_server, "the server still holds the socket of a client that stopped reading"
    assert resumed.shortfall(owed) is None, resumed.shortfall(owed)
