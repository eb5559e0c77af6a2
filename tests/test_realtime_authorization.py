"""Row-level authorization through real sockets: for every published table and every
role, each change reaches exactly the sockets whose users may see the row.

Each role holds one socket subscribed to every table with no filter. Every
role that can act makes changes through the services; the expected audience
of each resulting event is worked out here from the marketplace's rules
(who is the customer, who works for which shop, who runs the platform), never
from the publication's policies.
"""

import pytest

from accounts.services import profile_update
from catalog.services import product_adjust_stock, product_update, review_create
from orders.models import OrderItem
from orders.services import cart_add_item, order_checkout, order_note_add, order_transition
from realtime.models import Event
from realtime.publication import TABLES
from realtime.selectors import high_water_seq
from support.models import EmailMessage
from support.services import (
    conversation_send_message,
    conversation_start,
    thread_add_message,
    thread_create,
    thread_note_add,
)
from tests import factories
from tests.live.outbox import wait_until_numbered
from tests.live.visibility import Reader, may_see, reader_of
from vendors.services import application_approve, application_start_review, application_submit

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def may_see_event(reader: Reader, event: Event) -> bool:
    return may_see(reader, event.table, event.record, event.old_record)


def act_in_every_role(cast):
    """A day at the marketplace: every role that can act changes rows of every published table."""
    customer_a, customer_b = cast.customer_a.user, cast.customer_b.user
    staff_a, staff_b, admin = cast.staff_a.user, cast.staff_b.user, cast.admin.user

    profile_update(user=customer_a, default_address="5 Canal Street, London")
    cart_add_item(user=customer_a, product=cast.product_a, quantity=2)
    [order_a] = order_checkout(customer=customer_a)
    cart_add_item(user=customer_b, product=cast.product_b, quantity=1)
    order_checkout(customer=customer_b)
    order_note_add(actor=staff_a, order=order_a, body="Regular: extra napkins")
    order_note_add(actor=staff_a, order=order_a, body="Out in ten minutes", is_internal=False)
    for status in ("confirmed", "preparing", "ready", "out_for_delivery", "delivered"):
        order_transition(actor=staff_a, order=order_a, to_status=status)
    review_create(customer=customer_a, order=order_a, rating=5, comment="Quick and friendly")

    product_adjust_stock(actor=staff_b, product=cast.product_b, stock=0, reason="other", note="Sold out at the market")
    product_update(actor=staff_b, product=cast.product_b, is_active=False)

    conversation = conversation_start(customer=customer_a, vendor=cast.vendor_a, order=order_a, body="Thank you!")
    conversation_send_message(
        conversation=conversation, sender=staff_a, body="Our pleasure.", attachments=[factories.image_upload()]
    )

    thread = thread_create(subject="Refund question", body="How long do refunds take?", customer=customer_b)
    thread_add_message(thread=thread, direction=EmailMessage.Direction.OUTBOUND, body="Up to five days.", sender=admin)
    thread_note_add(actor=admin, thread=thread, body="Refund already approved by the shop")

    application_submit(
        applicant=customer_b,
        business_name="B's Bakery",
        business_type="sole_trader",
        contact_name="B",
        contact_email=customer_b.email,
        address="9 Mill Lane, London",
    )
    outsider = factories.VendorApplicationFactory()  # an applicant without a socket
    application_start_review(actor=admin, application=outsider)
    application_approve(actor=admin, application=outsider)


def test_each_change_reaches_exactly_the_sockets_allowed_to_see_it(daphne_server, phoenix_sockets, cast):
    every_table = [{"event": "*", "schema": "public", "table": table} for table in TABLES]
    sockets = {}
    for actor in cast.actors:
        url = daphne_server.websocket_url
        sockets[actor] = phoenix_sockets.open(actor.name, websocket_url=url, apikey=actor.apikey)
        reply = sockets[actor].join("everything", postgres_changes=every_table)
        assert [binding["table"] for binding in reply["postgres_changes"]] == list(TABLES)
    baseline = high_water_seq()

    act_in_every_role(cast)
    wait_until_numbered()

    events = list(Event.objects.filter(seq__gt=baseline).exclude(table=Event.ACCESS_TABLE).order_by("seq"))
    assert {event.table for event in events} == set(TABLES), "the scenario must change every published table"
    for actor, socket in sockets.items():
        reader = reader_of(actor.user)
        owed = [(event.seq, event.table, event.type) for event in events if may_see_event(reader, event)]
        received = [(change["seq"], change["table"], change["type"]) for change in socket.changes(len(owed), 20)]
        received += [(c["seq"], c["table"], c["type"]) for c in socket.remaining_changes(quiet_for=0.5)]
        unexpected, missed = sorted(set(received) - set(owed)), sorted(set(owed) - set(received))
        assert received == owed, f"{actor.name}: got {unexpected} it may not see, missed {missed}"


def test_delete_events_carry_the_old_row_to_those_who_could_see_it(daphne_server, phoenix_sockets, cast):
    """Checkout empties the cart: the owner learns which line went, no one else learns anything."""
    bindings = [{"event": "DELETE", "schema": "public", "table": "cart_items"}]
    owner = phoenix_sockets.open("owner", websocket_url=daphne_server.websocket_url, apikey=cast.customer_a.apikey)
    other = phoenix_sockets.open("other", websocket_url=daphne_server.websocket_url, apikey=cast.customer_b.apikey)
    admin = phoenix_sockets.open("admin", websocket_url=daphne_server.websocket_url, apikey=cast.admin.apikey)
    for socket in (owner, other, admin):
        socket.join("cart", postgres_changes=bindings)

    line = cart_add_item(user=cast.customer_a.user, product=cast.product_a, quantity=3)
    [order] = order_checkout(customer=cast.customer_a.user)

    [deleted] = owner.changes(1, timeout=10)
    assert deleted["type"] == "DELETE"
    assert "record" not in deleted  # as Supabase sends a DELETE
    assert deleted["old_record"]["id"] == line.pk
    assert deleted["old_record"]["quantity"] == 3
    assert deleted["old_record"]["product_id"] == cast.product_a.pk
    assert OrderItem.objects.get(order=order).quantity == 3
    assert other.remaining_changes(quiet_for=0.5) == []
    assert admin.remaining_changes(quiet_for=0) == []
