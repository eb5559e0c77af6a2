"""Password change, password reset by email and the list of signed-in devices, over HTTP."""

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.api.conftest import assert_error
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-42"
pytestmark = pytest.mark.django_db(transaction=True)  # the reset mail is sent on commit


def sign_in(customer, device_name):
    client = APIClient()
    answer = client.post(
        "/api/v1/auth/token", {"email": customer.email, "password": PASSWORD, "device_name": device_name}, format="json"
    )
    assert answer.status_code == 200, answer.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['token']}")
    return client


def test_changing_the_password_signs_out_every_other_device(customer):
    phone, tablet = sign_in(customer, "phone"), sign_in(customer, "tablet")
    wrong = phone.post(
        "/api/v1/auth/password", {"current_password": "nope", "new_password": NEW_PASSWORD}, format="json"
    )
    assert assert_error(wrong, 400, "wrong_password")["field"] == "current_password"
    weak = phone.post("/api/v1/auth/password", {"current_password": PASSWORD, "new_password": "123"}, format="json")
    assert assert_error(weak, 400, "weak_password")["field"] == "new_password"

    changed = phone.post(
        "/api/v1/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert changed.status_code == 200 and changed.json() == {"signed_out_devices": 1}
    assert phone.get("/api/v1/me").status_code == 200
    assert_error(tablet.get("/api/v1/me"), 401, "authentication_failed")
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_a_reset_link_by_email_sets_a_new_password_and_signs_every_device_out(api, customer):
    phone = sign_in(customer, "phone")
    asked = api.post("/api/v1/auth/password-reset", {"email": customer.email.upper()}, format="json")
    unknown = api.post("/api/v1/auth/password-reset", {"email": "nobody@example.test"}, format="json")
    # The same answer whether or not the account exists; only the real one gets mail.
    assert asked.status_code == unknown.status_code == 202 and asked.json() == unknown.json()
    assert [message.to for message in mail.outbox] == [[customer.email]]
    uid, token = re.search(r"/password/reset/([^/]+)/([^/]+)/", mail.outbox[0].body).groups()

    bad = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": "x" + token, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert assert_error(bad, 400, "invalid_token")["field"] == "token"
    done = api.post(
        "/api/v1/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json"
    )
    assert done.status_code == 200, done.content
    assert_error(phone.get("/api/v1/me"), 401, "authentication_failed")
    assert sign_in_with(customer.email, NEW_PASSWORD).status_code == 200
    # The link is spent once the password changed.
    again = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "another-pass-phrase-7"},
        format="json",
    )
    assert_error(again, 400, "invalid_token")


def sign_in_with(email, password):
    return APIClient().post("/api/v1/auth/token", {"email": email, "password": password}, format="json")


def test_a_malformed_uid_is_the_same_clear_refusal(api, db):
    for uid in ("", "!!!", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA"):
        answer = api.post(
            "/api/v1/auth/password-reset/confirm",
            {"uid": uid or "x", "token": "t", "new_password": NEW_PASSWORD},
            format="json",
        )
        assert_error(answer, 400, "invalid_token")


def test_devices_are_listed_and_one_can_be_signed_out_from_another(customer, other_customer):
    phone, tablet = sign_in(customer, "phone"), sign_in(customer, "tablet")
    sign_in(other_customer, "someone else's")
    listed = phone.get("/api/v1/auth/devices").json()["results"]
    assert sorted((device["name"], device["current"]) for device in listed) == [("phone", True), ("tablet", False)]
    tablet_id = next(device["id"] for device in listed if device["name"] == "tablet")

    assert phone.delete(f"/api/v1/auth/devices/{tablet_id}").status_code == 204
    assert_error(tablet.get("/api/v1/me"), 401, "authentication_failed")
    assert [device["name"] for device in phone.get("/api/v1/auth/devices").json()["results"]] == ["phone"]
    # Another person's device is not found, and nothing happens to it.
    theirs = ApiToken.objects.get(user=other_customer)
    assert_error(phone.delete(f"/api/v1/auth/devices/{theirs.pk}"), 404)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
