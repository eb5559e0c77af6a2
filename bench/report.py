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
            table.append([
                row["target"], step["rate"], step["achieved_rate"], latency["p50"], latency["p95"], latency["p99"],
                latency["max"], step["lost"], step["duplicated"], step["out_of_order"], step["delivered_per_second"],
                step["server_cpu_percent"], step["server_rss_mb"],
            ])
    lines += _table(
        ["target", "rate /s", "achieved /s", "p50 ms", "p95 ms", "p99 ms", "max ms", "lost", "dup", "out of order",
         "delivered msgs/s", "server CPU %", "server RSS MB"],
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
        summary.append([
            target, rate, "met" if step else "missed",
            _ratio(rate, peer["achieved_rate"] if peer else None),
            _ratio(delivered, ceiling["delivered_per_second"] if ceiling else None),
        ])
    lost_by_peer = sum(step["lost"] for row in rows if row["target"] == "peer" for step in row["steps"])
    lines += [f"Highest rate holding p99 ≤ {TARGET_P99_MS} ms with nothing lost, per configuration:", ""]
    lines += _table(["configuration", "changes/s", f"p99 ≤ {TARGET_P99_MS} ms", "vs peer", "delivered vs ceiling"], summary)
    lines += [f"The peer lost {lost_by_peer} owed events over its steps.", ""]
    return lines


def _fanout(rows: list[dict]) -> list[str]:
    table = [
        [row["target"], figures["sockets"], figures["broadcast_last_ms"], figures["broadcast_missing"],
         figures["change_last_ms"], figures["change_missing"]]
        for row in rows for figures in row["rows"]
    ]
    return ["### 2. Fan-out", ""] + _table(
        ["target", "sockets", "announcement: last socket ms", "missing", "product change: last socket ms", "missing"], table
    )


def _idle(rows: list[dict]) -> list[str]:
    table = [[row["target"], row["sockets"], row["seconds"], row["server_cpu_percent"], row["server_rss_mb"],
              row["rss_per_socket_kb"]] for row in rows]
    return ["### 3. Idle sockets", ""] + _table(
        ["target", "sockets", "seconds", "server CPU %", "server RSS MB", "RSS per socket KB"], table
    )


def _reconnect(rows: list[dict]) -> list[str]:
    table = [[row["target"], row["sockets"], row["changes"], row["caught_up_ms"], row["lost"], row["duplicated"],
              row["out_of_order"]] for row in rows]
    return ["### 4. Reconnect storm", ""] + _table(
        ["target", "sockets", "changes while away", "all caught up ms", "lost", "dup", "out of order"], table
    )


def _api(rows: list[dict]) -> list[str]:
    lines = ["### 5. API", ""]
    for row in rows:
        lines += [f"{row['target']}: {row['clients']} clients, {row['requests_per_second']} req/s, "
                  f"server CPU {row['server_cpu_percent']} %, RSS {row['server_rss_mb']} MB", ""]
        lines += _table(
            ["operation", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [[name, op["requests"], op["failures"], op["p50"], op["p95"], op["p99"], op["max"]]
             for name, op in row["operations"].items()],
        )
    return lines


SECTIONS = {"storm": _storm, "fanout": _fanout, "idle": _idle, "reconnect": _reconnect, "api": _api}


def results_markdown(results: dict) -> str:
    machine = results["machine"]
    lines = [
        f"Profile **{results['profile']}**, run {results['date']} on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gb']} GB RAM, {machine['os']}, Python {machine['python']}"
        + (f", {machine['postgresql']}" if machine.get("postgresql") else "") + ".",
        "",
        "Population: " + ", ".join(f"{count} {role}" for role, count in results["population"].items()) + ".",
        "",
    ]
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
