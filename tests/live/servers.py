"""Real daphne server processes for the live tests.

Each server is a separate `daphne zora.asgi:application` process on a free
loopback port, pointed at the pytest-django test database and the test Redis,
so the tests reach it only through its doors: HTTP and the WebSocket.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests
from prometheus_client.parser import text_string_to_metric_families

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
# What the servers' METRICS_TOKEN is set to (tests/live/plugin.py), so metric() may scrape.
METRICS_TOKEN = "live-tests-metrics-token"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL of the database Django is connected to (the test database once it is set up)."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


class LiveServer:
    """One daphne process. Its stderr goes to a file so a chatty server can never block on a full pipe."""

    def __init__(self, *, env: dict[str, str], name: str):
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # realtime-js appends "/websocket" to the endpoint it is given.
        self.realtime_url = f"ws://127.0.0.1:{self.port}/realtime/v1"
        self.websocket_url = f"{self.realtime_url}/websocket"
        self._env = env
        self._log = tempfile.NamedTemporaryFile(prefix=f"zora-{name}-", suffix=".log", delete=False)
        self._process: subprocess.Popen | None = None

    def start(self) -> "LiveServer":
        self._process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "zora.asgi:application"],
            cwd=PROJECT_ROOT,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode} at start-up:\n{self.log()}")
            try:
                response = requests.get(f"{self.base_url}/healthz", timeout=2)
                if response.status_code == 200:
                    return
                last_problem = f"/healthz answered {response.status_code}: {response.text[:500]}"
            except requests.RequestException as exc:
                last_problem = str(exc)
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not healthy after {STARTUP_TIMEOUT}s ({last_problem}):\n{self.log()}")

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self):
        """SIGKILL: the process gets no chance to finish anything, like a crashed machine."""
        if self.running:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT)

    def stop(self):
        if not self.running:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self, since: int = 0) -> str:
        if not os.path.exists(self._log.name):
            return f"({self.name}'s log is gone: the server was closed before the report)"
        with open(self._log.name, "rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return os.path.getsize(self._log.name)

    def close(self):
        self.stop()
        self._log.close()
        os.unlink(self._log.name)

    def metric(self, name: str) -> float:
        """One sample of /metrics (summed over its labels): each process counts its own."""
        response = requests.get(
            f"{self.base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
        )
        response.raise_for_status()
        samples = [
            sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == name
        ]
        if not samples:
            raise AssertionError(f"{name} is not in {self.name}'s /metrics")
        return sum(samples)

    def __repr__(self):
        return f"<LiveServer {self.name} {self.base_url}>"
