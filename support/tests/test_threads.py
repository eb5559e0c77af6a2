from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.models import AdminActivityLog, Notification
from realtime.models import Event
from support import mail, selectors, services
from support.models import EmailMessage, EmailTemplate, EmailThread
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db

Status = EmailThread.Status


@pytest.fixture
def thread(customer):
    return services.thread_create(customer=customer, subject="Where is my order?", body="It is late.")


def _add_inbound(thread, body="Any news?"):
    return services.thread_add_message(thread=thread, direction="inbound", body=body, sender=thread.customer)


# Creating threads ------------------------------------------------------------------------------


def test_thread_create_writes_the_first_inbound_message(thread, customer):
    message = thread.messages.get()

    assert (message.direction, message.sender, message.from_email, message.body) == (
        "inbound",
        customer,
        customer.email,
        "It is late.",
    )
    assert (thread.message_count, thread.unread_count, thread.status) == (1, 1, Status.OPEN)
    assert thread.last_message_at == message.created_at


def test_thread_from_someone_without_an_account(mailoutbox):
    thread = services.thread_create(
        external_email=" Visitor@Example.TEST", subject="Partnership", body="Hello", priority="low"
    )

    assert (thread.customer, thread.external_email, thread.priority) == (None, "visitor@example.test", "low")
    assert thread.messages.get().from_email == "visitor@example.test"
    assert mailoutbox == []


def test_thread_about_the_customers_order(customer):
    order = factories.OrderFactory(customer=customer)

    thread = services.thread_create(customer=customer, order=order, subject="Missing item", body="No bread")

    assert thread.order == order


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"customer": None}, "external_email"),
        ({"customer": None, "external_email": "nobody-at-all"}, "external_email"),
        ({"subject": " "}, "subject"),
        ({"priority": "whenever"}, "priority"),
        # The thread row is written before its first message: an empty body must take it back out.
        ({"body": "  "}, "body"),
    ],
)
def test_thread_create_refuses_bad_input(customer, nothing_written, arguments, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.thread_create(**{"customer": customer, "subject": "Help", "body": "Please", **arguments})

    assert refusal.value.field == field


def test_thread_cannot_refer_to_someone_elses_order(customer, nothing_written):
    order = factories.OrderFactory()

    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.thread_create(customer=customer, order=order, subject="Refund", body="Please")

    assert refusal.value.field == "order"


# Messages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (Status.OPEN, Status.OPEN),
        (Status.PENDING, Status.OPEN),
        (Status.CLOSED, Status.OPEN),
        (Status.SPAM, Status.SPAM),
    ],
)
def test_customer_writing_reopens_but_spam_stays_spam(thread, before, after):
    thread.status = before
    thread.save()

    _add_inbound(thread)

    thread.refresh_from_db()
    assert (thread.status, thread.message_count, thread.unread_count) == (after, 2, 2)


def test_admin_reply_notifies_the_customer_and_sends_no_email(thread, admin_user, customer, mailoutbox):
    reply = services.thread_add_message(thread=thread, direction="outbound", body="On its way!", sender=admin_user)

    thread.refresh_from_db()
    assert (reply.from_email, reply.to_email) == (mail.support_address(), customer.email)
    assert (thread.message_count, thread.unread_count, thread.last_message_at) == (2, 1, reply.created_at)
    notification = Notification.objects.get(user=customer)
    assert (notification.type, notification.body) == (Notification.Type.SUPPORT, "On its way!")
    assert notification.data == {"thread_id": thread.pk, "message_id": reply.pk}
    assert mailoutbox == []


def test_a_reply_reaches_the_customer_from_the_support_address_not_the_admins_own(thread, admin_user, settings):
    """The customer reads the reply's row (its `email_messages` event, the app's catch-up): it must
    name the address the mail comes from, not the personal address of whoever wrote it."""
    settings.SUPPORT_FROM_EMAIL = "Zora help <help@zora.example>"
    reply = services.thread_add_message(thread=thread, direction="outbound", body="Sorted.", sender=admin_user)

    [event] = Event.objects.filter(table="email_messages", record__id=reply.pk)
    assert event.record["from_email"] == "help@zora.example"
    assert admin_user.email not in str(event.record)
    assert reply.sender == admin_user  # who wrote it stays on record for the team


def test_reply_to_an_external_writer_notifies_nobody(admin_user):
    thread = services.thread_create(external_email="visitor@example.test", subject="Hi", body="Hello")

    reply = services.thread_add_message(thread=thread, direction="outbound", body="Hello back", sender=admin_user)

    assert reply.to_email == "visitor@example.test"
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("direction", "sender_kind", "error"),
    [
        ("outbound", "customer", NotFound),
        ("outbound", "nobody", NotFound),
        ("inbound", "stranger", NotFound),
        ("sideways", "customer", InvalidInput),
    ],
)
def test_add_message_refuses_the_wrong_writer(thread, customer, nothing_written, direction, sender_kind, error):
    sender = {"customer": customer, "nobody": None, "stranger": factories.UserFactory()}[sender_kind]

    with nothing_written(), pytest.raises(error):
        services.thread_add_message(thread=thread, direction=direction, body="Hi", sender=sender)


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_lose_no_count():
    thread = factories.EmailThreadFactory()
    writers = 10

    def write(index):
        try:
            return _add_inbound(thread, body=f"message {index}").pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=writers) as pool:
        written = list(pool.map(write, range(writers)))

    thread.refresh_from_db()
    assert len(set(written)) == writers
    assert (thread.message_count, thread.unread_count) == (writers, writers)
    assert thread.last_message_at == EmailMessage.objects.filter(thread=thread).latest("created_at").created_at


