"""The process's dispatcher against real PostgreSQL and channels-redis: every subscriber gets
every event of its groups once, in seq order, whatever the channel layer drops."""

import asyncio

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from accounts.services import api_token_revoke, notification_create
from realtime import relay
from realtime.models import Event
from realtime.policies import PUBLIC, STAFF
from realtime.socket import dispatcher as dispatcher_module
from realtime.socket.dispatcher import process_dispatcher
from realtime.tests.harness import channel_layers_of_kind, kill_channel_layer_reads, lost_in_the_channel_layer
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    anyio_backend,
    binding,
    connected,
    in_db,
    postgres_changes,
    socket_test_environment,
    user_with_token,
)
from tests import factories

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("socket_test_environment"),
]

TIMEOUT = 5


def _notify_unpublished(user, title):
    """A change to `user` the channel layer dropped."""
    return lost_in_the_channel_layer(
        table="notifications",
        type="INSERT",
        record={"id": 0, "user_id": user.pk, "title": title},
        audience=[f"user.{user.pk}"],
    )


async def _subscribe(*groups):
    evictions = []
    subscription = await process_dispatcher().subscribe(groups, evict=evictions.append)
    return subscription, evictions


async def _drain(subscription, count):
    async def take():
        return [(await subscription.queue.get()).seq for _ in range(count)]

    return await asyncio.wait_for(take(), TIMEOUT)


async def _nothing_more(subscription):
    await asyncio.sleep(0.3)
    assert subscription.queue.empty(), f"unexpected seq {subscription.queue.get_nowait().seq}"


async def test_events_dropped_in_the_middle_are_handed_out_first_and_in_order():
    user = await in_db(factories.UserFactory)()
    subscription, _ = await _subscribe(f"user.{user.pk}")
    repairs = REGISTRY.get_sample_value("zora_realtime_repairs_total") or 0
    repaired = REGISTRY.get_sample_value("zora_realtime_repaired_events_total") or 0
    lost = [await in_db(_notify_unpublished)(user, f"lost {index}") for index in range(3)]
    await _nothing_more(subscription)
    live = await in_db(notification_create)(user=user, type="system", title="live")
    live_seq = await in_db(lambda: Event.objects.get(table="notifications", record__id=live.pk).seq)()
    assert await _drain(subscription, 4) == [*lost, live_seq]
    await _nothing_more(subscription)
    assert REGISTRY.get_sample_value("zora_realtime_repairs_total") == repairs + 1
    assert REGISTRY.get_sample_value("zora_realtime_repaired_events_total") == repaired + 3


async def test_a_dropped_tail_is_handed_out_when_the_sweep_announces_the_cursor():
    user = await in_db(factories.UserFactory)()
    subscription, _ = await _subscribe(f"user.{user.pk}")
    lost = [await in_db(_notify_unpublished)(user, f"lost {index}") for index in range(2)]
    await _nothing_more(subscription)
    await in_db(relay.stream_cursor_announce)()
    assert await _drain(subscription, 2) == lost
    await in_db(relay.stream_cursor_announce)()
    await _nothing_more(subscription)


async def test_a_republished_event_is_handed_out_once():
    user = await in_db(factories.UserFactory)()
    subscription, _ = await _subscribe(f"user.{user.pk}")
    notification = await in_db(notification_create)(user=user, type="system", title="once")
    event = await in_db(Event.objects.get)(table="notifications", record__id=notification.pk)
    assert await _drain(subscription, 1) == [event.seq]
    event.published_at = None
    await in_db(event.save)()
    assert await in_db(relay.relay_sweep)() == 1
    await _nothing_more(subscription)


async def test_a_subscriber_in_several_groups_gets_each_event_once_in_seq_order():
    vendor = await in_db(factories.VendorFactory)()
    admin = await in_db(factories.AdminFactory)()
    await in_db(factories.VendorStaffFactory)(vendor=vendor, user=admin)
    groups = (f"user.{admin.pk}", f"vendor.{vendor.pk}", STAFF, PUBLIC)
    subscription, _ = await _subscribe(*groups)
    baseline = process_dispatcher().last
    customer = await in_db(factories.UserFactory)()

    def burst():
        # Orders reach the customer's, the vendor's and the staff group; products the public one.
        for index in range(3):
            factories.OrderFactory(customer=customer, vendor=vendor)
            _notify_unpublished(customer, f"not the admin's {index}")
            factories.ProductFactory(vendor=vendor)
            _notify_unpublished(admin, f"the admin's, lost {index}")

    await in_db(burst)()
    await in_db(relay.stream_cursor_announce)()
    owed = await in_db(
        lambda: [
            seq
            for seq, audience in Event.objects.filter(seq__gt=baseline).order_by("seq").values_list("seq", "audience")
            if set(audience) & set(groups)
        ]
    )()
    assert await _drain(subscription, len(owed)) == owed
    await _nothing_more(subscription)


def _revoke_tokens_of(user) -> int:
    """An access change of `user`; returns its seq."""
    for token in user.api_tokens.filter(revoked_at__isnull=True):
        api_token_revoke(token=token)
    return Event.objects.filter(table=Event.ACCESS_TABLE).order_by("-seq").values_list("seq", flat=True).first()


