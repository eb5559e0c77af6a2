"""The processes a scenario runs: servers under test, load generators, the writer, and their CPU/RSS."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


@dataclass(frozen=True)
class Services:
    """Where PostgreSQL and Redis are: the throwaway pair bench/run.sh starts, or the test suite's."""

    database_url: str
    redis_url: str


@dataclass(frozen=True)
class Target:
    """What serves the sockets: Zora in one configuration, the peer, or the ceiling."""

    kind: str  # zora | peer | ceiling
    server: str = "daphne"  # daphne | uvicorn
    layer: str = "pubsub"  # pubsub (Zora's default) | core
    processes: int = 1

    @property
    def label(self) -> str:
        if self.kind != "zora":
            return self.kind
        return f"zora {self.server} {self.layer} ×{self.processes}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(services: Services, target: Target | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_NAME"}
    env.update(
        DATABASE_URL=services.database_url,
        REDIS_URL=services.redis_url,
        CHANNEL_LAYER=target.layer if target else "pubsub",
        DJANGO_SETTINGS_MODULE="bench.peer.settings" if target and target.kind == "peer" else "zora.settings",
        # The API scenario measures the server, not the per-user write throttle.
        THROTTLE_WRITES="1000000/min",
        PYTHONPATH=str(ROOT),
    )
    return env


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not listen within {timeout:g} s")


def _server_command(target: Target, port: int) -> list[str]:
    if target.kind == "ceiling":
        return [PYTHON, "-m", "bench.ceiling", "--port", str(port)]
    app = "bench.peer.asgi:application" if target.kind == "peer" else "zora.asgi:application"
    if target.server == "uvicorn":
        return [
            str(BIN / "uvicorn"),
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
            "--ws-ping-interval",
            "0",
        ]
    # Access logs off on both servers: a line per request is not what is measured.
    return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "--ping-interval", "600", "-v", "0", app]


@dataclass
class Servers:
    target: Target
    ports: list[int]
    processes: list[subprocess.Popen]

    def websocket_url(self, index: int, query: str) -> str:
        port = self.ports[index % len(self.ports)]
        path = {"zora": "/realtime/v1/websocket", "peer": "/peer/", "ceiling": "/"}[self.target.kind]
        return f"ws://127.0.0.1:{port}{path}?{query}"

    @property
    def publish_url(self) -> str:
        """The ceiling's publisher endpoint (the writer sends it the frames to forward)."""
        return f"ws://127.0.0.1:{self.ports[0]}/publish"

    @property
    def base_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_servers(target: Target, services: Services, log_dir: Path) -> Servers:
    servers = Servers(target, [], [])
    try:
        for index in range(target.processes):
            port = free_port()
            log = open(log_dir / f"{target.label.replace(' ', '_')}-{index}.log", "ab")
            process = subprocess.Popen(
                _server_command(target, port), cwd=ROOT, env=child_env(services, target), stdout=log, stderr=log
            )
            servers.ports.append(port)
            servers.processes.append(process)
            _wait_for_port(port, process)
    except Exception:
        servers.stop()
        raise
    return servers


@dataclass
class Usage:
    """Server CPU (share of one core) and peak RSS over a measured window, sampled with psutil."""

    pids: list[int]
    interval: float = 0.25
    peak_rss: int = 0
    cpu_percent: float = 0.0
    _cpu_start: float = 0.0
    _started: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _processes(self):
        return [psutil.Process(pid) for pid in self.pids]

    def rss(self) -> int:
        return sum(process.memory_info().rss for process in self._processes())

    def _cpu(self) -> float:
        return sum(sum(process.cpu_times()[:2]) for process in self._processes())

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_rss = max(self.peak_rss, self.rss())

    def __enter__(self):
        self._cpu_start, self._started, self.peak_rss = self._cpu(), time.time(), self.rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.cpu_percent = 100 * (self._cpu() - self._cpu_start) / max(time.time() - self._started, 1e-9)
        self.peak_rss = max(self.peak_rss, self.rss())
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict:
        return {"server_cpu_percent": round(self.cpu_percent, 1), "server_rss_mb": round(self.peak_rss / 2**20, 1)}


class LoadGenerator:
    """One bench/loadgen.py process, driven line by line over its stdin/stdout."""

    def __init__(self, specs: list[tuple[int, dict]], work_dir: Path, name: str, services: Services):
        self.plan_path = work_dir / f"{name}-plan.json"
        self.out_path = work_dir / f"{name}-result.json"
        self.plan_path.write_text(json.dumps({"sockets": specs}))
        self.process = subprocess.Popen(
            [PYTHON, "-m", "bench.loadgen", "--plan", str(self.plan_path), "--out", str(self.out_path)],
            cwd=ROOT,
            env=child_env(services),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def expect(self, word: str) -> str:
        line = self.process.stdout.readline().strip()
        if not line.startswith(word):
            self.process.kill()
            raise RuntimeError(f"load generator said {line!r} instead of {word!r} (exit {self.process.poll()})")
        return line

    def command(self, word: str) -> None:
        self.process.stdin.write(word + "\n")
        self.process.stdin.flush()

    def received(self) -> int:
        self.command("count")
        return int(self.expect("count").split()[1])

    def finish(self) -> dict:
        self.command("stop")
        self.expect("done")
        self.process.wait(timeout=60)
        return json.loads(self.out_path.read_text())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_writer(
    services: Services,
    target: Target,
    work_dir: Path,
    population_path: Path,
    *,
    ceiling_url: str,
    action: str = "storm",
    rate: float = 0.0,
    changes: int = 0,
    writers: int = 1,
) -> dict:
    """Writer processes run to completion side by side; their output is the changes with their commit times.

    Each writer is one thread of services calls, as one API worker would be,
    so a rate past what one can commit needs several: `rate` and `changes`
    are totals, shared between them.
    """
    command = [PYTHON, "-m", "bench.writer", "--population", str(population_path), "--action", action]
    if target.kind == "ceiling":
        command += ["--driver", "ceiling", "--ceiling-url", ceiling_url]
    runs = []
    for shard in range(writers):
        out_path = work_dir / f"writer-result-{shard}.json"
        share = changes // writers + (1 if shard < changes % writers else 0)
        shard_command = command + [
            "--out",
            str(out_path),
            "--shard",
            str(shard),
            "--shards",
            str(writers),
            "--rate",
            str(rate / writers),
            "--changes",
            str(share),
        ]
        process = subprocess.Popen(shard_command, cwd=ROOT, env=child_env(services, target), stdout=subprocess.DEVNULL)
        runs.append((process, out_path))
    results = []
    for process, out_path in runs:
        if process.wait() != 0:
            raise subprocess.CalledProcessError(process.returncode, process.args)
        results.append(json.loads(out_path.read_text()))
    if len(results) == 1:
        return results[0]
    changes_made = sorted((change for result in results for change in result["changes"]), key=lambda change: change[4])
    elapsed = max(result["elapsed"] for result in results)
    return {"changes": changes_made, "elapsed": elapsed, "achieved_rate": len(changes_made) / elapsed}
