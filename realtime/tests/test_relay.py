"""The relay against real PostgreSQL commits and a real channels-redis layer:
seqs follow commit order, never repeat or skip, and each event is one message
to the dispatchers' group, in seq order."""

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.test import override_settings

from accounts.models import Notification
from realtime.layer_loop import run_on_layer_loop
from realtime.models import Event, EventGroup
from realtime.relay import EVENTS_GROUP, relay_lock, relay_run, relay_sweep, stream_cursor_announce
from realtime.selectors import events_after, high_water_seq
from realtime.tests.harness import in_thread, join, relay_held_elsewhere
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens on port 1: a channel layer that cannot be reached.
UNREACHABLE_LAYER = {
    "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
}


def _notify(user, title):
    with transaction.atomic():
        return Notification.objects.create(user=user, type="system", title=title)


@pytest.fixture
def layer():
    channel_layer = get_channel_layer()
    # On the loop the relay publishes from: flushing closes every loop's Redis pool, and a pool
    # can only be closed from its own loop.
    run_on_layer_loop(channel_layer.flush)
    yield channel_layer
    run_on_layer_loop(channel_layer.flush)


def _listen(layer):
    """A channel in the group every process's dispatcher listens on, made on the loop the relay
    publishes from: the pub/sub layer keeps its channels per event loop."""
    channel = run_on_layer_loop(layer.new_channel)
    run_on_layer_loop(layer.group_add, EVENTS_GROUP, channel)
    return channel


def _receive_all(layer, channel, expected):
    async def receive():
        return [await layer.receive(channel) for _ in range(expected)]

    async def bounded():
        return await asyncio.wait_for(receive(), 10)

    return run_on_layer_loop(bounded)


