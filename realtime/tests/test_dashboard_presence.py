"""Presence on the admin dashboard's object pages (realtime:dashboard:*): admins only, live both ways."""

import pytest

from accounts.services import api_token_create, user_set_platform_admin
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    anyio_backend,
    connected,
    in_db,
    socket_test_environment,
    user_with_token,
)
from tests import factories
from zora.collisions import presence_topic

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("socket_test_environment"),
]


def _application_topic() -> str:
    return presence_topic(factories.VendorApplicationFactory())


def _shop_owner_key() -> str:
    return api_token_create(user=factories.VendorFactory().owner)[1]


async def _joined(key: str, topic: str, user) -> tuple:
    client = await connected(apikey=key, portal="dashboard")
    reply = await client.join(topic, {"presence": {"key": str(user.pk), "enabled": True}})
    assert reply["status"] == "ok", reply
    state = (await client.expect("presence_state", topic=topic)).payload
    return client, state


async def _track(client, topic: str, meta: dict) -> None:
    ref = await client.send(topic, "presence", {"type": "presence", "event": "track", "payload": meta})
    frames = [await client.receive(), await client.receive()]
    assert {frame.event for frame in frames} == {"phx_reply", "presence_diff"}
    assert next(frame for frame in frames if frame.event == "phx_reply").ref == ref


async def test_only_platform_admins_may_join_a_dashboard_topic():
    topic = await in_db(_application_topic)()
    assert topic.startswith("realtime:dashboard:vendors.vendorapplication:")
    _, customer_key = await in_db(user_with_token)()
    shop_key = await in_db(_shop_owner_key)()
    for key in (customer_key, shop_key, None):
        client = await connected(apikey=key)
        refused = await client.join(topic, {"presence": {"key": "x", "enabled": True}})
        assert refused["status"] == "error"
        assert "platform admins only" in refused["response"]["reason"]
        await client.nothing_more()
        await client.disconnect()


async def test_admins_on_the_same_object_see_each_other_view_and_edit():
    topic = await in_db(_application_topic)()
    ada, ada_key = await in_db(user_with_token)(is_staff=True, full_name="Ada Lovell")
    ben, ben_key = await in_db(user_with_token)(is_staff=True, full_name="Ben Ode")
    ada_socket, state = await _joined(ada_key, topic, ada)
    assert state == {}
    await _track(ada_socket, topic, {"name": "Ada Lovell", "user_id": ada.pk, "state": "viewing"})
    ben_socket, state = await _joined(ben_key, topic, ben)
    assert [meta["name"] for meta in state[str(ada.pk)]["metas"]] == ["Ada Lovell"]
    await _track(ben_socket, topic, {"name": "Ben Ode", "user_id": ben.pk, "state": "editing"})
    diff = (await ada_socket.expect("presence_diff", topic=topic)).payload
    (meta,) = diff["joins"][str(ben.pk)]["metas"]
    assert (meta["name"], meta["user_id"], meta["state"]) == ("Ben Ode", ben.pk, "editing")
    await ben_socket.disconnect()
    leave = (await ada_socket.expect("presence_diff", topic=topic)).payload
    assert list(leave["leaves"]) == [str(ben.pk)]
    await ada_socket.disconnect()


async def test_an_admin_who_loses_the_rights_leaves_the_dashboard_topics():
    topic = await in_db(_application_topic)()
    demoted, key = await in_db(user_with_token)(is_staff=True)
    admin = await in_db(factories.AdminFactory)()
    client, _ = await _joined(key, topic, demoted)
    await in_db(user_set_platform_admin)(actor=admin, user=demoted, is_admin=False)
    system = await client.expect("system", topic=topic)
    assert "platform admins only" in system.payload["message"]
    await client.expect("phx_close", topic=topic)
    await client.disconnect()
