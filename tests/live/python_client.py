"""Supabase's own Python client (`realtime` on PyPI, unmodified) against a live server, driven from pytest.

tests/realtime_py/client.py runs it in a process of its own and speaks the line protocol
of the realtime-js driver, so this is the Node wrapper with another command line. It is
a process of its own because the PyPI package is named `realtime`, like Zora's app: it
is installed into tests/realtime_py/packages (scripts/test.sh) and put first on that
process's path only, never where the server or the tests import Zora's `realtime`.
"""

import json
import os
import sys

from tests.live.node_client import TESTS_DIR, NodeRealtimeClient

DRIVER = TESTS_DIR / "realtime_py" / "client.py"
PACKAGES_DIR = TESTS_DIR / "realtime_py" / "packages"


class PythonRealtimeClient(NodeRealtimeClient):
    """One AsyncRealtimeClient (one socket) and its channels, in a Python process of its own."""

    def __init__(self, *, auto_reconnect: bool = True, **options):
        self._auto_reconnect = auto_reconnect
        if not (PACKAGES_DIR / "realtime").is_dir():
            raise RuntimeError(
                f"install the client first: pip install --target {PACKAGES_DIR} "
                f"-r {DRIVER.parent / 'requirements.txt'} (make test does)"
            )
        super().__init__(package="realtime-py", **options)

    def command_line(self, scenario: dict) -> list[str]:
        return [sys.executable, str(DRIVER), json.dumps({**scenario, "auto_reconnect": self._auto_reconnect})]

    def environment(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(PACKAGES_DIR), "PYTHONNOUSERSITE": "1"}

    def subscribe(self, spec: dict):
        """Joins one more channel; its status arrives like those of the first ones."""
        return self.command("subscribe", spec=spec)

    def wait_status(self, channel: str, timeout: float = 10.0) -> dict:
        return self.inbox.take_one(
            lambda m: m["type"] == "status" and m["channel"] == channel, timeout, f"status of {channel}"
        )

    def binding_changes(self, channel: str, binding: int, count: int, timeout: float = 10.0) -> list[dict]:
        """The `data` of the next `count` changes that the `binding`-th binding of `channel` received."""
        return [
            message["payload"]
            for message in self.inbox.take(
                lambda m: m["type"] == "postgres_changes" and m["channel"] == channel and m["binding"] == binding,
                count,
                timeout,
                f"postgres_changes of binding {binding} on {channel}",
            )
        ]

    def assert_understood_every_frame(self):
        """Fails if the client logged a frame that its models refused (it drops those)."""
        self.inbox.assert_none(
            lambda m: m["type"] == "log" and m["message"].startswith("Unrecognized message format"),
            0,
            "frame the client could not parse",
        )
