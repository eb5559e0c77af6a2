"""Timed changes: acceptance deadlines, pauses that end, stock that comes back.

A timed change is a due time stored on its row (an order's acceptance
deadline, a shop's pause end, a product's "out of stock until"), so it
survives a restart and needs no queue. Each app lists the sweeps that apply
its due changes in a `timed.py` module with `@timed_change(every=...)`.

Every server process runs APScheduler's background scheduler with one
interval job per sweep (coalesced, never two runs of one job at once), so
the embedded default needs no extra process. A sweep only finds due rows;
the service it calls locks each row (`skip_locked` on PostgreSQL), checks
that the change is still due and applies it in one transaction, so each
change happens once however many processes sweep, and emits its events
like any other write. APScheduler instead of the relay's own asyncio loop:
it brings coalescing of missed runs, one instance per job and clean
shutdown, and sweeps are sync ORM work that belongs on a thread, not on the
event loop. `manage.py run_timed_changes` runs them from a shell or cron.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimedChange:
    name: str
    every_seconds: float
    sweep: Callable[..., int]


_registry: dict[str, TimedChange] = {}
_started_lock = threading.Lock()
_scheduler = None


def timed_change(*, every: float):
    """Registers `sweep(now) -> number of changes applied` to run every `every` seconds in each process."""

    def register(sweep):
        name = f"{sweep.__module__}.{sweep.__qualname__}"
        _registry[name] = TimedChange(name=name, every_seconds=every, sweep=sweep)
        return sweep

    return register


def registered_timed_changes() -> list[TimedChange]:
    autodiscover_modules("timed")
    return sorted(_registry.values(), key=lambda change: change.name)


def run_timed_change(change: TimedChange, now=None) -> int:
    """One sweep on this thread; a failure is logged and retried at the next interval."""
    close_old_connections()
    try:
        return change.sweep(now or timezone.now())
    except Exception:
        logger.exception("timed change %s failed", change.name)
        return 0
    finally:
        close_old_connections()


def run_all_timed_changes(now=None) -> dict[str, int]:
    return {change.name: run_timed_change(change, now) for change in registered_timed_changes()}


def start_scheduler() -> None:
    """Starts this process's scheduler once; a no-op when TIMED_CHANGES_ENABLED is off."""
    global _scheduler
    if not settings.TIMED_CHANGES_ENABLED:
        return
    with _started_lock:
        if _scheduler is not None:
            return
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=settings.TIME_ZONE,
        )
        for change in registered_timed_changes():
            every = min(change.every_seconds, settings.TIMED_CHANGES_MAX_INTERVAL_SECONDS)
            scheduler.add_job(run_timed_change, "interval", seconds=every, args=[change], id=change.name)
        scheduler.start()
        _scheduler = scheduler
