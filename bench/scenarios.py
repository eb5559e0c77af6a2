"""The five scenarios, each run against a target (Zora in a configuration, the peer, the ceiling).

A scenario starts its servers and load generators, drives the writer, and
turns what the sockets received into figures: latency percentiles, losses,
duplicates, order violations, throughput, server CPU and RSS.
"""

import json
import math
import statistics
import subprocess
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from websockets.sync.client import connect

from bench.members import Population
from bench.processes import (
    PYTHON,
    ROOT,
    LoadGenerator,
    Services,
    Target,
    Usage,
    child_env,
    run_writer,
    start_servers,
)
from bench.writer import LIFECYCLE

LATENCY_TARGET_MS = 100
# Changes per second one writer process is asked for: one thread of services calls commits about
# 70 a second on a quiet machine, so faster rates are shared between several writers.
WRITER_RATE = 35


@dataclass(frozen=True)
class Sizes:
    storm_rates: tuple[float, ...]
    storm_seconds: float
    fanout_sockets: tuple[int, ...]
    idle_sockets: int
    idle_seconds: float
    reconnect_changes: int
    reconnect_drain_seconds: float
    api_clients: int
    api_seconds: float
    generators: int
    drain_seconds: float


@dataclass
class Context:
    services: Services
    population: Population
    population_path: Path
    work_dir: Path
    public_key: str


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": ordered[-1]}


def _ms(figures: dict) -> dict:
    return {name: None if value is None else round(value * 1000, 1) for name, value in figures.items()}


# Sockets


def _member_spec(target: Target, member, ctx: Context) -> dict:
    """What a member's socket subscribes to: customers their orders and notifications, staff their
    shop's orders and products, admins everything."""
    if target.kind == "peer":
        return {"protocol": "dcrf", "query": f"token={member.token}"}
    if member.role == "customer":
        bindings = [{"event": "*", "schema": "public", "table": table} for table in ("orders", "notifications")]
    elif member.role == "staff":
        bindings = [
            {"event": "*", "schema": "public", "table": table, "filter": f"vendor_id=eq.{member.vendor_id}"}
            for table in ("orders", "products")
        ]
    else:
        bindings = [{"event": "*", "schema": "public"}]
    if target.kind == "ceiling":
        query = f"user={member.user_id}&vendor={member.vendor_id or ''}&admin={int(member.role == 'admin')}"
    else:
        query = f"apikey={member.token}&vsn=1.0.0"
    return {"protocol": "phoenix", "topic": "realtime:bench", "config": {"postgres_changes": bindings}, "query": query}


def _anonymous_spec(target: Target, ctx: Context) -> dict:
    """A public socket on the announcements channel, following public product changes."""
    query = "user=" if target.kind == "ceiling" else f"apikey={ctx.public_key}&vsn=1.0.0"
    bindings = [{"event": "*", "schema": "public", "table": "products"}]
    return {
        "protocol": "phoenix",
        "topic": "realtime:announcements",
        "config": {"postgres_changes": bindings},
        "query": query,
    }


@contextmanager
def _generators(servers, specs: list[dict], ctx: Context, sizes: Sizes, name: str):
    """Load generators holding `specs` spread over the servers' ports, all joined; killed on exit."""
    numbered = [
        (index, {**spec, "url": servers.websocket_url(index, spec["query"])}) for index, spec in enumerate(specs)
    ]
    count = max(1, min(sizes.generators, len(numbered)))
    generators = []
    try:
        for part in range(count):
            generators.append(LoadGenerator(numbered[part::count], ctx.work_dir, f"{name}-{part}", ctx.services))
        for generator in generators:
            generator.expect("ready")
        yield generators
    finally:
        for generator in generators:
            generator.kill()


def _write(ctx: Context, servers, **kwargs) -> dict:
    return run_writer(
        ctx.services, servers.target, ctx.work_dir, ctx.population_path, ceiling_url=servers.publish_url, **kwargs
    )