async def test_an_access_event_holds_its_users_subscribers_until_they_regroup():
    user, _ = await in_db(user_with_token)()
    bystander, other = await in_db(factories.UserFactory)(), await in_db(factories.UserFactory)()
    held, _ = await _subscribe(f"user.{user.pk}")
    untouched, _ = await _subscribe(f"user.{bystander.pk}")
    access_seq = await in_db(_revoke_tokens_of)(user)
    assert await _drain(held, 1) == [access_seq]
    # Until it has read its identity again, the socket might have gained any group: it gets every event.
    notification = await in_db(notification_create)(user=other, type="system", title="anyone's")
    seq = await in_db(lambda: Event.objects.get(table="notifications", record__id=notification.pk).seq)()
    assert await _drain(held, 1) == [seq]
    await _nothing_more(untouched)
    process_dispatcher().regroup(held, [f"user.{user.pk}"])
    await in_db(notification_create)(user=other, type="system", title="still anyone's")
    await _nothing_more(held)


async def test_the_dispatcher_tells_whether_an_access_change_came_after_an_identity_was_read(monkeypatch):
    monkeypatch.setattr(dispatcher_module, "RECENT_ACCESS_LIMIT", 1)
    first, _ = await in_db(user_with_token)()
    second, _ = await in_db(user_with_token)()
    dispatcher = process_dispatcher()
    subscription, _ = await _subscribe(f"user.{first.pk}", f"user.{second.pk}")
    before = dispatcher.last
    first_seq = await in_db(_revoke_tokens_of)(first)
    await _drain(subscription, 1)
    assert dispatcher.access_changed({f"user.{first.pk}", PUBLIC}, after=before)
    assert not dispatcher.access_changed({f"user.{first.pk}"}, after=first_seq)
    assert not dispatcher.access_changed({f"user.{second.pk}", PUBLIC}, after=before)
    await in_db(_revoke_tokens_of)(second)
    await _drain(subscription, 1)
    # The first user's change is no longer remembered: an identity read before it may be outdated.
    assert dispatcher.access_changed({f"user.{first.pk}"}, after=before)
    assert not dispatcher.access_changed({f"user.{first.pk}"}, after=first_seq)


async def test_an_overflowing_subscriber_is_evicted_without_holding_up_the_others(monkeypatch):
    user, key = await in_db(user_with_token)()
    reader = await connected(apikey=key)
    assert (await reader.join("realtime:inbox", postgres_changes(binding("notifications"))))["status"] == "ok"
    await reader.expect("system")
    monkeypatch.setattr(dispatcher_module, "SOCKET_QUEUE_LIMIT", 2)
    stalled, evictions = await _subscribe(f"user.{user.pk}")

    # One at a time, so the reader is never behind: an event counts as waiting until it is sent.
    titles = []
    for index in range(3):
        await in_db(notification_create)(user=user, type="system", title=f"n{index}")
        titles.append((await reader.expect("postgres_changes")).payload["data"]["record"]["title"])
    assert titles == ["n0", "n1", "n2"]
    assert len(evictions) == 1 and "resume with since" in evictions[0]
    assert stalled.queue.qsize() == 2
    await in_db(notification_create)(user=user, type="system", title="after the eviction")
    assert (await reader.expect("postgres_changes")).payload["data"]["record"]["title"] == "after the eviction"
    assert stalled.queue.qsize() == 2, "an evicted subscriber gets nothing more"
    await reader.disconnect()


async def test_a_socket_that_falls_too_far_behind_is_closed_so_it_resumes(monkeypatch):
    user, key = await in_db(user_with_token)()
    monkeypatch.setattr(dispatcher_module, "SOCKET_QUEUE_LIMIT", 2)
    client = await connected(apikey=key)
    await client.join("realtime:inbox", postgres_changes(binding("notifications")))
    await client.expect("system")
    # A repair hands out its events back to back, faster than any socket can take them.
    for index in range(3):
        await in_db(_notify_unpublished)(user, f"lost {index}")
    await in_db(relay.stream_cursor_announce)()
    assert await client.closed_with() == 4011
    await client.disconnect()


@pytest.mark.parametrize("kind", ["core", "pubsub"])
async def test_the_dispatcher_carries_on_when_its_channel_layer_connection_dies(kind, caplog):
    with override_settings(CHANNEL_LAYERS=channel_layers_of_kind(kind)):
        user = await in_db(factories.UserFactory)()
        subscription, _ = await _subscribe(f"user.{user.pk}")
        if kind == "core":
            for _ in range(20):
                # Its blocking read is the only one on this database: no socket is connected.
                kill_channel_layer_reads()
                await asyncio.sleep(0.2)
                if any("realtime dispatcher" in record.getMessage() for record in caplog.records):
                    break
            assert any("realtime dispatcher" in record.getMessage() for record in caplog.records), "no read failed"
        else:
            # The layer's one subscriber connection: it reconnects and subscribes again within a second or so.
            assert kill_channel_layer_reads() >= 1
            await asyncio.sleep(2)

        await in_db(_notify_unpublished)(user, "lost while it was down")
        notification = await in_db(notification_create)(user=user, type="system", title="after")
        seqs = await _drain(subscription, 2)
        assert (
            seqs[1] == await in_db(lambda: Event.objects.get(table="notifications", record__id=notification.pk).seq)()
        )
        assert seqs[0] == seqs[1] - 1


async def test_a_database_replaced_under_the_process_closes_its_sockets():
    user, key = await in_db(user_with_token)()
    client = await connected(apikey=key)
    await client.join("realtime:inbox", postgres_changes(binding("notifications")))
    await client.expect("system")
    # As if the process had handed out events of a stream the database no longer has.
    process_dispatcher().last += 100
    newcomer = await connected(apikey=key)
    assert await client.closed_with() == 4011
    assert (await newcomer.join("realtime:inbox", postgres_changes(binding("notifications"))))["status"] == "ok"
    await newcomer.expect("system")
    await in_db(notification_create)(user=user, type="system", title="in the new stream")
    assert (await newcomer.expect("postgres_changes")).payload["data"]["record"]["title"] == "in the new stream"
    for socket in (client, newcomer):
        await socket.disconnect()