# Triage ----------------------------------------------------------------------------------------


def test_admin_triages_a_thread_and_it_is_logged(thread, admin_user):
    colleague = factories.AdminFactory()

    services.thread_update(actor=admin_user, thread=thread, status="pending", priority="urgent", assignee=colleague)

    thread.refresh_from_db()
    assert (thread.status, thread.priority, thread.assignee) == ("pending", "urgent", colleague)
    entry = AdminActivityLog.objects.get()
    assert (entry.action, entry.category, entry.entity_type) == (
        "support.thread_updated",
        "customer",
        "support.emailthread",
    )
    assert entry.details == {
        "status": {"from": "open", "to": "pending"},
        "priority": {"from": "normal", "to": "urgent"},
        "assignee": {"from": None, "to": colleague.pk},
    }

    services.thread_update(actor=admin_user, thread=thread, assignee=None)
    thread.refresh_from_db()
    assert (thread.assignee, thread.status) == (None, "pending")


def test_update_without_a_change_logs_nothing(thread, admin_user):
    services.thread_update(actor=admin_user, thread=thread, status="open")

    assert not AdminActivityLog.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (lambda customer: {"status": "archived"}, "status"),
        (lambda customer: {"priority": "asap"}, "priority"),
        (lambda customer: {"assignee": customer}, "assignee"),
    ],
)
def test_update_refuses_bad_values(thread, admin_user, customer, nothing_written, changes, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.thread_update(actor=admin_user, thread=thread, **changes(customer))

    assert refusal.value.field == field


def test_only_admins_triage_or_mark_read(thread, customer, nothing_written):
    with nothing_written():
        with pytest.raises(NotFound):
            services.thread_update(actor=customer, thread=thread, status="closed")
        with pytest.raises(NotFound):
            services.thread_mark_read(actor=customer, thread=thread)


def test_mark_read_marks_inbound_messages_only(thread, admin_user):
    _add_inbound(thread)
    reply = services.thread_add_message(thread=thread, direction="outbound", body="Looking", sender=admin_user)

    services.thread_mark_read(actor=admin_user, thread=thread)

    thread.refresh_from_db()
    assert thread.unread_count == 0
    assert not thread.messages.filter(direction="inbound", read_at__isnull=True).exists()
    reply.refresh_from_db()
    assert reply.read_at is None


# Templates -------------------------------------------------------------------------------------


def test_templates_are_created_updated_and_logged(admin_user):
    template = services.email_template_create(
        actor=admin_user, name="Late order", subject="Sorry", body="We apologise."
    )
    services.email_template_update(actor=admin_user, template=template, body="We are sorry.", is_active=False)

    template.refresh_from_db()
    assert (template.body, template.is_active, template.created_by) == ("We are sorry.", False, admin_user)
    assert [entry.action for entry in AdminActivityLog.objects.order_by("id")] == [
        "support.template_created",
        "support.template_updated",
    ]


def test_template_names_are_unique(admin_user, nothing_written):
    services.email_template_create(actor=admin_user, name="Late order", subject="Sorry", body="We apologise.")
    other = services.email_template_create(actor=admin_user, name="Refund", subject="Refund", body="Done.")

    with nothing_written():
        with pytest.raises(Conflict) as on_create:
            services.email_template_create(actor=admin_user, name="Late order", subject="Again", body="Again")
        with pytest.raises(Conflict) as on_rename:
            services.email_template_update(actor=admin_user, template=other, name="Late order")

    assert on_create.value.code == on_rename.value.code == "name_taken"
    assert on_create.value.field == "name"
    assert EmailTemplate.objects.get(pk=other.pk).name == "Refund"


@pytest.mark.parametrize(
    ("fields", "field"), [({"name": ""}, "name"), ({"subject": " "}, "subject"), ({"body": ""}, "body")]
)
def test_template_fields_are_required(admin_user, nothing_written, fields, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.email_template_create(actor=admin_user, **{"name": "N", "subject": "S", "body": "B", **fields})

    assert refusal.value.field == field


def test_only_admins_write_templates(customer, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.email_template_create(actor=customer, name="Mine", subject="S", body="B")


# Lists -----------------------------------------------------------------------------------------


def test_thread_lists(thread, customer, admin_user):
    external = services.thread_create(external_email="visitor@example.test", subject="Partnership", body="Hi")
    services.thread_update(actor=admin_user, thread=external, status="spam", assignee=admin_user)

    assert list(selectors.thread_list_for_customer(customer=customer)) == [thread]
    assert set(selectors.thread_list_for_admin()) == {thread, external}
    assert list(selectors.thread_list_for_admin(status="spam")) == [external]
    assert list(selectors.thread_list_for_admin(assignee=admin_user)) == [external]
    assert list(selectors.thread_list_for_admin(search="VISITOR@")) == [external]
    assert list(selectors.thread_list_for_admin(priority="urgent")) == []
