"""Loss repair on a real server whose channel layer drops: a Redis layer of capacity 1
throws messages away as soon as a socket falls one behind, yet every client still
gets every event it is owed, once, in seq order, because the consumer notices each
gap in a group's prev_seq chain and reads the missing events from the outbox.
"""

import pytest
from django.db import transaction

from accounts.services import notification_create
from catalog.services import product_update
from realtime.models import Event
from realtime.policies import groups_for_user
from realtime.selectors import high_water_seq

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

BURST = 300
NOTIFY_EVERY = 10


def binding(table: str, filter_=None) -> dict:
    spec = {"event": "*", "schema": "public", "table": table}
    if filter_:
        spec["filter"] = filter_
    return spec


def test_every_socket_gets_every_event_it_is_owed_in_order_despite_drops(daphne_servers, phoenix_sockets, cast):
    server = daphne_servers.start("daphne with capacity 1", CHANNEL_LAYER_CAPACITY="1")
    subscriptions = {
        cast.anonymous: [binding("products")],
        cast.customer_a: [binding("products"), binding("notifications")],
        cast.staff_a: [binding("products", f"vendor_id=eq.{cast.vendor_a.pk}"), binding("notifications")],
        cast.staff_b: [binding("products", f"vendor_id=eq.{cast.vendor_b.pk}")],
        cast.admin: [binding("products"), binding("notifications")],
    }
    sockets = {}
    for actor, bindings in subscriptions.items():
        sockets[actor] = phoenix_sockets.open(actor.name, websocket_url=server.websocket_url, apikey=actor.apikey)
        sockets[actor].join("burst", postgres_changes=bindings)
    baseline = high_water_seq()

    # One commit: the relay publishes the whole burst back to back, far faster than a socket drains it.
    with transaction.atomic():
        for index in range(BURST):
            staff, product = (cast.staff_a, cast.product_a) if index % 2 else (cast.staff_b, cast.product_b)
            product_update(actor=staff.user, product=product, name=f"Burst {index:03d}")
            if index % NOTIFY_EVERY == 0:
                notification_create(user=cast.customer_a.user, type="system", title=f"Burst note {index}")

    for actor, socket in sockets.items():
        owed = [event.seq for event in owed_events(actor, subscriptions[actor], after=baseline)]
        assert len(owed) >= BURST // 2
        received = socket.changes(len(owed), timeout=30)
        assert [change["seq"] for change in received] == owed, f"{actor.name} got other events than it is owed"
        assert socket.remaining_changes(quiet_for=0.5) == [], f"{actor.name} got more than it is owed"
    assert server.metric("zora_realtime_repairs_total") > 0, "nothing was dropped, so nothing was proven"
    assert server.metric("zora_realtime_repaired_events_total") > 0


def owed_events(actor, bindings: list[dict], *, after: int) -> list[Event]:
    """The committed events after `after` that the actor's groups may read and one of its bindings asks for."""
    groups = groups_for_user(actor.user) if actor.user else frozenset({"public"})
    owed = []
    for event in Event.objects.filter(seq__gt=after).order_by("seq"):
        row = event.record or event.old_record
        if groups.isdisjoint(event.audience):
            continue
        if any(spec["table"] == event.table and matches(spec.get("filter"), row) for spec in bindings):
            owed.append(event)
    return owed


def matches(filter_: str | None, row: dict) -> bool:
    """The `column=eq.value` filters this test uses."""
    if filter_ is None:
        return True
    column, value = filter_.split("=eq.")
    return str(row[column]) == value
