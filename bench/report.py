"""Renders a run's results into docs/performance.md, between its results markers.

Everything outside the markers (method, scenarios, how to run) is kept as
written; the section between them is replaced by the latest run's tables.
"""

BEGIN = "<!-- bench results: begin (written by `make bench`) -->"
END = "<!-- bench results: end -->"
TARGET_P99_MS = 100


def _table(header: list[str], rows: list[list]) -> list[str]:
    def cell(value):
        return "–" if value is None else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines + [""]


def _ratio(ours, theirs) -> str | None:
    if not ours or not theirs:
        return None
    return f"{ours / theirs:.2f}×"


def _storm(rows: list[dict]) -> list[str]:
    lines = ["### 1. Marketplace storm", ""]
    table = []
    for row in rows:
        for step in row["steps"]:
            latency = step["latency_ms"]
            table.append(
                [
                    row["target"],
                    step["rate"],
                    step["achieved_rate"],
                    latency["p50"],
                    latency["p95"],
                    latency["p99"],
                    latency["max"],
                    step["lost"],
                    step["duplicated"],
                    step["out_of_order"],
                    step["delivered_per_second"],
                    step["server_cpu_percent"],
                    step["server_rss_mb"],
                ]
            )
    lines += _table(
        [
            "target",
            "rate /s",
            "achieved /s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "lost",
            "dup",
            "out of order",
            "delivered msgs/s",
            "server CPU %",
            "server RSS MB",
        ],
        table,
    )
    best = {row["target"]: row["best"] for row in rows}
    peer, ceiling = best.get("peer"), best.get("ceiling")
    summary = []
    for target, step in best.items():
        if target in ("peer", "ceiling"):
            continue
        rate = step["achieved_rate"] if step else None
        delivered = step["delivered_per_second"] if step else None
        summary.append(
            [
                target,
                rate,
                "met" if step else "missed",
                _ratio(rate, peer["achieved_rate"] if peer else None),
                _ratio(delivered, ceiling["delivered_per_second"] if ceiling else None),
            ]
        )
    lost_by_peer = sum(step["lost"] for row in rows if row["target"] == "peer" for step in row["steps"])
    lines += [f"Highest rate holding p99 ≤ {TARGET_P99_MS} ms with nothing lost, per configuration:", ""]
    lines += _table(
        ["configuration", "changes/s", f"p99 ≤ {TARGET_P99_MS} ms", "vs peer", "delivered vs ceiling"], summary
    )
    lines += [f"The peer lost {lost_by_peer} owed events over its steps.", ""]
    return lines


def _fanout(rows: list[dict]) -> list[str]:
    table = [
        [
            row["target"],
            figures["sockets"],
            figures["broadcast_last_ms"],
            figures["broadcast_missing"],
            figures["change_last_ms"],
            figures["change_missing"],
        ]
        for row in rows
        for figures in row["rows"]
    ]
    return ["### 2. Fan-out", ""] + _table(
        ["target", "sockets", "announcement: last socket ms", "missing", "product change: last socket ms", "missing"],
        table,
    )


def _idle(rows: list[dict]) -> list[str]:
    table = [
        [
            row["target"],
            row["sockets"],
            row["seconds"],
            row["server_cpu_percent"],
            row["server_rss_mb"],
            row["rss_per_socket_kb"],
        ]
        for row in rows
    ]
    return ["### 3. Idle sockets", ""] + _table(
        ["target", "sockets", "seconds", "server CPU %", "server RSS MB", "RSS per socket KB"], table
    )


def _reconnect(rows: list[dict]) -> list[str]:
    table = [
        [
            row["target"],
            row["sockets"],
            row["changes"],
            row["caught_up_ms"],
            row["lost"],
            row["duplicated"],
            row["out_of_order"],
            row["retried"],
        ]
        for row in rows
    ]
    return ["### 4. Reconnect storm", ""] + _table(
        [
            "target",
            "sockets",
            "changes while away",
            "all caught up ms",
            "lost",
            "dup",
            "out of order",
            "handshakes retried",
        ],
        table,
    )


