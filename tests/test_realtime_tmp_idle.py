import time, pytest
from catalog.services import product_update
pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

def test_idle(daphne_server, phoenix_sockets, cast):
    s = phoenix_sockets.open("idle", websocket_url=daphne_server.websocket_url, apikey=cast.staff_a.apikey)
    s.join("c", postgres_changes=[{"event": "*", "schema": "public", "table": "products"}])
    time.sleep(12)
    product_update(actor=cast.staff_a.user, product=cast.product_a, name="after idle")
    assert s.changes(1, timeout=10)[0]["record"]["name"] == "after idle"