def _finish(generators: list[LoadGenerator]) -> list[dict]:
    return [generator.finish() for generator in generators]


def _sockets(results: list[dict]) -> dict[int, dict]:
    return {entry["index"]: entry for result in results for entry in result["sockets"]}


# Delivery accounting


def _expected_keys(member, changes: list[list]) -> set[tuple]:
    """The order changes a member's socket is owed: the order to its customer, shop and admins;
    the status-change notification to the customer."""
    owed = set()
    for order_id, status, customer_id, vendor_id, _ in changes:
        if member.role == "admin" or (member.role == "staff" and member.vendor_id == vendor_id):
            owed.add(("orders", order_id, status))
        elif member.role == "customer" and member.user_id == customer_id:
            owed.add(("orders", order_id, status))
            if status != "pending":
                owed.add(("notifications", order_id, status))
    return owed


def _delivery(members: list, sockets: dict[int, dict], changes: list[list], since: float = 0.0) -> dict:
    committed = {}
    for order_id, status, _, _, committed_at in changes:
        committed[("orders", order_id, status)] = committed_at
        committed[("notifications", order_id, status)] = committed_at
    latencies, lost, duplicated, out_of_order, delivered = [], 0, 0, 0, 0
    last_arrival = {}
    for index, member in enumerate(members):
        # Only the measured changes: the writer's unmeasured warm-up orders arrive too.
        received = [
            entry for entry in sockets[index]["received"] if entry[4] >= since and tuple(entry[:3]) in committed
        ]
        delivered += len(received)
        seen = Counter()
        last_status = {}
        last_seq = 0
        for table, key, status, seq, at in received:
            event = (table, key, status)
            seen[event] += 1
            if seen[event] == 1 and event in committed:
                latencies.append(at - committed[event])
                last_arrival[index] = max(last_arrival.get(index, 0.0), at)
            if seq is not None:
                out_of_order += seq < last_seq
                last_seq = max(last_seq, seq)
            elif table == "orders" and status in LIFECYCLE:
                out_of_order += LIFECYCLE.index(status) < last_status.get(key, -1)
                last_status[key] = max(last_status.get(key, -1), LIFECYCLE.index(status))
        owed = _expected_keys(member, changes)
        lost += len(owed - set(seen))
        duplicated += sum(count - 1 for event, count in seen.items() if event in committed and count > 1)
    return {
        "latencies": latencies,
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "delivered": delivered,
        "last_arrival": max(last_arrival.values(), default=None),
    }


# Scenarios


def storm(target: Target, ctx: Context, sizes: Sizes) -> dict:
    """Marketplace storm: every member's socket open, orders written at rising rates."""
    members = ctx.population.members
    servers = start_servers(target, ctx.services, ctx.work_dir)
    steps = []
    try:
        for rate in sizes.storm_rates:
            specs = [_member_spec(target, member, ctx) for member in members]
            with _generators(servers, specs, ctx, sizes, "storm") as generators:
                with Usage([process.pid for process in servers.processes]) as usage:
                    writers = math.ceil(rate / WRITER_RATE)
                    changes = max(2 * writers, int(rate * sizes.storm_seconds))
                    writer = _write(ctx, servers, rate=rate, changes=changes, writers=writers)
                    time.sleep(sizes.drain_seconds)
                sockets = _sockets(_finish(generators))
            delivery = _delivery(members, sockets, writer["changes"])
            window = max((delivery["last_arrival"] or 0) - writer["changes"][0][4], writer["elapsed"], 1e-9)
            step = {
                "rate": rate,
                "achieved_rate": round(writer["achieved_rate"], 1),
                "changes": len(writer["changes"]),
                "latency_ms": _ms(percentiles(delivery["latencies"])),
                "lost": delivery["lost"],
                "duplicated": delivery["duplicated"],
                "out_of_order": delivery["out_of_order"],
                "delivered_per_second": round(delivery["delivered"] / window, 1),
                **usage.figures(),
            }
            steps.append(step)
            if (step["latency_ms"]["p99"] or 0) > LATENCY_TARGET_MS:
                break
    finally:
        servers.stop()
    holding = [step for step in steps if (step["latency_ms"]["p99"] or 0) <= LATENCY_TARGET_MS and step["lost"] == 0]
    best = max(holding, key=lambda step: step["achieved_rate"], default=None)
    return {"sockets": len(members), "steps": steps, "best": best}


