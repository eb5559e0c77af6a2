"""A real @supabase/realtime-js client running under Node, driven from pytest.

tests/realtime_js/client.mjs prints one JSON line per callback the client
fires and takes commands on stdin; this wraps it with bounded waits.
"""

import itertools
import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from tests.live.inbox import Inbox

TESTS_DIR = Path(__file__).resolve().parents[1]
DRIVER = TESTS_DIR / "realtime_js" / "client.mjs"
PACKAGES = ("v1", "v2")  # realtime-js 2.15.6 (vsn 1.0.0) and 2.109.0 (vsn 2.0.0)
START_TIMEOUT = 10.0
COMMAND_TIMEOUT = 10.0


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node 20 is needed for the realtime-js tests (make test installs it)")
    if not (TESTS_DIR / "node_modules" / "realtime-js-v2").is_dir():
        raise RuntimeError("run `npm ci` in tests/ first (make test does)")
    return node


class NodeRealtimeClient:
    """One Node process holding one RealtimeClient (one socket) and its channels."""

    def __init__(self, *, name: str, package: str, url: str, apikey: str, access_token=None, channels=()):
        scenario = {"package": package, "url": url, "apikey": apikey, "channels": list(channels)}
        if access_token:
            scenario["access_token"] = access_token
        self.name = name
        self.inbox = Inbox(name)
        self._ids = itertools.count(1)
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            self.command_line(scenario),
            cwd=TESTS_DIR,
            env=self.environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
        self._reader.start()
        try:
            ready = self.inbox.take_one(lambda m: m["type"] == "ready", START_TIMEOUT, "ready line")
        except AssertionError as exc:
            self.close()
            raise RuntimeError(f"{name}: the client did not start\n{self.report()}") from exc
        self.vsn = ready["vsn"]  # the serializer the client negotiated in its socket URL

    def command_line(self, scenario: dict) -> list[str]:
        return [node_executable(), str(DRIVER), json.dumps(scenario)]

    def environment(self) -> dict[str, str] | None:
        return None  # the test's own

    def _read(self):
        for line in self._process.stdout:
            try:
                self.inbox.put(json.loads(line))
            except json.JSONDecodeError:
                self.inbox.put({"type": "unparsed", "line": line})

    # -- commands -----------------------------------------------------------
    def command(self, op: str, timeout: float = COMMAND_TIMEOUT, **arguments):
        command_id = next(self._ids)
        self._process.stdin.write(json.dumps({"id": command_id, "op": op, **arguments}) + "\n")
        self._process.stdin.flush()
        reply = self.inbox.take_one(lambda m: m["type"] == "reply" and m["id"] == command_id, timeout, f"reply to {op}")
        assert reply["ok"], f"{self.name}: {op} failed: {reply['error']}"
        return reply["result"]

    def broadcast(self, channel: str, event: str, payload: dict):
        return self.command("broadcast", channel=channel, event=event, payload=payload)

    def track(self, channel: str, payload: dict):
        return self.command("track", channel=channel, payload=payload)

    def set_auth(self, token: str):
        return self.command("set_auth", token=token)

    def leave(self, channel: str):
        return self.command("leave", channel=channel)

    # -- waits --------------------------------------------------------------
    def wait_subscribed(self, channel: str, timeout: float = 10.0):
        status = self.inbox.take_one(
            lambda m: m["type"] == "status" and m["channel"] == channel, timeout, f"status of {channel}"
        )
        assert status["status"] == "SUBSCRIBED", f"{self.name}: {channel} is {status}"

    def changes(self, channel: str, count: int, timeout: float = 10.0) -> list[dict]:
        """The next `count` postgres_changes payloads (eventType, new, old, ...) on `channel`."""
        return [
            message["payload"]
            for message in self.inbox.take(
                lambda m: m["type"] == "postgres_changes" and m["channel"] == channel,
                count,
                timeout,
                f"postgres_changes on {channel}",
            )
        ]

    def assert_no_changes(self, channel: str, within: float):
        self.inbox.assert_none(
            lambda m: m["type"] == "postgres_changes" and m["channel"] == channel,
            within,
            f"postgres_changes on {channel}",
        )

    def broadcasts(self, channel: str, count: int, timeout: float = 10.0) -> list[dict]:
        return [
            message["message"]
            for message in self.inbox.take(
                lambda m: m["type"] == "broadcast" and m["channel"] == channel, count, timeout, "broadcasts"
            )
        ]

    def presence_event(self, channel: str, event: str, key: str, timeout: float = 10.0) -> dict:
        """The next presence `join` or `leave` of `key` on `channel`."""
        return self.inbox.take_one(
            lambda m: m["type"] == "presence" and m["channel"] == channel and m["event"] == event and m["key"] == key,
            timeout,
            f"presence {event} of {key} on {channel}",
        )

    def presence_synced_to(self, channel: str, keys: set[str], timeout: float = 10.0) -> dict:
        """Waits for a presence sync whose state holds exactly `keys`, and returns that state."""
        return self.inbox.take_one(
            lambda m: (
                m["type"] == "presence" and m["channel"] == channel and m["event"] == "sync" and set(m["state"]) == keys
            ),
            timeout,
            f"presence sync of {sorted(keys)} on {channel}",
        )["state"]

    # -- lifecycle ----------------------------------------------------------
    def close(self):
        if self._process.poll() is None:
            try:
                self._process.stdin.write(json.dumps({"id": 0, "op": "exit"}) + "\n")
                self._process.stdin.close()
                self._process.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait(timeout=3)
        self._reader.join(timeout=3)

    def report(self) -> str:
        self._stderr.seek(0)
        stderr = self._stderr.read().decode(errors="replace")
        transcript = self.inbox.transcript()
        return f"{len(self.inbox.history)} callbacks; the last:\n{transcript}\nstderr:\n{stderr[-5000:]}"
