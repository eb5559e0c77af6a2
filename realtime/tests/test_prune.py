"""Retention: old events are pruned as a prefix of the stream; seqs are never reused."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from realtime.models import Event, EventGroup
from realtime.relay import relay_run
from realtime.selectors import events_after, high_water_seq, oldest_retained_seq, resync_required
from realtime.services import events_prune
from tests import factories

pytestmark = pytest.mark.django_db


def _numbered(user, count, prefix):
    for index in range(count):
        factories.NotificationFactory(user=user, title=f"{prefix}{index}")
    relay_run()


def test_only_events_older_than_the_retention_window_are_pruned():
    user = factories.UserFactory()
    _numbered(user, 3, "old")
    boundary = high_water_seq()
    Event.objects.filter(seq__lte=boundary).update(numbered_at=timezone.now() - timedelta(hours=30))
    _numbered(user, 2, "recent")

    with override_settings(REALTIME_RETENTION_HOURS=24):
        assert events_prune() == boundary

    assert oldest_retained_seq() == boundary + 1
    assert not EventGroup.objects.filter(seq__lte=boundary).exists()
    titles = [event.record["title"] for event in events_after(groups=[f"user.{user.pk}"], after_seq=0)]
    assert titles == ["recent0", "recent1"]
    assert resync_required(after_seq=boundary - 1)
    assert not resync_required(after_seq=boundary)


def test_nothing_inside_the_window_is_pruned():
    _numbered(factories.UserFactory(), 3, "n")
    assert events_prune() == 0
    assert oldest_retained_seq() == 1


def test_unpublished_events_are_kept_whatever_their_age():
    user = factories.UserFactory()
    _numbered(user, 4, "n")
    Event.objects.update(numbered_at=timezone.now() - timedelta(hours=48))
    stranded = Event.objects.order_by("seq")[2]
    Event.objects.filter(pk=stranded.pk).update(published_at=None)

    events_prune()

    assert oldest_retained_seq() == stranded.seq


def test_seqs_continue_after_everything_was_pruned():
    user = factories.UserFactory()
    _numbered(user, 3, "n")
    high_water = high_water_seq()
    events_prune(now=timezone.now() + timedelta(days=2))
    assert not Event.objects.exists()
    assert high_water_seq() == high_water
    assert oldest_retained_seq() == high_water + 1
    assert resync_required(after_seq=0)
    assert not resync_required(after_seq=high_water)

    _numbered(user, 1, "after")
    assert Event.objects.get().seq == high_water + 1
    assert EventGroup.objects.get(group=f"user.{user.pk}").seq == high_water + 1


def test_pruning_in_batches_removes_the_whole_prefix(monkeypatch):
    user = factories.UserFactory()
    _numbered(user, 12, "n")
    monkeypatch.setattr("realtime.services.PRUNE_BATCH", 5)
    assert events_prune(now=timezone.now() + timedelta(days=2)) == high_water_seq()
    assert not Event.objects.exists()
