"""A socket outlives quiet spells: nothing in the server's plumbing may give up on a
connection just because no event came for a while."""

import time

import pytest

from catalog.services import product_update

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Long enough for the channel to fall silent for longer than the channel layer's 5 s blocking poll
# of Redis (after the relay's last word on the set-up's groups, 3 sweeps of 1 s here), and well
# inside the 60 s heartbeat deadline.
QUIET_SPELL = 10


def test_a_socket_quiet_for_longer_than_the_channel_layer_poll_still_gets_events(daphne_server, phoenix_sockets, cast):
    socket = phoenix_sockets.open("quiet", websocket_url=daphne_server.websocket_url, apikey=cast.staff_a.apikey)
    socket.join("catalog", postgres_changes=[{"event": "UPDATE", "schema": "public", "table": "products"}])

    time.sleep(QUIET_SPELL)
    product_update(actor=cast.staff_a.user, product=cast.product_a, name="After the quiet spell")

    [change] = socket.changes(1, timeout=10)
    assert change["record"]["name"] == "After the quiet spell"
    assert not socket.closed.is_set()
