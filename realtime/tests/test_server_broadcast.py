"""A broadcast the server sends itself reaches every member of the topic, and only them."""

import pytest

from realtime.services import broadcast_send
from realtime.tests.socket_client import (  # noqa: F401 (fixtures)
    anyio_backend,
    connected,
    in_db,
    socket_test_environment,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("socket_test_environment"),
]


async def test_a_server_broadcast_reaches_every_member_in_each_framing_and_no_one_else():
    text_member, binary_member, elsewhere = await connected(), await connected(vsn="2.0.0"), await connected()
    for client in (text_member, binary_member):
        assert (await client.join("realtime:room"))["status"] == "ok"
    assert (await elsewhere.join("realtime:other-room"))["status"] == "ok"
    await in_db(broadcast_send)(topic="realtime:room", event="notice", payload={"n": 1})
    expected = {"type": "broadcast", "event": "notice", "payload": {"n": 1}}
    assert (await text_member.expect("broadcast", topic="realtime:room")).payload == expected
    assert (await binary_member.expect("broadcast", topic="realtime:room")).payload == expected
    await elsewhere.nothing_more()
    for client in (text_member, binary_member, elsewhere):
        await client.disconnect()


async def test_a_server_broadcast_needs_a_channel_topic():
    from realtime.socket.channels import JoinRefused

    with pytest.raises(JoinRefused):
        broadcast_send(topic="announcements", event="notice", payload={})
