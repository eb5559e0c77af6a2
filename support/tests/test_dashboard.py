"""The support inbox pages on the admin dashboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from support import services
from support.models import EmailTemplate, EmailThread, ThreadNote
from tests import factories
from zora.versions import version_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(customer):
    return services.thread_create(customer=customer, subject="Where is my order?", body="It is late.")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_only_platform_admins_get_the_inbox(client, customer, vendor, admin_user, thread):
    another_admin = factories.AdminFactory()  # any admin may act; the pages are the same for all
    urls = [
        "/dashboard/support/",
        "/dashboard/support/list/",
        f"/dashboard/support/{thread.pk}/",
        "/dashboard/support/templates/",
    ]
    for url in urls:
        assert client.get(url)["Location"].startswith("/accounts/login/?next=")
    for someone in (customer, vendor.owner):
        client.force_login(someone)
        for url in urls:
            assert client.get(url)["Location"].startswith("/accounts/login/")
        assert client.post(f"/dashboard/support/{thread.pk}/reply/", {"body": "x"}).status_code == 302
    client.force_login(another_admin)
    for url in urls:
        assert client.get(url).status_code == 200
    assert client.get("/dashboard/support/999999/").status_code == 404


def test_the_inbox_views_filters_and_response_badges(admin_client, admin_user, customer):
    mine = services.thread_create(customer=customer, subject="Mine", body="a", priority="urgent")
    services.thread_update(actor=admin_user, thread=mine, assignee=admin_user)
    late = services.thread_create(customer=customer, subject="Waiting long", body="b", priority="high")
    EmailThread.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(hours=5))

    page = admin_client.get("/dashboard/support/").content.decode()
    assert "Mine" in page and "Waiting long" in page and "Breached" in page
    assert 'hx-trigger="zora:changed:email_threads from:body"' in page
    mine_only = admin_client.get("/dashboard/support/list/?view=mine").content.decode()
    assert "Mine" in mine_only and "Waiting long" not in mine_only
    unassigned = admin_client.get("/dashboard/support/list/?view=unassigned").content.decode()
    assert "Waiting long" in unassigned and ">Mine<" not in unassigned
    urgent = admin_client.get("/dashboard/support/list/?priority=high").content.decode()
    assert "Waiting long" in urgent and ">Mine<" not in urgent
    assert "No thread" in admin_client.get("/dashboard/support/list/?status=spam").content.decode()


def test_the_thread_page_shows_messages_notes_and_presence(admin_client, admin_user, thread):
    services.thread_note_add(actor=admin_user, thread=thread, body="Shop is on it.")
    page = admin_client.get(f"/dashboard/support/{thread.pk}/").content.decode()
    assert "It is late." in page and "Shop is on it." in page and "Internal note · team only" in page
    assert f'data-presence-topic="realtime:dashboard:support.emailthread:{thread.pk}"' in page
    assert "zora:changed:email_messages from:body" in page
    thread.refresh_from_db()
    assert thread.unread_count == 0  # opening the thread reads it


def test_a_reply_is_sent_and_shown(admin_client, thread, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/dashboard/support/{thread.pk}/reply/",
            {"body": "On its way.", "seen_version": version_of(thread)},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "On its way." in html and 'hx-swap-oob="innerHTML"' in html
    assert len(mailoutbox) == 1 and mailoutbox[0].body == "On its way."


def test_a_reply_without_text_shows_the_error(admin_client, thread):
    response = admin_client.post(
        f"/dashboard/support/{thread.pk}/reply/",
        {"body": "", "seen_version": version_of(thread)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_a_reply_on_a_stale_thread_is_refused_and_keeps_the_text(admin_client, customer, thread):
    seen = version_of(thread)
    services.thread_add_message(thread=thread, direction="inbound", body="Hello??", sender=customer)
    response = admin_client.post(
        f"/dashboard/support/{thread.pk}/reply/",
        {"body": "My careful answer", "seen_version": seen},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "nothing was changed" in html and "My careful answer" in html
    thread.refresh_from_db()
    assert version_of(thread) in html
    assert not thread.messages.filter(direction="outbound").exists()


def test_assign_status_and_priority(admin_client, admin_user, thread):
    response = admin_client.post(
        f"/dashboard/support/{thread.pk}/settings/",
        {"status": "pending", "priority": "urgent", "assignee": admin_user.pk, "seen_version": version_of(thread)},
    )
    assert response["Location"] == f"/dashboard/support/{thread.pk}/"
    thread.refresh_from_db()
    assert (thread.status, thread.priority, thread.assignee) == ("pending", "urgent", admin_user)


def test_settings_refuse_what_is_not_a_choice_and_a_non_admin_assignee(admin_client, customer, thread):
    response = admin_client.post(
        f"/dashboard/support/{thread.pk}/settings/",
        {"status": "lost", "priority": "normal", "assignee": customer.pk, "seen_version": version_of(thread)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Select a valid choice. lost is not one of the available choices." in html
    assert "Select a valid choice. That choice is not one of the available choices." in html


def test_settings_on_a_stale_version_answer_409(admin_client, admin_user, thread):
    seen = version_of(thread)
    services.thread_update(actor=admin_user, thread=thread, status="closed")
    response = admin_client.post(
        f"/dashboard/support/{thread.pk}/settings/",
        {"status": "open", "priority": "high", "assignee": "", "seen_version": seen},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "updated this" in response.content.decode()
    thread.refresh_from_db()
    assert (thread.status, thread.priority) == ("closed", "normal")


def test_an_internal_note(admin_client, thread, mailoutbox):
    response = admin_client.post(
        f"/dashboard/support/{thread.pk}/notes/", {"body": "VIP customer", "seen_version": version_of(thread)}
    )
    assert response.status_code == 302
    assert ThreadNote.objects.get().body == "VIP customer" and mailoutbox == []
    refused = admin_client.post(f"/dashboard/support/{thread.pk}/notes/", {"body": " ", "seen_version": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()


def test_a_quick_reply_fills_the_reply(admin_client, admin_user, thread):
    template = services.email_template_create(
        actor=admin_user, name="Late", subject="Late", body="Hello {customer_name}, {admin_name} here."
    )
    html = admin_client.get(f"/dashboard/support/{thread.pk}/actions/?template={template.pk}").content.decode()
    assert f"Hello {thread.customer.get_full_name()}, {admin_user.get_full_name()} here." in html


def test_templates_are_created_and_edited(admin_client, admin_user):
    created = admin_client.post(
        "/dashboard/support/templates/", {"name": "Refund", "subject": "Your refund", "body": "Done, {customer_name}."}
    )
    assert created["Location"] == "/dashboard/support/templates/"
    template = EmailTemplate.objects.get()
    assert not template.is_active  # the box was left unticked
    clash = admin_client.post("/dashboard/support/templates/", {"name": "Refund", "subject": "x", "body": "y"})
    assert "A template with this name already exists." in clash.content.decode()
    blank = admin_client.post("/dashboard/support/templates/", {"name": "", "subject": "x", "body": "y"})
    assert "This field is required." in blank.content.decode()

    url = f"/dashboard/support/templates/{template.pk}/"
    assert "Your refund" in admin_client.get(url).content.decode()
    seen = version_of(template)
    edited = admin_client.post(
        url, {"name": "Refund", "subject": "Refunded", "body": "Done.", "is_active": "on", "seen_version": seen}
    )
    assert edited.status_code == 302
    template.refresh_from_db()
    assert (template.subject, template.is_active) == ("Refunded", True)
    stale = admin_client.post(url, {"name": "Refund", "subject": "Old", "body": "Old.", "seen_version": seen})
    assert stale.status_code == 409 and "nothing was changed" in stale.content.decode()
