"""Which change events a socket has passed on, per audience group.

An event reaches a socket once per audience group the socket is in (an order
is in the customer's, the vendor's and the staff group), again when the relay's
sweep re-publishes it, and again when a repair reads it back from the outbox.
The ledger lets each event through once, and tells the consumer when a
group's `prev_seq` chain has a hole that the channel layer dropped.
"""

from dataclasses import dataclass, field

# Copies of one event through different groups arrive back to back, so a few
# thousand recent seqs catch them; older ones are judged by the group cursors.
RECENT_WINDOW = 4096


@dataclass
class _GroupCursor:
    # Events of the group up to `joined_at` were never owed to this socket.
    joined_at: int
    # Every event of the group in (joined_at, last_seen] has been handled.
    last_seen: int


@dataclass
class DeliveryLedger:
    cursors: dict[str, _GroupCursor] = field(default_factory=dict)
    _recent: set[int] = field(default_factory=set)
    _highest: int = 0

    def add_group(self, group: str, *, baseline: int) -> None:
        self.cursors[group] = _GroupCursor(joined_at=baseline, last_seen=baseline)

    def remove_group(self, group: str) -> None:
        self.cursors.pop(group, None)

    def last_seen(self, group: str) -> int:
        return self.cursors[group].last_seen

    def is_stale(self, group: str, seq: int) -> bool:
        """Already handled through this group (a re-publish), or from before the socket joined it."""
        cursor = self.cursors.get(group)
        return cursor is None or seq <= cursor.last_seen

    def has_gap(self, group: str, prev_seq: int | None) -> bool:
        return prev_seq is not None and prev_seq > self.cursors[group].last_seen

    def advance(self, group: str, seq: int) -> None:
        cursor = self.cursors[group]
        cursor.last_seen = max(cursor.last_seen, seq)

    def claim(self, seq: int, *, audience: frozenset[str] | None = None) -> bool:
        """True the first time `seq` is offered; `audience` (known for events read back
        from the outbox) lets an old event be recognised as handled through another group."""
        if seq in self._recent:
            return False
        if audience is not None and any(
            cursor.joined_at < seq <= cursor.last_seen for group, cursor in self.cursors.items() if group in audience
        ):
            return False
        self._recent.add(seq)
        if seq > self._highest:
            self._highest = seq
            if len(self._recent) > 2 * RECENT_WINDOW:
                floor = self._highest - RECENT_WINDOW
                self._recent = {recent for recent in self._recent if recent > floor}
        return True
