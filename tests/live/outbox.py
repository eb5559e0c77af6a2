"""Waiting for the relay before a test lists the events a socket is owed."""

import time

from realtime.models import Event


def wait_until_numbered(timeout: float = 10.0) -> None:
    """A commit made while another process held the relay is numbered by that holder moments
    later, so a test that lists what is owed right after its writes waits for the numbering."""
    deadline = time.monotonic() + timeout
    while Event.objects.filter(seq__isnull=True).exists():
        assert time.monotonic() < deadline, f"events still unnumbered after {timeout}s: the relay is stuck"
        time.sleep(0.05)
