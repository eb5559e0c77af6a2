"""Idempotency keys past their window (IDEMPOTENCY_KEY_TTL_HOURS): their stored answers are deleted.

A key older than the window already counts as unused (zora/idempotency.py), so
this sweep only keeps the table small; deleting a record twice is harmless.
"""

from zora.idempotency import idempotent_requests_prune
from zora.scheduling import timed_change


@timed_change(every=600)
def prune_idempotency_keys(now) -> int:
    return idempotent_requests_prune(now=now)
