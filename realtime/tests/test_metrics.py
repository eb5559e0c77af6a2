"""/metrics in Prometheus text and /healthz with its channel layer round trip."""

import pytest
from django.conf import settings
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from realtime import metrics
from realtime.relay import relay_run
from realtime.tests.harness import relay_held_elsewhere
from tests import factories

UNREACHABLE_LAYER = {
    "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
}


METRICS_TOKEN = "scraper-token-for-the-tests"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN


def _scrape(client):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.django_db
def test_metrics_count_captured_and_published_events(client):
    before = _scrape(client)
    user = factories.UserFactory()
    factories.NotificationFactory(user=user)
    factories.NotificationFactory(user=user)
    relay_run()
    after = _scrape(client)

    published = ("zora_realtime_events_published_total", ())
    captured = ("zora_realtime_events_captured_total", (("table", "notifications"),))
    assert after[published] - before.get(published, 0) == 3  # the profile and two notifications
    assert after[captured] - before.get(captured, 0) == 2
    assert after[("zora_realtime_relay_lag_seq", ())] == 0
    for name in (
        "zora_realtime_sockets_open",
        "zora_realtime_channels_joined",
        "zora_realtime_events_delivered_total",
        "zora_realtime_replays_total",
        "zora_realtime_repairs_total",
        "zora_realtime_repaired_events_total",
        "zora_realtime_relay_lag_seconds",
    ):
        assert (name, ()) in after, name


@pytest.mark.django_db(transaction=True)
def test_relay_lag_shows_events_waiting_for_the_relay(client):
    user = factories.UserFactory()
    with relay_held_elsewhere():
        factories.NotificationFactory(user=user)
    # The row committed while another session held the relay, and nobody has run it since.
    assert _scrape(client)[("zora_realtime_relay_lag_seq", ())] == 1
    relay_run()
    assert _scrape(client)[("zora_realtime_relay_lag_seq", ())] == 0


def test_other_components_count_into_the_same_registry(client, db):
    before = _scrape(client).get(("zora_realtime_repairs_total", ()), 0)
    metrics.REPAIRS.inc()
    assert _scrape(client)[("zora_realtime_repairs_total", ())] == before + 1


@pytest.mark.django_db
def test_healthz_checks_the_database_and_the_channel_layer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[1]
    assert body["checks"]["channel_layer"] == {"status": "ok", "backend": backend}


@pytest.mark.django_db
def test_healthz_is_503_when_the_channel_layer_is_down(client):
    with override_settings(CHANNEL_LAYERS=UNREACHABLE_LAYER):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["channel_layer"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
