"""Signing in and out of the portals, password change and reset, and the notification bell."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from accounts.models import Notification
from accounts.services import notification_create
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, email, password=factories.PASSWORD, next=None, **meta):
    data = {"email": email, "password": password} | ({"next": next} if next else {})
    return client.post("/accounts/login/", data, **meta)


def test_vendor_staff_signs_in_and_lands_on_the_portal(client, vendor):
    response = _sign_in(client, vendor.owner.email)
    assert response.status_code == 302 and response["Location"] == "/vendor/"
    assert client.get("/vendor/").status_code == 200


def test_sign_in_follows_a_safe_next_and_ignores_another_site(client, vendor):
    response = _sign_in(client, vendor.owner.email, next="/vendor/?status=pending")
    assert response["Location"] == "/vendor/?status=pending"
    client.logout()
    response = _sign_in(client, vendor.owner.email, next="https://evil.example/steal")
    assert response["Location"] == "/vendor/"


def test_a_wrong_password_says_so_without_revealing_the_account(client, vendor):
    wrong = _sign_in(client, vendor.owner.email, password="not-it")
    unknown = _sign_in(client, "nobody@example.test")
    assert wrong.status_code == unknown.status_code == 400
    assert b"Email or password is incorrect." in wrong.content
    assert b"Email or password is incorrect." in unknown.content


def test_a_suspended_account_is_told_it_is_suspended(client):
    user = factories.UserFactory(is_suspended=True)
    response = _sign_in(client, user.email)
    assert response.status_code == 400
    assert b"This account is suspended." in response.content
    assert "_auth_user_id" not in client.session


def test_the_form_names_a_missing_field(client):
    response = client.post("/accounts/login/", {"email": "", "password": "x"})
    assert response.status_code == 400
    assert re.search(rb'class="field has-error".*?This field is required', response.content, re.S)


def test_sign_in_is_throttled_per_account_and_address_without_locking_out_other_addresses(client, vendor, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        _sign_in(client, vendor.owner.email, password="guess")
    locked = _sign_in(client, vendor.owner.email)
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    # The owner, signing in from their own shop's address, is not locked out by the attacker.
    elsewhere = _sign_in(client, vendor.owner.email, REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 302


def test_too_many_failures_from_one_address_are_throttled_across_accounts(client, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    for index in range(4):
        _sign_in(client, f"victim{index}@example.test", password="guess")
    assert _sign_in(client, "another@example.test").status_code == 429


def test_sign_out_needs_a_post_and_ends_the_session(client, vendor):
    client.force_login(vendor.owner)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/vendor/").status_code == 302


def test_password_change_checks_the_old_password_and_the_rules(client, vendor):
    client.force_login(vendor.owner)
    refused = client.post(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    assert refused.status_code == 200
    assert b"Your old password was entered incorrectly" in refused.content
    changed = client.post(
        "/accounts/password/change/",
        {
            "old_password": factories.PASSWORD,
            "new_password1": "a-much-better-pass-42",
            "new_password2": "a-much-better-pass-42",
        },
    )
    assert changed.status_code == 302 and changed["Location"] == "/accounts/password/change/done/"
    vendor.owner.refresh_from_db()
    assert vendor.owner.check_password("a-much-better-pass-42")


def test_password_reset_emails_a_link_that_sets_a_new_password(client, vendor):
    response = client.post("/accounts/password/reset/", {"email": vendor.owner.email})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [vendor.owner.email]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "fresh-start-pass-77", "new_password2": "fresh-start-pass-77"},
    )
    assert done["Location"] == "/accounts/password/reset/done/"
    vendor.owner.refresh_from_db()
    assert vendor.owner.check_password("fresh-start-pass-77")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_the_bell_counts_unread_and_marks_one_or_all_read(client, vendor):
    owner = vendor.owner
    first = notification_create(user=owner, type=Notification.Type.ORDER, title="New order A", action_url="/vendor/")
    notification_create(user=owner, type=Notification.Type.ORDER, title="New order B")
    client.force_login(owner)
    bell = client.get("/accounts/notifications/")
    assert b'class="bell-count">2<' in bell.content and b"New order A" in bell.content
    client.post(f"/accounts/notifications/{first.pk}/read/", HTTP_HX_REQUEST="true")
    assert b'class="bell-count">1<' in client.get("/accounts/notifications/").content
    client.post("/accounts/notifications/read-all/", HTTP_HX_REQUEST="true")
    assert b"bell-count" not in client.get("/accounts/notifications/").content
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_nobody_marks_someone_elses_notification_read(client, vendor, customer):
    theirs = notification_create(user=customer, type=Notification.Type.ORDER, title="Yours")
    client.force_login(vendor.owner)
    assert client.post(f"/accounts/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_bell_needs_a_signed_in_user(client):
    assert client.get("/accounts/notifications/")["Location"].startswith("/accounts/login/")
    assert client.post("/accounts/notifications/read-all/")["Location"].startswith("/accounts/login/")
