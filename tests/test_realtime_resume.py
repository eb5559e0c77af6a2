"""Resume after a disconnect against a real server: the socket's `config.since` and
the REST catch-up both hand back exactly what was missed, in seq order, then the
socket carries on live without a duplicate.
"""

import pytest
from django.db import transaction

from catalog.services import product_update
from tests.live.api import ApiClient

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MISSED = 500
PAGE = 200
RENAMES_PER_COMMIT = 25


def rename(cast, count: int, prefix: str) -> list[str]:
    """`count` renames of shop A's product by its staff, committed a few at a time as busy writers do."""
    names = [f"{prefix} {index:03d}" for index in range(count)]
    for start in range(0, count, RENAMES_PER_COMMIT):
        with transaction.atomic():
            for name in names[start : start + RENAMES_PER_COMMIT]:
                product_update(actor=cast.staff_a.user, product=cast.product_a, name=name)
    return names


def product_bindings(cast) -> list[dict]:
    return [{"event": "*", "schema": "public", "table": "products", "filter": f"id=eq.{cast.product_a.pk}"}]


def assert_in_seq_order(changes: list[dict]):
    seqs = [change["seq"] for change in changes]
    assert seqs == sorted(set(seqs)), f"seqs out of order or repeated: {seqs}"


def test_rejoin_with_since_replays_exactly_the_missed_events_then_goes_live(daphne_server, phoenix_sockets, cast):
    staff = cast.staff_a
    before = phoenix_sockets.open("before the break", websocket_url=daphne_server.websocket_url, apikey=staff.apikey)
    before.join("catalog", postgres_changes=product_bindings(cast))
    renamed = rename(cast, 3, "Seen")
    seen = before.changes(3, timeout=10)
    assert [change["record"]["name"] for change in seen] == renamed
    last_seen = seen[-1]["seq"]
    before.close()

    missed = rename(cast, MISSED, "Missed")

    after = phoenix_sockets.open("after the break", websocket_url=daphne_server.websocket_url, apikey=staff.apikey)
    after.join("catalog", postgres_changes=product_bindings(cast), since=last_seen)
    replayed = after.changes(MISSED, timeout=30)
    assert [change["record"]["name"] for change in replayed] == missed
    assert all(change["table"] == "products" and change["type"] == "UPDATE" for change in replayed)
    assert replayed[0]["seq"] > last_seen
    assert_in_seq_order(replayed)

    live = rename(cast, 2, "Live")
    continued = after.changes(2, timeout=10)
    assert [change["record"]["name"] for change in continued] == live
    assert_in_seq_order(replayed + continued)
    assert after.remaining_changes(quiet_for=1.0) == []


def test_rest_catch_up_returns_exactly_the_missed_events_in_order(daphne_server, phoenix_sockets, cast):
    staff = cast.staff_a
    socket = phoenix_sockets.open("phone", websocket_url=daphne_server.websocket_url, apikey=staff.apikey)
    socket.join("catalog", postgres_changes=product_bindings(cast))
    rename(cast, 1, "Seen")
    [seen] = socket.changes(1, timeout=10)
    socket.close()

    missed = rename(cast, MISSED, "Missed")

    api = ApiClient(daphne_server, staff.apikey)
    caught_up, since, page = [], seen["seq"], {"has_more": True}
    for _page in range(MISSED // PAGE + 2):  # bounded, with room for one empty last page
        page = api.get("/changes", since=since, limit=PAGE)
        caught_up += page["events"]
        since = page["next_since"]
        if not page["has_more"]:
            break
    assert not page["has_more"] and not page["resync_required"]
    assert [change["record"]["name"] for change in caught_up] == missed
    assert caught_up[0]["seq"] > seen["seq"]
    assert_in_seq_order(caught_up)