def _announce(target: Target, servers, ctx: Context) -> float:
    """An admin's broadcast on the announcements channel; returns when it was sent."""
    admin = ctx.population.admins[0]
    query = f"apikey={admin.token}&vsn=1.0.0" if target.kind == "zora" else "admin=1"
    with connect(servers.websocket_url(0, query)) as connection:
        frame = {"topic": "realtime:announcements", "ref": "1", "join_ref": "1"}
        connection.send(json.dumps({**frame, "event": "phx_join", "payload": {"config": {}}}))
        connection.recv()
        sent_at = time.time()
        push = {"type": "broadcast", "event": "announcement", "payload": {"text": "Free delivery today"}}
        connection.send(json.dumps({**frame, "event": "broadcast", "payload": push, "ref": "2"}))
        time.sleep(0.2)
    return sent_at


def _last_first_arrival(sockets: dict[int, dict], table: str, since: float) -> tuple[float | None, int]:
    firsts = []
    for entry in sockets.values():
        arrivals = [row[4] for row in entry["received"] if row[0] == table and row[4] >= since]
        if arrivals:
            firsts.append(min(arrivals))
    return (max(firsts) if firsts else None), len(firsts)


def fanout(target: Target, ctx: Context, sizes: Sizes) -> dict:
    """One announcement and one public product change to N sockets: time until the last has it."""
    servers = start_servers(target, ctx.services, ctx.work_dir)
    rows = []
    try:
        for count in sizes.fanout_sockets:
            with _generators(servers, [_anonymous_spec(target, ctx)] * count, ctx, sizes, "fanout") as generators:
                announced_at = _announce(target, servers, ctx)
                touched = _write(ctx, servers, action="product")
                time.sleep(sizes.drain_seconds)
                sockets = _sockets(_finish(generators))
            last_broadcast, got_broadcast = _last_first_arrival(sockets, "broadcast", announced_at)
            last_change, got_change = _last_first_arrival(sockets, "products", touched["committed_at"])
            rows.append(
                {
                    "sockets": count,
                    "broadcast_last_ms": None
                    if last_broadcast is None
                    else round((last_broadcast - announced_at) * 1000, 1),
                    "broadcast_missing": count - got_broadcast,
                    "change_last_ms": None
                    if last_change is None
                    else round((last_change - touched["committed_at"]) * 1000, 1),
                    "change_missing": count - got_change,
                }
            )
    finally:
        servers.stop()
    return {"rows": rows}


def idle(target: Target, ctx: Context, sizes: Sizes) -> dict:
    """N joined sockets doing nothing but heartbeats: what they cost the server."""
    servers = start_servers(target, ctx.services, ctx.work_dir)
    try:
        pids = [process.pid for process in servers.processes]
        baseline_rss = Usage(pids).rss()
        with _generators(
            servers, [_anonymous_spec(target, ctx)] * sizes.idle_sockets, ctx, sizes, "idle"
        ) as generators:
            with Usage(pids) as usage:
                time.sleep(sizes.idle_seconds)
            _finish(generators)
    finally:
        servers.stop()
    per_socket_kb = (usage.peak_rss - baseline_rss) / 1024 / max(sizes.idle_sockets, 1)
    return {
        "sockets": sizes.idle_sockets,
        "seconds": sizes.idle_seconds,
        **usage.figures(),
        "rss_per_socket_kb": round(per_socket_kb, 1),
    }


