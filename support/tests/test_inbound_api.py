"""The inbound mail endpoint, a real SMTP round trip, and what the customer's API shows of a thread."""

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from rest_framework.test import APIClient

from accounts.services import api_token_create
from realtime.models import Event
from support import services
from support.models import EmailThread

pytestmark = pytest.mark.django_db

TOKEN = "inbound-secret-for-tests"
INBOUND = "/api/v1/support/inbound"


@pytest.fixture(autouse=True)
def inbound_token(settings):
    settings.SUPPORT_INBOUND_TOKEN = TOKEN


@pytest.fixture
def relay():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


def deliver(client, raw: bytes):
    return client.generic("POST", INBOUND, raw, content_type="message/rfc822")


def customer_client(user) -> APIClient:
    _token, key = api_token_create(user=user, name="phone")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


class Inbox:
    """An SMTP server's handler that keeps what arrived."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "127.0.0.1", port, 0, 0
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def test_a_reply_goes_through_smtp_and_the_answer_comes_back_to_the_same_thread(
    smtp_server, relay, customer, admin_user, django_capture_on_commit_callbacks
):
    thread = services.thread_create(customer=customer, subject="Where is my order?", body="It is late.")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.thread_add_message(thread=thread, direction="outbound", body="On its way.", sender=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.thread_add_message(
            thread=thread, direction="outbound", body="Should be there now.", sender=admin_user
        )

    assert len(smtp_server.received) == 2
    envelope = smtp_server.received[1]
    assert envelope.rcpt_tos == [customer.email]
    arrived = message_from_bytes(envelope.content, policy=policy.default)
    assert arrived["Subject"] == "Re: Where is my order?"
    assert arrived["Message-ID"] == second.message_id
    assert arrived["In-Reply-To"] == first.message_id
    assert arrived["References"] == first.message_id
    assert "Should be there now." in arrived.get_body(("plain",)).get_content()

    # The customer answers from their mail program: it quotes the mail and names it in its headers.
    answer = (
        f"From: {customer.get_full_name()} <{customer.email}>\r\nTo: {arrived['From']}\r\n"
        f"Subject: Re: {arrived['Subject']}\r\nMessage-ID: <answer-1@mail.example>\r\n"
        f"In-Reply-To: {arrived['Message-ID']}\r\nReferences: {arrived['References']} {arrived['Message-ID']}\r\n\r\n"
        "Got it, thank you!\r\n\r\n> Should be there now.\r\n"
    ).encode()
    response = deliver(relay, answer)

    assert response.status_code == 201, response.content
    assert response.json()["thread"] == thread.pk
    thread.refresh_from_db()
    assert thread.messages.last().body == "Got it, thank you!"
    assert thread.messages.last().sender == customer


def test_the_endpoint_needs_the_shared_secret(settings, customer):
    raw = f"From: {customer.email}\r\nSubject: Hi\r\n\r\nHello".encode()
    assert deliver(APIClient(), raw).status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer not-the-secret")
    answer = deliver(wrong, raw)
    assert answer.status_code == 401 and "SUPPORT_INBOUND_TOKEN" in answer.json()["error"]["message"]
    # A customer's own API token is no way in either.
    assert deliver(customer_client(customer), raw).status_code == 401
    settings.SUPPORT_INBOUND_TOKEN = ""
    off = APIClient()
    off.credentials(HTTP_AUTHORIZATION="Bearer ")
    assert deliver(off, raw).status_code == 401
    assert not EmailThread.objects.exists()


def test_a_bad_message_is_refused_naming_the_problem(relay):
    response = deliver(relay, b"Subject: Hi\r\n\r\nWho sent this?")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("bad_message", "message")
    assert "From header" in error["message"]
    assert deliver(relay, b"").json()["error"]["message"].startswith("The message is empty")


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        # Each was refused by the thread's own validation, as `external_email` or a database error: the
        # relay posting the mail has no such field, and was told nothing about the mail.
        (b"From: <a@b>\r\nSubject: Hi\r\n\r\nHello", "sender 'a@b' (its From header) is not a valid email"),
        (b"From: sam@example.test\r\nSubject: Hi\r\n\r\nHel\x00lo", "text holds a NUL character"),
        (b"From: sam@example.test\r\nSubject: H\x00i\r\n\r\nHello", "subject holds a NUL character"),
    ],
)
def test_a_mail_that_cannot_be_stored_is_refused_naming_the_part_at_fault(relay, raw, complaint):
    error = deliver(relay, raw).json()["error"]
    assert (error["code"], error["field"]) == ("bad_message", "message")
    assert complaint in error["message"]
    assert not EmailThread.objects.exists()


def test_message_ids_no_mail_could_have_are_left_out(relay):
    """A NUL or more than 255 characters: stored, they failed in the database (a 400 naming nothing)."""
    long_id = "<" + "x" * 300 + "@example.test>"
    raw = f"From: sam@example.test\r\nMessage-ID: {long_id}\r\nIn-Reply-To: <a\x00b@c>\r\n\r\nHello".encode()
    assert deliver(relay, raw).status_code == 201
    [message] = EmailThread.objects.get().messages.all()
    assert (message.message_id, message.in_reply_to) == ("", "")


def test_the_mail_may_come_as_a_multipart_field(relay, customer):
    raw = f"From: {customer.email}\r\nSubject: Refund\r\n\r\nPlease refund.".encode()
    response = relay.post(INBOUND, {"message": raw.decode()}, format="multipart")
    assert response.status_code == 201, response.content
    assert EmailThread.objects.get().customer == customer


def test_the_customer_sees_the_reply_but_never_an_internal_note(customer, admin_user):
    thread = services.thread_create(customer=customer, subject="Late", body="Where is it?")
    services.thread_note_add(actor=admin_user, thread=thread, body="Shop says the driver is lost.")
    services.thread_add_message(thread=thread, direction="outbound", body="Five more minutes.", sender=admin_user)

    api = customer_client(customer)
    messages = api.get(f"/api/v1/support/threads/{thread.pk}/messages").json()["results"]
    assert [(m["direction"], m["body"]) for m in messages] == [
        ("inbound", "Where is it?"),
        ("outbound", "Five more minutes."),
    ]
    assert b"driver is lost" not in api.get(f"/api/v1/support/threads/{thread.pk}/messages").content


def test_on_the_socket_the_customer_gets_the_reply_and_only_the_team_gets_the_note(customer, admin_user):
    thread = services.thread_create(customer=customer, subject="Late", body="Where is it?")
    services.thread_note_add(actor=admin_user, thread=thread, body="Internal")
    services.thread_add_message(thread=thread, direction="outbound", body="Soon.", sender=admin_user)

    (note_event,) = Event.objects.filter(table="email_thread_notes")
    assert note_event.audience == ["staff"]
    reply_event = Event.objects.filter(table="email_messages").order_by("id").last()
    assert reply_event.record["direction"] == "outbound"
    assert f"user.{customer.pk}" in reply_event.audience
