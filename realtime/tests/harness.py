"""Threads with their own database sessions, standing in for concurrent requests and processes."""

import threading
from contextlib import contextmanager

from django.db import connection

from realtime.relay import relay_lock


def in_thread(target, *args):
    """Starts `target` in a thread with its own database session; `join` re-raises its failure."""
    errors = []

    def run():
        try:
            target(*args)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def join(*started):
    for thread, errors in started:
        thread.join(30)
        assert not thread.is_alive(), "a worker thread hung"
        if errors:
            raise errors[0]


@contextmanager
def relay_held_elsewhere():
    """Another process's relay holds the lock: commits made meanwhile leave their rows unnumbered."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with relay_lock() as acquired:
            assert acquired
            held.set()
            release.wait(30)

    started = in_thread(hold)
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        join(started)
