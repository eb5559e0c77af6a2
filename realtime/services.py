"""Writes to the event stream's own tables (the outbox is written by capture and the relay), and server broadcasts."""

from datetime import timedelta

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from realtime.layer_loop import run_on_layer_loop
from realtime.models import Event, EventGroup
from realtime.protocol.framing import dumps
from realtime.socket.channels import check_topic, topic_group

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


def broadcast_send(*, topic: str, event: str, payload: dict) -> None:
    """A broadcast from the server itself, as if a member had sent it: it goes to the topic's
    channel-layer group, so every socket joined to the topic on every process receives it."""
    check_topic(topic)
    message = {
        "type": "realtime.broadcast",
        "topic": topic,
        # No socket has this name, so every member receives it, whatever its `self` setting.
        "sender": "",
        "event": event,
        "payload_json": dumps(payload),
        "payload_bytes": None,
        "meta": "",
    }
    run_on_layer_loop(get_channel_layer().group_send, topic_group(topic), message)
