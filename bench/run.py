"""Zora's benchmarks: `make bench` (quick profile) or `make bench FULL=1`.

bench/run.sh starts a throwaway PostgreSQL and Redis and calls this with
their URLs in the environment; the smoke test calls `run_bench` directly
against the test suite's own servers at the tiny size.
"""

import argparse
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.processes import ROOT, Services, Target
from bench.scenarios import SCENARIOS, Context, Sizes

DEFAULT = Target("zora")
# The textbook way runs on the textbook layer.
PEER = Target("peer", layer="core")
CEILING = Target("ceiling")
ALL_CONFIGURATIONS = [
    Target("zora", server, layer, processes)
    for server in ("daphne", "uvicorn")
    for layer in ("core", "pubsub")
    for processes in (1, 2)
]


@dataclass(frozen=True)
class Profile:
    name: str
    customers: int
    vendors: int
    staff: int
    admins: int
    sizes: Sizes
    # scenario -> the targets it runs against, side by side
    targets: dict[str, list[Target]]


def _targets(storm: list[Target]) -> dict[str, list[Target]]:
    return {
        "storm": storm + [PEER, CEILING],
        "fanout": [DEFAULT, CEILING],
        "idle": [DEFAULT, CEILING],
        "reconnect": [DEFAULT, PEER],
        "api": [DEFAULT, Target("zora", "uvicorn")],
    }


PROFILES = {
    "tiny": Profile(
        "tiny",
        customers=5,
        vendors=2,
        staff=3,
        admins=2,
        sizes=Sizes(
            storm_rates=(10.0,),
            storm_seconds=2,
            fanout_sockets=(10,),
            idle_sockets=10,
            idle_seconds=1,
            reconnect_changes=20,
            reconnect_drain_seconds=1.5,
            api_clients=4,
            api_seconds=2,
            generators=1,
            drain_seconds=1,
        ),
        targets={**_targets([DEFAULT]), "api": [DEFAULT]},
    ),
    "quick": Profile(
        "quick",
        customers=800,
        vendors=50,
        staff=150,
        admins=50,
        sizes=Sizes(
            storm_rates=(25.0, 50.0, 100.0),
            storm_seconds=15,
            fanout_sockets=(1000, 5000),
            idle_sockets=5000,
            idle_seconds=20,
            reconnect_changes=500,
            reconnect_drain_seconds=90,
            api_clients=50,
            api_seconds=20,
            generators=2,
            drain_seconds=3,
        ),
        targets=_targets(
            [DEFAULT, Target("zora", "uvicorn"), Target("zora", layer="core"), Target("zora", processes=2)]
        ),
    ),
    "full": Profile(
        "full",
        customers=800,
        vendors=50,
        staff=150,
        admins=50,
        sizes=Sizes(
            storm_rates=(25.0, 50.0, 75.0, 100.0, 150.0),
            storm_seconds=60,
            fanout_sockets=(1000, 5000),
            idle_sockets=5000,
            idle_seconds=60,
            reconnect_changes=500,
            reconnect_drain_seconds=120,
            api_clients=50,
            api_seconds=60,
            generators=2,
            drain_seconds=5,
        ),
        targets=_targets(ALL_CONFIGURATIONS),
    ),
}


def machine() -> dict:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
        if subprocess.run(["which", "psql"], capture_output=True).returncode == 0
        else "",
    }


def run_bench(profile: Profile, scenarios: list[str], services: Services, work_dir: Path) -> dict:
    """Seeds the population, then runs each scenario against each of its targets."""
    from django.conf import settings

    from bench.members import Size
    from bench.population import seed

    population = seed(Size(profile.customers, profile.vendors, profile.staff, profile.admins))
    population_path = work_dir / "population.json"
    population_path.write_text(json.dumps(population.as_json()))
    context = Context(services, population, population_path, work_dir, settings.REALTIME_PUBLIC_KEY)
    results = {}
    for name in scenarios:
        results[name] = [
            {"target": target.label, "configuration": asdict(target), **SCENARIOS[name](target, context, profile.sizes)}
            for target in profile.targets[name]
        ]
    return {
        "profile": profile.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "population": {
            "customers": profile.customers,
            "vendors": profile.vendors,
            "staff": profile.staff,
            "admins": profile.admins,
        },
        "sizes": asdict(profile.sizes),
        "scenarios": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Zora's benchmarks and write docs/performance.md.")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="repeatable; default: all")
    parser.add_argument("--out", default="docs/performance.md")
    parser.add_argument("--migrate", action="store_true", help="migrate the database first (a fresh one)")
    parser.add_argument("--keep", metavar="DIR", help="keep server logs and raw results in DIR instead of a temp dir")
    arguments = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zora.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if arguments.migrate:
        call_command("migrate", verbosity=0, interactive=False)
    from bench.report import render

    services = Services(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    scenarios = arguments.scenario or list(SCENARIOS)
    if arguments.keep:
        work_dir = Path(arguments.keep).resolve()
        work_dir.mkdir(parents=True, exist_ok=True)
        results = run_bench(PROFILES[arguments.profile], scenarios, services, work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="zora-bench-") as temp_dir:
            results = run_bench(PROFILES[arguments.profile], scenarios, services, Path(temp_dir))
    results_path = ROOT / "bench" / "results" / f"{arguments.profile}.json"
    results_path.parent.mkdir(exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    out_path = ROOT / arguments.out
    out_path.write_text(render(out_path.read_text() if out_path.exists() else "", results))
    print(f"results: {results_path.relative_to(ROOT)}; report: {arguments.out}")


if __name__ == "__main__":
    main()
