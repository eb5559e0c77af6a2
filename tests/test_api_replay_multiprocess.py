"""The app's offline queue against two daphne processes on one PostgreSQL, as behind a load balancer:
a queued write sent again, to either process and to both at once, takes effect once and every
answer is the first one."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.models import CartItem
from realtime.models import Event
from support.models import Message
from tests import factories
from tests.live.api import ApiClient
from zora.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SENDS_PER_PROCESS = 4


def test_a_queued_cart_add_and_chat_message_replayed_to_both_processes_take_effect_once(daphne_servers, cast):
    servers = [daphne_servers.start("daphne-1"), daphne_servers.start("daphne-2")]
    phones = [ApiClient(server, cast.customer_a.apikey) for server in servers]
    customer = cast.customer_a.user
    conversation = factories.ConversationFactory(customer=customer, vendor=cast.vendor_a)
    queued = [
        ("/cart/items", {"product": cast.product_a.pk, "quantity": 2}, "queued-cart-add"),
        (f"/conversations/{conversation.pk}/messages", {"body": "Leave it at the door"}, "queued-message"),
    ]

    for path, body, key in queued:

        def send(phone, path=path, body=body, key=key):
            return phone.send("POST", path, json=body, headers={IDEMPOTENCY_HEADER: key})

        # Both processes at once, several times each (the app retrying on two networks), then once more each.
        with ThreadPoolExecutor(max_workers=2 * SENDS_PER_PROCESS) as pool:
            answers = list(pool.map(send, phones * SENDS_PER_PROCESS))
        answers += [send(phone) for phone in phones]

        assert {(answer.status_code, answer.content) for answer in answers} == {(201, answers[0].content)}
        assert sum(answer.headers.get(REPLAYED_HEADER) != "true" for answer in answers) == 1
        for phone in phones:
            reused = phone.send("POST", path, json={**body, "changed": True}, headers={IDEMPOTENCY_HEADER: key})
            assert (reused.status_code, reused.json()["error"]["code"]) == (422, "idempotency_key_reused")

    assert CartItem.objects.get(user=customer, product=cast.product_a).quantity == 2
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert list(Event.objects.filter(table="cart_items").values_list("type", flat=True)) == ["INSERT"]
    assert Event.objects.filter(table="messages", type="INSERT").count() == 1
