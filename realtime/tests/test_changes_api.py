"""`GET /api/v1/changes`: the REST catch-up a phone uses after being offline."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_token_create, api_token_revoke
from realtime.relay import relay_run
from realtime.selectors import high_water_seq
from realtime.services import events_prune
from tests import factories

URL = "/api/v1/changes"


def _client_for(user):
    _, key = api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _notify_many(user, count, prefix="n"):
    notifications = [factories.NotificationFactory(user=user, title=f"{prefix}{index}") for index in range(count)]
    relay_run()
    return notifications


def _titles(events, table="notifications"):
    return [event["record"]["title"] for event in events if event["table"] == table]


@pytest.mark.django_db
def test_a_customer_never_sees_another_customers_rows():
    alice, bob = factories.UserFactory(), factories.UserFactory()
    factories.NotificationFactory(user=alice, title="for alice")
    factories.NotificationFactory(user=bob, title="for bob")
    product = factories.ProductFactory()
    relay_run()

    events = _client_for(bob).get(URL, {"since": 0}).json()["events"]
    assert _titles(events) == ["for bob"]
    assert not [event for event in events if event["record"].get("user_id") == alice.pk]
    assert product.pk in [event["record"]["id"] for event in events if event["table"] == "products"]


@pytest.mark.django_db
def test_anonymous_readers_get_public_events_only():
    alice = factories.UserFactory()
    factories.NotificationFactory(user=alice, title="private")
    factories.ProductFactory()
    relay_run()
    body = APIClient().get(URL, {"since": 0}).json()
    assert {event["table"] for event in body["events"]} == {"products", "vendors"}


@pytest.mark.django_db
def test_events_carry_the_change_and_its_commit_time():
    alice = factories.UserFactory()
    notification = factories.NotificationFactory(user=alice, title="hello")
    notification.title = "hello again"
    notification.save()
    notification_id = notification.pk
    notification.delete()
    relay_run()

    events = [e for e in _client_for(alice).get(URL, {"since": 0}).json()["events"] if e["table"] == "notifications"]
    assert [event["type"] for event in events] == ["INSERT", "UPDATE", "DELETE"]
    assert events[1]["old_record"]["title"] == "hello" and events[1]["record"]["title"] == "hello again"
    assert events[2]["record"] is None and events[2]["old_record"]["id"] == notification_id
    assert all(event["commit_timestamp"] for event in events)
    assert [event["seq"] for event in events] == sorted(event["seq"] for event in events)


@pytest.mark.django_db
def test_500_changes_resume_exactly_in_order_page_by_page():
    alice = factories.UserFactory()
    relay_run()
    since = high_water_seq()
    notifications = _notify_many(alice, 500)
    # Someone else's changes in between must not disturb the pages.
    _notify_many(factories.UserFactory(), 20, prefix="other")
    client = _client_for(alice)

    seen, pages = [], 0
    while True:
        body = client.get(URL, {"since": since, "limit": 37}).json()
        assert body["resync_required"] is False
        assert len(body["events"]) <= 37
        seen.extend(body["events"])
        since, pages = body["next_since"], pages + 1
        if not body["has_more"]:
            break

    assert pages == 14
    assert [event["record"]["id"] for event in seen] == [notification.pk for notification in notifications]
    seqs = [event["seq"] for event in seen]
    assert seqs == sorted(set(seqs))
    assert since == high_water_seq()
    assert client.get(URL, {"since": since}).json()["events"] == []


@pytest.mark.django_db
def test_a_position_older_than_retention_requires_a_resync():
    alice = factories.UserFactory()
    _notify_many(alice, 3, prefix="old")
    old_high_water = high_water_seq()
    events_prune(now=timezone.now() + timedelta(hours=25))
    _notify_many(alice, 2, prefix="new")
    client = _client_for(alice)

    stale = client.get(URL, {"since": 1}).json()
    assert stale["resync_required"] is True
    assert stale["events"] == []
    assert stale["next_since"] == high_water_seq()

    fresh = client.get(URL, {"since": old_high_water}).json()
    assert fresh["resync_required"] is False
    assert _titles(fresh["events"]) == ["new0", "new1"]


@pytest.mark.django_db
def test_a_position_ahead_of_the_stream_requires_a_resync():
    alice = factories.UserFactory()
    relay_run()
    body = _client_for(alice).get(URL, {"since": high_water_seq() + 100}).json()
    assert body["resync_required"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "since"),
        ({"since": "abc"}, "since"),
        ({"since": -1}, "since"),
        ({"since": 2**63}, "since"),
        ({"since": 0, "limit": 0}, "limit"),
        ({"since": 0, "limit": 1001}, "limit"),
        ({"since": 0, "limit": "many"}, "limit"),
    ],
)
def test_bad_input_is_refused_naming_the_field(query, field):
    response = _client_for(factories.UserFactory()).get(URL, query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_a_revoked_token_is_refused():
    alice = factories.UserFactory()
    token, key = api_token_create(user=alice)
    api_token_revoke(token=token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get(URL, {"since": 0}).status_code == 401


@pytest.mark.django_db
def test_session_login_works_too():
    alice = factories.UserFactory()
    factories.NotificationFactory(user=alice, title="mine")
    relay_run()
    client = APIClient()
    client.force_login(alice)
    assert _titles(client.get(URL, {"since": 0}).json()["events"]) == ["mine"]


@pytest.mark.django_db
def test_api_responses_and_pages_carry_the_high_water_seq(client):
    _notify_many(factories.UserFactory(), 2)
    expected = str(high_water_seq())
    assert client.get(URL, {"since": 0})["X-Realtime-Seq"] == expected
    assert client.get("/")["X-Realtime-Seq"] == expected
    assert "X-Realtime-Seq" not in client.get("/healthz")
