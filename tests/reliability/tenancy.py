"""The isolation run's oracle: private text that may only reach its audience, the shops'
suspensions over time, and what each socket channel is owed.

Everything private the run writes carries a secret: a word like `zq3fa9c01b2d`, registered with
the parties who may read it (a customer, a shop's team; platform admins read everything). Every
API answer and every socket frame is searched for secrets and order numbers, so a leak is caught
wherever it hides: a row, a nested object, a count's neighbour, an error message.
"""

import re
from dataclasses import dataclass, field

from orders.models import Order
from realtime.models import Event
from tests.live.visibility import Reader, may_see

SECRET = re.compile(r"zq[0-9a-f]{10}")
ORDER_NUMBER = re.compile(r"ZR-[2-9A-HJ-NP-TW-Z]{8}")


@dataclass(frozen=True)
class Audience:
    """Who may read a piece of private text besides the platform team."""

    users: frozenset[int] = frozenset()
    vendors: frozenset[int] = frozenset()

    def admits(self, reader: Reader) -> bool:
        return reader.is_admin or reader.user_id in self.users or bool(self.vendors & reader.vendor_ids)


def audience(*, users=(), vendors=()) -> Audience:
    return Audience(frozenset(users), frozenset(vendors))


class Secrets:
    def __init__(self, rng):
        self._rng = rng
        self._audiences: dict[str, Audience] = {}
        self._order_audiences: dict[str, Audience] = {}

    def new(self, owners: Audience) -> str:
        secret = f"zq{self._rng.getrandbits(40):010x}"
        self._audiences[secret] = owners
        return secret

    def _order_audience(self, number: str) -> Audience:
        if number not in self._order_audiences:
            parties = Order.objects.filter(number=number).values_list("customer_id", "vendor_id").first()
            assert parties is not None, f"{number} looks like an order number but names no order"
            self._order_audiences[number] = audience(users=[parties[0]], vendors=[parties[1]])
        return self._order_audiences[number]

    def describe(self, leaked: list[str], text: str) -> str:
        """Each leaked word, whose it is and where it appeared: enough to find the door it came through."""
        lines = []
        for word in leaked:
            at = text.index(word)
            owners = self._audiences.get(word) or self._order_audience(word)
            lines.append(f"{word} (readable by {owners}) in …{text[max(0, at - 300) : at + 100]}…")
        return "\n".join(lines)

    def leaks(self, text: str, readers: list[Reader]) -> list[str]:
        """The secrets and order numbers in `text` that none of `readers` may read."""
        found = []
        for secret in set(SECRET.findall(text)):
            assert secret in self._audiences, f"{secret} was never handed out"
            if not any(self._audiences[secret].admits(reader) for reader in readers):
                found.append(secret)
        for number in set(ORDER_NUMBER.findall(text)):
            if not any(self._order_audience(number).admits(reader) for reader in readers):
                found.append(number)
        return found


@dataclass
class Suspensions:
    """Which shops are suspended in each period of the run; a period starts at each change."""

    periods: list[frozenset[int]] = field(default_factory=lambda: [frozenset()])

    @property
    def current(self) -> int:
        return len(self.periods) - 1

    @property
    def suspended(self) -> frozenset[int]:
        return self.periods[-1]

    def change(self, vendor_id: int, *, suspended: bool):
        shops = set(self.periods[-1])
        (shops.add if suspended else shops.discard)(vendor_id)
        self.periods.append(frozenset(shops))


# Socket bindings --------------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def filter_matches(filter_: str | None, row: dict) -> bool:
    """The `column=eq|neq|in.value` filters the run subscribes with; NULL matches nothing, as in SQL."""
    if filter_ is None:
        return True
    column, rest = filter_.split("=", 1)
    operator, literal = rest.split(".", 1)
    value = _text(row.get(column))
    if value is None:
        return False
    if operator == "eq":
        return value == literal
    if operator == "neq":
        return value != literal
    if operator == "in":
        return value in literal.strip("()").split(",")
    raise AssertionError(f"the run does not subscribe with {operator}")


def binding_matches(binding: dict, event: Event) -> bool:
    if binding.get("table") not in (None, event.table):
        return False
    if binding["event"] not in ("*", event.type):
        return False
    row = event.old_record if event.type == "DELETE" else event.record
    return filter_matches(binding.get("filter"), row)


@dataclass(frozen=True)
class Owed:
    seq: int
    table: str
    type: str
    ids: tuple[int, ...]


def owed_to_channel(reader: Reader, bindings: list[tuple[int, dict]], events: list[Event]) -> list[Owed]:
    """For each event the reader may see, the channel's bindings it matches (one frame, all their ids)."""
    owed = []
    for event in events:
        ids = tuple(sorted(binding_id for binding_id, binding in bindings if binding_matches(binding, event)))
        if ids and may_see(reader, event.table, event.record, event.old_record):
            owed.append(Owed(event.seq, event.table, event.type, ids))
    return owed


def received_by_channel(frames: list[dict]) -> list[Owed]:
    return [
        Owed(data["seq"], data["table"], data["type"], tuple(sorted(frame["payload"]["ids"])))
        for frame in frames
        for data in [frame["payload"]["data"]]
    ]
