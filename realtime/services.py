"""Writes to the event stream's own tables (the outbox is written by capture and the relay)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from realtime.models import Event, EventGroup

PRUNE_BATCH = 10_000


def events_prune(*, now=None) -> int:
    """Delete published events older than the retention window; returns how many.

    Only a prefix of the stream is ever removed (every seq up to a boundary),
    so "the oldest retained seq" tells a resuming client exactly whether it
    missed something: there are no holes behind it.
    """
    cutoff = (now or timezone.now()) - timedelta(hours=settings.REALTIME_RETENTION_HOURS)
    boundary = (
        Event.objects.filter(numbered_at__lt=cutoff)
        .order_by("-numbered_at", "-seq")
        .values_list("seq", flat=True)
        .first()
    )
    if boundary is None:
        return 0
    unconfirmed = (
        Event.objects.filter(seq__isnull=False, published_at__isnull=True)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if unconfirmed is not None:
        boundary = min(boundary, unconfirmed - 1)
    deleted = 0
    while True:
        oldest = Event.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", flat=True).first()
        if oldest is None or oldest > boundary:
            return deleted
        upto = min(boundary, oldest + PRUNE_BATCH - 1)
        with transaction.atomic():
            EventGroup.objects.filter(seq__lte=upto).delete()
            count, _ = Event.objects.filter(seq__lte=upto).delete()
        deleted += count