def _api(rows: list[dict]) -> list[str]:
    lines = ["### 5. API", ""]
    for row in rows:
        lines += [
            f"{row['target']}: {row['clients']} clients, {row['requests_per_second']} req/s, "
            f"server CPU {row['server_cpu_percent']} %, RSS {row['server_rss_mb']} MB",
            "",
        ]
        lines += _table(
            ["operation", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [
                [name, op["requests"], op["failures"], op["p50"], op["p95"], op["p99"], op["max"]]
                for name, op in row["operations"].items()
            ],
        )
    return lines


def _best_configuration(storm_rows: list[dict]) -> dict | None:
    """The Zora configuration that held the highest rate (then the lowest p99 there)."""
    ours = [row for row in storm_rows if row["target"].startswith("zora") and row["best"]]
    if not ours:
        return None
    return max(ours, key=lambda row: (row["best"]["achieved_rate"], -row["best"]["latency_ms"]["p99"]))


def _verdict(value, target, *, at_most: bool) -> str:
    if value is None:
        return "missed: no figure"
    if (value <= target) if at_most else (value >= target):
        return "met"
    return f"missed by {abs(value - target) / target:.0%}"


def _targets(scenarios: dict) -> list[str]:
    """Each target of the issue against this run's figure, met or missed by how much."""
    rows = []
    storm = scenarios.get("storm")
    if storm:
        best_row = _best_configuration(storm)
        best = best_row["best"] if best_row else None
        by_target = {row["target"]: row["best"] for row in storm}
        rate = best["achieved_rate"] if best else None
        label = best_row["target"] if best_row else "no configuration held p99 ≤ 100 ms"
        rows.append(
            [
                f"storm: changes/s at p99 ≤ {TARGET_P99_MS} ms, nothing lost ({label})",
                "≥ 100",
                rate,
                _verdict(rate, 100, at_most=False),
            ]
        )
        p50 = best["latency_ms"]["p50"] if best else None
        rows.append(["storm: p50 at that rate", "≤ 10 ms", p50, _verdict(p50, 10, at_most=True)])
        ceiling, peer = by_target.get("ceiling"), by_target.get("peer")
        if ceiling and best:
            share = best["delivered_per_second"] / ceiling["delivered_per_second"]
            rows.append(
                [
                    "storm: delivered msgs/s vs the ceiling's",
                    "≥ 50 %",
                    f"{share:.0%}",
                    _verdict(share, 0.5, at_most=False),
                ]
            )
        if "peer" in by_target and best:
            if peer:
                ratio = best["achieved_rate"] / peer["achieved_rate"]
                rows.append(
                    ["storm: held rate vs the peer's", "≥ 1.0×", f"{ratio:.2f}×", _verdict(ratio, 1.0, at_most=False)]
                )
            else:
                rows.append(
                    [
                        "storm: held rate vs the peer's",
                        "≥ 1.0×",
                        f"{rate} changes/s; the peer held none of the rates tried",
                        "met",
                    ]
                )
    for row in scenarios.get("fanout", []):
        if row["target"].startswith("zora"):
            for figures in row["rows"]:
                if figures["sockets"] == 1000:
                    for kind in ("broadcast", "change"):
                        value = figures[f"{kind}_last_ms"]
                        rows.append(
                            [
                                f"fan-out to 1,000 ({row['target']}, {kind}): last socket",
                                "≤ 100 ms",
                                value,
                                _verdict(value, 100, at_most=True),
                            ]
                        )
    for row in scenarios.get("idle", []):
        if row["target"].startswith("zora"):
            rows.append(
                [
                    f"{row['sockets']} idle sockets ({row['target']}): RSS MB",
                    "< 1024 (at 5,000)",
                    row["server_rss_mb"],
                    _verdict(row["server_rss_mb"], 1024, at_most=True),
                ]
            )
            rows.append(
                [
                    f"{row['sockets']} idle sockets ({row['target']}): CPU % of a core",
                    "< 10 (at 5,000)",
                    row["server_cpu_percent"],
                    _verdict(row["server_cpu_percent"], 10, at_most=True),
                ]
            )
    if not rows:
        return []
    return ["### Targets", ""] + _table(["target", "goal", "this run", "verdict"], rows)


SECTIONS = {"storm": _storm, "fanout": _fanout, "idle": _idle, "reconnect": _reconnect, "api": _api}


def results_markdown(results: dict) -> str:
    machine = results["machine"]
    lines = [
        f"Profile **{results['profile']}**, run {results['date']} on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gb']} GB RAM, {machine['os']}, Python {machine['python']}"
        + (f", {machine['postgresql']}" if machine.get("postgresql") else "")
        + ".",
        "",
        "Population: " + ", ".join(f"{count} {role}" for role, count in results["population"].items()) + ".",
        "",
    ]
    lines += _targets(results["scenarios"])
    for name, render_section in SECTIONS.items():
        if name in results["scenarios"]:
            lines += render_section(results["scenarios"][name])
    return "\n".join(lines)


def render(document: str, results: dict) -> str:
    """The document with its results section replaced (appended when it has none yet)."""
    section = f"{BEGIN}\n\n{results_markdown(results)}\n{END}"
    if BEGIN in document and END in document:
        before, rest = document.split(BEGIN, 1)
        return before + section + rest.split(END, 1)[1]
    return (document.rstrip() + "\n\n" if document.strip() else "") + section + "\n"
