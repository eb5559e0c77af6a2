"""Threads with their own database sessions, standing in for concurrent requests and processes."""

import copy
import threading
from contextlib import contextmanager

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from realtime import relay
from realtime.models import Event
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


def lost_in_the_channel_layer(**fields) -> int:
    """An event the relay numbered and sent to `rt.events`, but the channel layer dropped:
    only the outbox has it. Returns its seq."""
    event = Event.objects.create(**fields)
    relay._number_batch(relay.BATCH_SIZE)
    event.refresh_from_db()
    event.published_at = timezone.now()
    event.save(update_fields=["published_at"])
    return event.seq


def kill_channel_layer_reads() -> int:
    """Cuts the Redis connections this database's channel layer reads from, as a Redis restart would:
    the core layer's blocking pops (the receive waiting on each fails) or the pub/sub layer's
    subscriber connection (it reconnects; what was published meanwhile is lost). Returns how many."""
    store = redis.Redis.from_url(settings.REDIS_URL)
    database = str(store.connection_pool.connection_kwargs.get("db", 0))
    reading = [
        client["id"]
        for client in store.client_list()
        if client["db"] == database and ("pop" in client["cmd"] or "P" in client["flags"])
    ]
    for client_id in reading:
        store.client_kill_filter(_id=client_id)
    return len(reading)


def channel_layers_of_kind(kind: str) -> dict:
    """The CHANNEL_LAYERS setting with Zora's `core` or `pubsub` layer, for tests of one layer's failures.
    The rest of the config carries over: each layer ignores the other's options (capacity, prefix)."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["BACKEND"] = settings.CHANNEL_LAYER_BACKENDS[kind]
    return layers
