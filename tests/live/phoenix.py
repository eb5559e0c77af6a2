"""A minimal Phoenix-protocol socket (vsn 1.0.0 JSON frames) for tests that need what
realtime-js hides: every frame's `seq`, `config.since` at join, an abrupt close or cut.
"""

import itertools
import json
import socket
import struct
import threading
from contextlib import ExitStack
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.live.inbox import Inbox

JOIN_TIMEOUT = 10.0


class PhoenixSocket:
    def __init__(self, *, name: str, websocket_url: str, apikey: str | None, headers: dict[str, str] | None = None):
        """`apikey=None` sends none (a portal page's socket, signed in by its cookie); `headers` adds
        request headers such as a browser's Origin and Cookie."""
        self.name = name
        self.inbox = Inbox(name)
        self.closed = threading.Event()
        self._refs = itertools.count(1)
        query = urlencode({"vsn": "1.0.0"} if apikey is None else {"apikey": apikey, "vsn": "1.0.0"})
        self._exit_stack = ExitStack()
        self._connection = self._exit_stack.enter_context(
            connect(f"{websocket_url}?{query}", open_timeout=10, max_size=None, additional_headers=headers)
        )
        self._reader = threading.Thread(target=self._read, name=f"{name}-reader", daemon=True)
        self._reader.start()

    def _read(self):
        try:
            for frame in self._connection:
                self.inbox.put(json.loads(frame))
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def push(self, topic: str, event: str, payload: dict) -> str:
        ref = str(next(self._refs))
        frame = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": ref}
        self._connection.send(json.dumps(frame))
        return ref

    def join(self, name: str, *, postgres_changes=(), since=None) -> dict:
        """Joins `realtime:<name>` and returns the join reply's payload; raises if refused."""
        config = {
            "broadcast": {"self": False, "ack": False},
            "presence": {"key": "", "enabled": False},
            "postgres_changes": list(postgres_changes),
            "private": False,
        }
        if since is not None:
            config["since"] = since
        topic = f"realtime:{name}"
        ref = self.push(topic, "phx_join", {"config": config})
        reply = self.inbox.take_one(
            lambda m: m["event"] == "phx_reply" and m["ref"] == ref, JOIN_TIMEOUT, f"join reply on {topic}"
        )["payload"]
        assert reply["status"] == "ok", f"{self.name}: joining {topic} was refused: {reply}"
        return reply["response"]

    def changes(self, count: int, timeout: float) -> list[dict]:
        """The `data` of the next `count` postgres_changes frames."""
        frames = self.inbox.take(lambda m: m["event"] == "postgres_changes", count, timeout, "postgres_changes")
        return [frame["payload"]["data"] for frame in frames]

    def changes_until_quiet(self, count: int, timeout: float, quiet_for: float = 0.5) -> list[dict]:
        """Up to `count` changes within `timeout`, then whatever else arrives: everything a socket
        got, for tests that compare it whole with what it was owed."""
        try:
            received = self.changes(count, timeout)
        except AssertionError:
            received = []
        return received + self.remaining_changes(quiet_for)

    def remaining_changes(self, quiet_for: float) -> list[dict]:
        frames = self.inbox.drain(lambda m: m["event"] == "postgres_changes", quiet_for)
        return [frame["payload"]["data"] for frame in frames]

    def close_frame(self, timeout: float) -> tuple[int | None, str]:
        """The code and reason the server closed the socket with."""
        assert self.closed.wait(timeout), f"{self.name}: the server did not close the socket"
        return self._connection.close_code, self._connection.close_reason

    def cut(self, *, reset: bool):
        """Drops the connection without a close frame: with a TCP reset (a phone's network gone and back),
        or with a bare FIN (an app killed)."""
        if reset:
            self._connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._connection.close_socket()
        assert self.closed.wait(5), f"{self.name}: the reader did not notice the cut"

    def close(self):
        self._exit_stack.close()
        self._reader.join(timeout=5)

    def report(self) -> str:
        transcript = self.inbox.transcript()
        return f"{len(self.inbox.history)} frames received; the last:\n{transcript}"