def _wait_until_quiet(generators: list[LoadGenerator], timeout: float, quiet_seconds: float = 3.0) -> None:
    """Returns once nothing more has arrived for `quiet_seconds`, or after `timeout`: a catch-up is
    measured to its end, however long, and what has not come by the timeout counts as lost."""
    deadline = time.time() + timeout
    last_count, last_change = -1, time.time()
    while time.time() < deadline:
        count = sum(generator.received() for generator in generators)
        if count != last_count:
            last_count, last_change = count, time.time()
        elif time.time() - last_change >= quiet_seconds:
            return
        time.sleep(0.5)


def reconnect(target: Target, ctx: Context, sizes: Sizes) -> dict:
    """Every socket drops at once, changes happen meanwhile, all rejoin with `since`: time to catch up."""
    members = ctx.population.members
    servers = start_servers(target, ctx.services, ctx.work_dir)
    try:
        specs = [_member_spec(target, member, ctx) for member in members]
        with _generators(servers, specs, ctx, sizes, "reconnect") as generators:
            # A client resumes from what its app has loaded: without a change seen yet, the seq its
            # data was read at (nothing has been written since the sockets joined).
            from realtime.selectors import high_water_seq  # needs Django set up, which run.py does first

            loaded_at = high_water_seq() if target.kind == "zora" else 0
            for generator in generators:
                generator.command(f"drop {loaded_at}")
            for generator in generators:
                generator.expect("dropped")
            # As fast as the writer goes: the sockets are away, nobody measures latency.
            writer = _write(ctx, servers, rate=100000, changes=sizes.reconnect_changes)
            for generator in generators:
                generator.command("rejoin")
            for generator in generators:
                generator.expect("rejoined")
            _wait_until_quiet(generators, sizes.reconnect_drain_seconds)
            results = _finish(generators)
    finally:
        servers.stop()
    rejoin_at = min(result["marks"]["rejoin_at"] for result in results)
    sockets = _sockets(results)
    delivery = _delivery(members, sockets, writer["changes"], since=rejoin_at)
    caught_up = delivery["last_arrival"]
    return {
        "sockets": len(members),
        "changes": len(writer["changes"]),
        "caught_up_ms": None if caught_up is None or delivery["lost"] else round((caught_up - rejoin_at) * 1000, 1),
        # Handshakes the server dropped during the rejoin, which the clients retried.
        "retried": sum(entry["retried"] for entry in sockets.values()),
        "lost": delivery["lost"],
        "duplicated": delivery["duplicated"],
        "out_of_order": delivery["out_of_order"],
    }


def api(target: Target, ctx: Context, sizes: Sizes) -> dict:
    """The mobile API under concurrent clients: requests per second and latency per operation."""
    servers = start_servers(target, ctx.services, ctx.work_dir)
    out_path = ctx.work_dir / "api-result.json"
    try:
        with Usage([process.pid for process in servers.processes]) as usage:
            command = [
                PYTHON,
                "-m",
                "bench.apiload",
                "--population",
                str(ctx.population_path),
                "--out",
                str(out_path),
                "--clients",
                str(sizes.api_clients),
                "--duration",
                str(sizes.api_seconds),
            ]
            for url in servers.base_urls:
                command += ["--base-url", url]
            subprocess.run(command, cwd=ROOT, env=child_env(ctx.services, target), check=True)
    finally:
        servers.stop()
    result = json.loads(out_path.read_text())
    requests = sum(len(values) for values in result["latencies"].values())
    operations = {
        name: {"requests": len(values), "failures": result["failures"].get(name, 0), **_ms(percentiles(values))}
        for name, values in sorted(result["latencies"].items())
    }
    return {
        "clients": result["clients"],
        "requests_per_second": round(requests / result["elapsed"], 1),
        "operations": operations,
        **usage.figures(),
    }


SCENARIOS = {"storm": storm, "fanout": fanout, "idle": idle, "reconnect": reconnect, "api": api}