def test_each_commit_is_numbered_and_published_at_once():
    user = factories.UserFactory()
    notifications = [_notify(user, f"n{index}") for index in range(5)]
    events = [Event.objects.get(table="notifications", record__id=n.pk) for n in notifications]
    seqs = [event.seq for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert all(event.published_at is not None for event in events)
    assert high_water_seq() == Event.objects.order_by("-seq").first().seq


def test_seqs_are_gapless_from_one():
    user = factories.UserFactory()
    for index in range(10):
        _notify(user, f"n{index}")
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_the_transaction_that_commits_last_gets_the_higher_seq_even_if_it_wrote_first():
    user = factories.UserFactory()
    first_written, second_committed = threading.Event(), threading.Event()
    ids = {}

    def writes_first_commits_last():
        with transaction.atomic():
            ids["early"] = Notification.objects.create(user=user, type="system", title="early writer").pk
            first_written.set()
            assert second_committed.wait(10)

    def writes_second_commits_first():
        assert first_written.wait(10)
        ids["late"] = _notify(user, "late writer").pk

    early = in_thread(writes_first_commits_last)
    late = in_thread(writes_second_commits_first)
    join(late)
    second_committed.set()
    join(early)

    early_event = Event.objects.get(table="notifications", record__id=ids["early"])
    late_event = Event.objects.get(table="notifications", record__id=ids["late"])
    assert early_event.id < late_event.id, "the outbox ids follow write order"
    assert late_event.seq < early_event.seq, "the seqs follow commit order"
    # A client that saw the first delivered event resumes from it and still gets the other one.
    resumed = events_after(groups=[f"user.{user.pk}"], after_seq=late_event.seq)
    assert [event.seq for event in resumed] == [early_event.seq]


def test_racing_relays_number_every_event_exactly_once():
    user = factories.UserFactory()
    with relay_held_elsewhere():
        for index in range(60):
            _notify(user, f"n{index}")
        assert Event.objects.filter(seq__isnull=True).count() >= 60
    baseline = high_water_seq()
    start = threading.Barrier(4)
    published = []

    def race():
        start.wait(10)
        published.append(relay_run(batch_size=7))

    join(*[in_thread(race) for _ in range(4)])

    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert None not in seqs
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(published) == len(seqs) - baseline, "each event was published by exactly one relay"
    assert not Event.objects.filter(published_at__isnull=True).exists()


def test_a_commit_that_finds_the_relay_busy_is_published_by_the_holder():
    user = factories.UserFactory()
    holder_inside, commit_done = threading.Event(), threading.Event()

    def holder():
        with relay_lock() as acquired:
            assert acquired
            holder_inside.set()
            assert commit_done.wait(10)
        # What relay_run does after letting go: look again.
        relay_run()

    started = in_thread(holder)
    assert holder_inside.wait(10)
    notification = _notify(user, "committed while busy")
    event = Event.objects.get(table="notifications", record__id=notification.pk)
    assert event.seq is None, "the committing process left its row to the holder"
    commit_done.set()
    join(started)
    event.refresh_from_db()
    assert event.seq is not None and event.published_at is not None


def test_each_event_is_one_message_in_seq_order_naming_its_audience(layer):
    alice, bob = factories.UserFactory(), factories.UserFactory()
    channel = _listen(layer)
    baseline = high_water_seq()

    _notify(alice, "for alice 1")
    _notify(bob, "for bob")
    product = factories.ProductFactory()
    _notify(alice, "for alice 2")

    events = list(Event.objects.filter(seq__gt=baseline).order_by("seq"))
    messages = _receive_all(layer, channel, len(events))

    assert [message["seq"] for message in messages] == list(range(baseline + 1, baseline + 1 + len(events)))
    assert [message["audience"] for message in messages] == [event.audience for event in events]
    assert all(message["type"] == "realtime.event" for message in messages)
    titles = [message["record"]["title"] for message in messages if message["table"] == "notifications"]
    assert titles == ["for alice 1", "for bob", "for alice 2"]
    (insert,) = [m for m in messages if m["table"] == "products" and m["record"]["id"] == product.pk]
    assert "public" in insert["audience"]

    first = next(message for message in messages if message["table"] == "notifications")
    data = json.loads(first["data"])
    assert data["schema"] == "public" and data["table"] == "notifications" and data["type"] == "INSERT"
    assert data["seq"] == first["seq"]
    assert data["errors"] is None and "old_record" not in data  # as Supabase: no key, not null
    assert {"name": "title", "type": "varchar"} in data["columns"]
    assert data["commit_timestamp"].endswith("Z")


def test_each_event_is_filed_under_every_group_of_its_audience_for_replays():
    user = factories.UserFactory()
    notification = _notify(user, "filed")
    event = Event.objects.get(table="notifications", record__id=notification.pk)
    assert list(EventGroup.objects.filter(event=event).values_list("group", "seq")) == [(f"user.{user.pk}", event.seq)]


def test_a_rolled_back_transaction_publishes_nothing(layer):
    user = factories.UserFactory()
    channel = _listen(layer)
    with pytest.raises(RuntimeError), transaction.atomic():
        Notification.objects.create(user=user, type="system", title="rolled back")
        raise RuntimeError("refused")
    _notify(user, "committed")
    (message,) = _receive_all(layer, channel, 1)
    assert message["record"]["title"] == "committed"
    assert not Event.objects.filter(record__title="rolled back").exists()


def test_the_sweep_republishes_what_a_failed_publish_left_unconfirmed(layer):
    user = factories.UserFactory()
    with override_settings(CHANNEL_LAYERS=UNREACHABLE_LAYER):
        lost = [_notify(user, f"lost {index}") for index in range(3)]
    stranded = list(Event.objects.filter(table="notifications", record__title__startswith="lost").order_by("seq"))
    assert all(event.seq is not None and event.published_at is None for event in stranded)

    # Leaving the override made a new layer object; the in-memory layer's groups live in that object.
    layer = get_channel_layer()
    channel = _listen(layer)
    assert relay_sweep() == 3
    messages = _receive_all(layer, channel, 4)[:3]  # then the sweep's cursor
    assert [message["seq"] for message in messages] == [event.seq for event in stranded]
    assert [message["record"]["id"] for message in messages] == [notification.pk for notification in lost]
    assert not Event.objects.filter(published_at__isnull=True).exists()


def test_the_sweep_counts_what_it_numbered_and_what_it_republished(layer):
    user = factories.UserFactory()
    with override_settings(CHANNEL_LAYERS=UNREACHABLE_LAYER):
        _notify(user, "numbered, never confirmed")
    with relay_held_elsewhere():
        _notify(user, "never numbered")
    assert relay_sweep() == 2
    assert not Event.objects.filter(published_at__isnull=True).exists()


def test_the_sweep_numbers_rows_no_commit_hook_published():
    user = factories.UserFactory()
    with relay_held_elsewhere():
        _notify(user, "left behind")
    assert Event.objects.filter(seq__isnull=True).exists()
    relay_sweep()
    assert not Event.objects.filter(seq__isnull=True).exists()
    assert not Event.objects.filter(published_at__isnull=True).exists()


def test_the_sweep_tells_the_dispatchers_the_latest_seq(layer):
    alice, bob = factories.UserFactory(), factories.UserFactory()
    _notify(alice, "one")
    _notify(bob, "two")
    channel = _listen(layer)

    relay_sweep()

    (message,) = _receive_all(layer, channel, 1)
    assert message == {"type": "realtime.cursor", "seq": high_water_seq()}
    assert high_water_seq() == Event.objects.order_by("-seq").values_list("seq", flat=True)[0]


def test_an_empty_stream_announces_nothing(layer):
    channel = _listen(layer)
    assert stream_cursor_announce() == 0
    _notify(factories.UserFactory(), "first")
    assert stream_cursor_announce() == high_water_seq()
    (message,) = _receive_all(layer, channel, 1 + high_water_seq())[-1:]
    assert message == {"type": "realtime.cursor", "seq": high_water_seq()}


def test_the_relay_can_run_from_async_code():
    from realtime.relay import arelay_run

    user = factories.UserFactory()
    with relay_held_elsewhere():
        _notify(user, "async")
    assert async_to_sync(arelay_run)() >= 1
    assert not Event.objects.filter(seq__isnull=True).exists()
