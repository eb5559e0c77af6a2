"""Support mail: replies emailed on commit with threading headers; inbound mail finding its thread."""

from datetime import timedelta

import pytest
from django.db import transaction

from accounts.models import AdminActivityLog
from support import selectors, services
from support.mail import normalized_subject, parse_inbound
from support.models import EmailMessage, EmailThread, ThreadNote
from tests import factories
from zora.errors import Conflict, InvalidInput
from zora.versions import version_of

pytestmark = pytest.mark.django_db

Status = EmailThread.Status


def raw_mail(*, sender, subject="Re: Where is my order?", body="Thanks!", message_id="", in_reply_to="", refs=""):
    headers = [f"From: Someone <{sender}>", "To: support@zora.test", f"Subject: {subject}"]
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if refs:
        headers.append(f"References: {refs}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


@pytest.fixture
def thread(customer):
    return services.thread_create(customer=customer, subject="Where is my order?", body="It is late.")


def reply(thread, admin, body="On its way.", **kwargs):
    return services.thread_add_message(thread=thread, direction="outbound", body=body, sender=admin, **kwargs)


# Replies by email ------------------------------------------------------------------------------


def test_a_reply_is_emailed_once_committed_with_threading_headers(
    thread, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = reply(thread, admin_user)
        assert mailoutbox == []  # nothing leaves before the commit
    with django_capture_on_commit_callbacks(execute=True):
        second = reply(thread, admin_user, body="It has arrived?")

    assert len(mailoutbox) == 2
    mail_one, mail_two = mailoutbox
    assert (mail_one.to, mail_one.subject, mail_one.from_email) == (
        [thread.customer.email],
        "Re: Where is my order?",
        "Zora support <support@zora.test>",
    )
    assert mail_one.extra_headers["Message-ID"] == first.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith("@zora.test>")
    assert "In-Reply-To" not in mail_one.extra_headers  # the thread had no mail before
    assert mail_two.extra_headers["In-Reply-To"] == first.message_id == second.in_reply_to
    assert mail_two.extra_headers["References"] == first.message_id
    assert AdminActivityLog.objects.filter(action="support.replied", admin=admin_user).count() == 2


def test_a_rolled_back_reply_sends_nothing(thread, admin_user, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            reply(thread, admin_user)
            raise RuntimeError("later step failed")
    assert mailoutbox == []
    assert not thread.messages.filter(direction="outbound").exists()


def test_a_reply_on_a_stale_version_is_refused(thread, admin_user, customer):
    seen = version_of(thread)
    services.thread_add_message(thread=thread, direction="inbound", body="Hello?", sender=customer)

    with pytest.raises(Conflict) as refused:
        reply(thread, admin_user, seen_version=seen)
    assert refused.value.field == "seen_version"
    assert not thread.messages.filter(direction="outbound").exists()


def test_a_failing_mail_server_keeps_the_reply(thread, admin_user, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(thread, admin_user)
    assert EmailMessage.objects.filter(pk=sent.pk).exists()


# Inbound mail ----------------------------------------------------------------------------------


def test_an_answer_lands_in_its_thread_by_its_headers_and_reopens_it(thread, admin_user, customer):
    sent = reply(thread, admin_user)
    services.thread_update(actor=admin_user, thread=thread, status=Status.CLOSED)

    message = services.thread_receive_email(
        raw=raw_mail(sender="another.address@example.test", subject="Something else", in_reply_to=sent.message_id)
    )

    thread.refresh_from_db()
    assert message.thread == thread
    assert (message.direction, message.from_email, message.sender, message.in_reply_to) == (
        "inbound",
        "another.address@example.test",
        None,
        sent.message_id,
    )
    assert (thread.status, thread.unread_count, thread.message_count) == (Status.OPEN, 2, 3)


def test_references_find_the_thread_when_in_reply_to_is_unknown(thread, admin_user):
    sent = reply(thread, admin_user)
    message = services.thread_receive_email(
        raw=raw_mail(sender="x@example.test", subject="?", in_reply_to="<unknown@else>", refs=f"{sent.message_id}")
    )
    assert message.thread == thread


def test_without_headers_the_same_sender_and_subject_find_the_thread(thread, customer):
    message = services.thread_receive_email(
        raw=raw_mail(sender=customer.email.upper(), subject="RE: Fwd: where is my order?")
    )

    assert message.thread == thread
    assert message.sender == customer


def test_a_new_subject_opens_a_thread_for_the_customer_with_that_address(thread, customer):
    message = services.thread_receive_email(
        raw=raw_mail(sender=customer.email, subject="Refund please", message_id="<abc@mail.example>")
    )

    assert message.thread != thread
    assert (message.thread.customer, message.thread.subject, message.message_id) == (
        customer,
        "Refund please",
        "<abc@mail.example>",
    )


def test_a_stranger_opens_a_thread_with_their_address(db):
    message = services.thread_receive_email(raw=raw_mail(sender="Visitor@Example.test", subject="Hello"))

    assert (message.thread.customer, message.thread.external_email) == (None, "visitor@example.test")


def test_the_same_mail_delivered_twice_is_stored_once(customer):
    raw = raw_mail(sender=customer.email, subject="Hi", message_id="<once@mail.example>")
    first = services.thread_receive_email(raw=raw)
    again = services.thread_receive_email(raw=raw)
    assert first == again and EmailMessage.objects.count() == 1


def test_spam_stays_spam(thread, admin_user, customer):
    services.thread_update(actor=admin_user, thread=thread, status=Status.SPAM)
    services.thread_receive_email(raw=raw_mail(sender=customer.email))
    thread.refresh_from_db()
    assert thread.status == Status.SPAM


def test_the_quoted_earlier_mail_is_left_out(customer):
    body = "Yes, today works.\r\n\r\nOn Tue, 4 Mar 2025 at 10:00, Zora support wrote:\r\n> When can we call?"
    message = services.thread_receive_email(raw=raw_mail(sender=customer.email, body=body))
    assert message.body == "Yes, today works."


def test_html_only_mail_is_read_as_text(customer):
    raw = (
        f"From: {customer.email}\r\nSubject: Hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p>"
    ).encode()
    assert services.thread_receive_email(raw=raw).body == "Hello there"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "empty"),
        (b"Subject: Hi\r\n\r\nNo sender", "no sender"),
        (b"From: nobody\r\nSubject: Hi\r\n\r\nBad sender", "no sender"),
        (b"From: a@example.test\r\nSubject: Hi\r\nContent-Type: image/png\r\n\r\nxx", "no text"),
        (b"From: a@example.test\r\nSubject: Hi\r\n\r\n   ", "empty"),
    ],
)
def test_mail_that_cannot_become_a_message_is_refused_naming_the_problem(db, raw, problem):
    with pytest.raises(InvalidInput) as refused:
        parse_inbound(raw)
    assert refused.value.field == "message" and problem in refused.value.message


def test_subject_prefixes_are_ignored():
    assert normalized_subject("Re: RE[2]: Fwd: FW: AW: Late") == "Late"


# Notes, settings, templates ------------------------------------------------------------------


def test_a_note_is_for_the_team_only(thread, admin_user, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = services.thread_note_add(actor=admin_user, thread=thread, body="Called the shop.")
    assert ThreadNote.objects.get() == note
    assert mailoutbox == []
    assert not thread.messages.filter(body="Called the shop.").exists()
    assert AdminActivityLog.objects.filter(action="support.note_added").exists()
    with pytest.raises(Conflict):
        services.thread_note_add(actor=admin_user, thread=thread, body="Again", seen_version="2000-01-01T00:00:00")


def test_settings_refuse_a_stale_version(thread, admin_user):
    seen = version_of(thread)
    services.thread_update(actor=admin_user, thread=thread, priority="high")
    with pytest.raises(Conflict) as refused:
        services.thread_update(actor=admin_user, thread=thread, status="closed", seen_version=seen)
    assert "updated" in refused.value.message


def test_a_template_fills_its_placeholders(thread, admin_user):
    thread.order = factories.OrderFactory(customer=thread.customer)
    thread.save()
    template = services.email_template_create(
        actor=admin_user, name="late", subject="Late", body="Hi {customer_name}, order {order_number}. {admin_name} {x}"
    )
    filled = selectors.template_filled(template=template, thread=thread, admin=admin_user)
    assert filled == (
        f"Hi {thread.customer.get_full_name()}, order {thread.order.number}. {admin_user.get_full_name()} {{x}}"
    )


# First-response targets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "hours_later", "state"),
    [
        ("urgent", 0.5, "on_time"),
        ("urgent", 0.8, "due_soon"),
        ("urgent", 1.5, "breached"),
        ("normal", 20, "due_soon"),
        ("low", 50, "on_time"),
    ],
)
def test_first_response_targets_by_priority(customer, priority, hours_later, state):
    created = services.thread_create(customer=customer, subject="Hi", body="Hello", priority=priority)
    thread = selectors.thread_list_for_admin().get(pk=created.pk)
    assert selectors.first_response(thread, now=thread.created_at + timedelta(hours=hours_later)).state == state


def test_an_answered_thread_has_met_its_target(thread, admin_user):
    reply(thread, admin_user)
    listed = selectors.thread_list_for_admin().get(pk=thread.pk)
    assert selectors.first_response(listed).state == "answered"
    services.thread_update(actor=admin_user, thread=thread, status=Status.CLOSED)
    unanswered = services.thread_create(customer=thread.customer, subject="x", body="y")
    services.thread_update(actor=admin_user, thread=unanswered, status=Status.CLOSED)
    assert selectors.first_response(selectors.thread_list_for_admin().get(pk=unanswered.pk)) is None
