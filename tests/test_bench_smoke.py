"""Every benchmark scenario once, at a tiny size, through the harness's real code path.

Not a measurement (the figures mean nothing at this size on a shared
machine): it keeps bench/ from rotting. Real servers (daphne, the peer, the
ceiling), real sockets, the test suite's PostgreSQL and Redis.
"""

import os

import pytest
from django.db import connection

from bench.processes import Services
from bench.report import render
from bench.run import PROFILES, run_bench

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def services() -> Services:
    """The test database, which the harness's server and writer processes must reach too."""
    params = connection.settings_dict
    database_url = (
        f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    )
    return Services(database_url, os.environ["REDIS_URL"])


def test_every_scenario_runs_at_tiny_size_without_losing_anything(services, tmp_path):
    results = run_bench(PROFILES["tiny"], ["storm", "fanout", "idle", "reconnect", "api"], services, tmp_path)
    scenarios = results["scenarios"]

    storm = {row["target"]: row for row in scenarios["storm"]}
    assert set(storm) == {"zora daphne pubsub ×1", "peer", "ceiling"}
    for target, row in storm.items():
        step = row["steps"][0]
        assert step["changes"] == 20, target
        assert (step["lost"], step["duplicated"], step["out_of_order"]) == (0, 0, 0), (target, step)
        assert step["latency_ms"]["p99"] is not None and step["delivered_per_second"] > 0, (target, step)
    assert storm["zora daphne pubsub ×1"]["steps"][0]["server_rss_mb"] > 0

    for row in scenarios["fanout"]:
        figures = row["rows"][0]
        assert (figures["broadcast_missing"], figures["change_missing"]) == (0, 0), row
        assert figures["broadcast_last_ms"] is not None and figures["change_last_ms"] is not None

    for row in scenarios["idle"]:
        assert row["sockets"] == 10 and row["server_rss_mb"] > 0

    zora_reconnect, peer_reconnect = scenarios["reconnect"]
    assert (zora_reconnect["lost"], zora_reconnect["duplicated"], zora_reconnect["out_of_order"]) == (0, 0, 0)
    assert zora_reconnect["caught_up_ms"] is not None
    assert peer_reconnect["lost"] > 0, "the peer has no resume: what happened while away is gone"

    (api,) = scenarios["api"]
    assert api["requests_per_second"] > 0
    assert {"catalog list", "product detail", "add to cart", "checkout"} <= set(api["operations"])
    assert all(operation["failures"] == 0 for operation in api["operations"].values()), api["operations"]

    report = render("", results)
    assert "Marketplace storm" in report and "zora daphne pubsub ×1" in report
