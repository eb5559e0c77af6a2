"""The outbox as the live tests read it: waiting for the relay, and what each client is owed."""

import time

from realtime.models import Event
from realtime.policies import PUBLIC, groups_for_user


def wait_until_numbered(timeout: float = 10.0) -> None:
    """A commit made while another process held the relay is numbered by that holder moments
    later, so a test that lists what is owed right after its writes waits for the numbering."""
    deadline = time.monotonic() + timeout
    while Event.objects.filter(seq__isnull=True).exists():
        assert time.monotonic() < deadline, f"events still unnumbered after {timeout}s: the relay is stuck"
        time.sleep(0.05)


def owed_events(actor, bindings: list[dict], *, after: int) -> list[Event]:
    """The committed events after `after` that the actor's groups may read and one of its bindings asks for."""
    groups = groups_for_user(actor.user) if actor.user else frozenset({PUBLIC})
    owed = []
    for event in Event.objects.filter(seq__gt=after).order_by("seq"):
        row = event.record or event.old_record
        if groups.isdisjoint(event.audience):
            continue
        if any(spec["table"] == event.table and matches(spec.get("filter"), row) for spec in bindings):
            owed.append(event)
    return owed


def matches(filter_: str | None, row: dict) -> bool:
    """The `column=eq.value` filters the live tests use."""
    if filter_ is None:
        return True
    column, value = filter_.split("=eq.")
    return str(row[column]) == value
