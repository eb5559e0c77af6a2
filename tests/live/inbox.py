"""Bounded waits on messages that a reader thread collects from a live client.

Every wait has a deadline, so a missing message fails the test with what did
arrive instead of hanging it.
"""

import json
import queue
import time
from collections.abc import Callable

Message = dict
Predicate = Callable[[Message], bool]


class Inbox:
    def __init__(self, name: str):
        self.name = name
        self.history: list[Message] = []  # everything that arrived, for failure reports
        self._arrivals: queue.Queue[Message] = queue.Queue()
        self._unclaimed: list[Message] = []

    def put(self, message: Message):
        self._arrivals.put(message)

    def _pull(self, timeout: float) -> bool:
        try:
            message = self._arrivals.get(timeout=max(timeout, 0))
        except queue.Empty:
            return False
        self.history.append(message)
        self._unclaimed.append(message)
        return True

    def _claim(self, predicate: Predicate, limit: int) -> list[Message]:
        claimed = [message for message in self._unclaimed if predicate(message)][:limit]
        for message in claimed:
            self._unclaimed.remove(message)
        return claimed

    def take(self, predicate: Predicate, count: int, timeout: float, what: str = "messages") -> list[Message]:
        """The first `count` not yet taken messages matching `predicate`, in arrival order."""
        deadline = time.monotonic() + timeout
        taken = self._claim(predicate, count)
        while len(taken) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._unclaimed[:0] = taken  # still there for a caller that wants to see what did come
                raise AssertionError(
                    f"{self.name}: got {len(taken)} of {count} {what} within {timeout}s; "
                    f"the last arrivals were:\n{self.transcript(last=5, width=300)}"
                )
            if self._pull(remaining):
                taken += self._claim(predicate, count - len(taken))
        return taken

    def take_one(self, predicate: Predicate, timeout: float, what: str = "message") -> Message:
        return self.take(predicate, 1, timeout, what)[0]

    def drain(self, predicate: Predicate, quiet_for: float) -> list[Message]:
        """Every not yet taken message matching `predicate` that arrives until none has come for `quiet_for` s."""
        while self._pull(quiet_for):
            pass
        return self._claim(predicate, len(self._unclaimed))

    def transcript(self, last: int = 40, width: int = 400) -> str:
        """The last arrivals, each cut to `width` characters: enough to see what went wrong."""
        while self._pull(0):
            pass
        lines = [json.dumps(message) for message in self.history[-last:]]
        return "\n".join(line if len(line) <= width else line[:width] + " …" for line in lines)

    def assert_none(self, predicate: Predicate, within: float, what: str = "message"):
        """Fails if a matching message arrived before or arrives within the next `within` seconds."""
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            self._pull(remaining)
        unexpected = [message for message in self._unclaimed if predicate(message)]
        assert not unexpected, f"{self.name} got an unexpected {what}: {unexpected[:3]}"
