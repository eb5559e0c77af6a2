import pytest

from accounts.models import Notification
from support import selectors, services
from support.models import Conversation, Message
from tests import factories
from zora.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor).user


@pytest.fixture
def order(customer, vendor):
    return factories.OrderFactory(customer=customer, vendor=vendor)


@pytest.fixture
def conversation(customer, vendor, order):
    return services.conversation_start(customer=customer, vendor=vendor, order=order, subject="About my order")


# Starting --------------------------------------------------------------------------------------


def test_starting_again_returns_the_same_conversation(conversation, customer, vendor, order):
    again = services.conversation_start(customer=customer, vendor=vendor, order=order, subject="Ignored")
    general = services.conversation_start(customer=customer, vendor=vendor)

    assert again == conversation
    assert again.subject == "About my order"
    assert general != conversation
    assert services.conversation_start(customer=customer, vendor=vendor) == general
    assert Conversation.objects.count() == 2


def test_first_message_reaches_every_member_of_the_vendor(customer, vendor, clerk):
    conversation = services.conversation_start(customer=customer, vendor=vendor, body="Do you have gluten-free bread?")

    message = conversation.messages.get()
    assert (message.sender, message.body) == (customer, "Do you have gluten-free bread?")
    assert conversation.last_message_at == message.created_at
    notified = Notification.objects.filter(type=Notification.Type.SUPPORT)
    assert {notification.user for notification in notified} == {vendor.owner, clerk}
    assert all(notification.data == {"conversation_id": conversation.pk} for notification in notified)


@pytest.mark.parametrize("owner", ["another_customer", "another_vendor"])
def test_the_order_must_be_the_customers_and_the_vendors(customer, vendor, nothing_written, owner):
    if owner == "another_customer":
        order = factories.OrderFactory(vendor=vendor)
    else:
        order = factories.OrderFactory(customer=customer)

    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.conversation_start(customer=customer, vendor=vendor, order=order, body="Hello")

    assert refusal.value.field == "order"


def test_an_inactive_vendor_cannot_be_contacted(customer, nothing_written):
    closed = factories.VendorFactory(is_active=False)

    with nothing_written(), pytest.raises(NotFound):
        services.conversation_start(customer=customer, vendor=closed, body="Hello")


def test_an_empty_first_message_leaves_no_conversation(customer, vendor, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput):
        services.conversation_start(customer=customer, vendor=vendor, body=" ")


# Messages --------------------------------------------------------------------------------------


def test_vendor_reply_notifies_the_customer(conversation, customer, clerk):
    reply = services.conversation_send_message(conversation=conversation, sender=clerk, body="Out for delivery.")

    conversation.refresh_from_db()
    assert conversation.last_message_at == reply.created_at
    notification = Notification.objects.get()
    assert (notification.user, notification.type, notification.body) == (customer, "support", "Out for delivery.")


def test_outsiders_cannot_write(conversation, nothing_written):
    outsiders = [factories.UserFactory(), factories.VendorFactory().owner, factories.AdminFactory()]

    with nothing_written():
        for outsider in outsiders:
            with pytest.raises(NotFound):
                services.conversation_send_message(conversation=conversation, sender=outsider, body="Hi")


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_body_must_be_non_empty_and_at_most_5000_characters(conversation, customer, nothing_written, body):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.conversation_send_message(conversation=conversation, sender=customer, body=body)

    assert refusal.value.field == "body"


def test_a_5000_character_message_is_accepted(conversation, customer):
    message = services.conversation_send_message(conversation=conversation, sender=customer, body="x" * 5000)

    assert len(message.body) == 5000


# Read receipts ---------------------------------------------------------------------------------


def test_each_side_marks_only_the_other_sides_messages(conversation, customer, clerk, vendor):
    services.conversation_send_message(conversation=conversation, sender=customer, body="One")
    services.conversation_send_message(conversation=conversation, sender=customer, body="Two")
    services.conversation_send_message(conversation=conversation, sender=clerk, body="Three")

    assert services.conversation_mark_read(conversation=conversation, reader=vendor.owner) == 2
    assert services.conversation_mark_read(conversation=conversation, reader=clerk) == 0
    assert list(Message.objects.filter(read_at__isnull=True).values_list("body", flat=True)) == ["Three"]
    assert services.conversation_mark_read(conversation=conversation, reader=customer) == 1
    assert not Message.objects.filter(read_at__isnull=True).exists()


def test_outsiders_cannot_mark_read(conversation, customer, nothing_written):
    services.conversation_send_message(conversation=conversation, sender=customer, body="Hello")
    outsider = factories.UserFactory()

    with nothing_written(), pytest.raises(NotFound):
        services.conversation_mark_read(conversation=conversation, reader=outsider)


# Lists -----------------------------------------------------------------------------------------


def test_conversation_lists_count_unread_per_side(conversation, customer, vendor, clerk):
    services.conversation_send_message(conversation=conversation, sender=customer, body="Hello?")
    services.conversation_send_message(conversation=conversation, sender=customer, body="Anyone?")
    services.conversation_send_message(conversation=conversation, sender=clerk, body="Yes!")
    factories.ConversationFactory()

    [for_customer] = selectors.conversation_list_for_customer(customer=customer)
    [for_vendor] = selectors.conversation_list_for_vendor_staff(user=clerk)

    assert for_customer == for_vendor == conversation
    assert (for_customer.unread, for_vendor.unread) == (1, 2)
    assert not selectors.conversation_list_for_vendor_staff(user=customer).exists()
