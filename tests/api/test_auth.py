"""Sign-up, sign-in with per-device tokens, sign-out, suspension and login throttling."""

import pytest

from accounts.models import ApiToken
from accounts.services import user_set_suspended
from tests.api.conftest import assert_error
from tests.factories import PASSWORD

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"


def bearer(api, key):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api


def test_register_creates_the_account_and_signs_the_device_in(api, db):
    response = api.post(
        REGISTER,
        {"email": "New@Example.test", "password": PASSWORD, "full_name": "Ada Lovelace", "device_name": "Pixel"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "new@example.test"
    assert body["user"]["full_name"] == "Ada Lovelace"
    assert ApiToken.objects.get(user__email="new@example.test").name == "Pixel"
    me = bearer(api, body["token"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["email"] == "new@example.test"


def test_register_names_each_bad_field(api, db):
    response = api.post(REGISTER, {"email": "not-an-email", "password": 7}, format="json")
    assert_error(response, 400, "invalid", fields=["email", "full_name"])


def test_register_refuses_a_weak_password_and_a_taken_email(api, customer):
    weak = api.post(REGISTER, {"email": "a@example.test", "password": "123", "full_name": "A"}, format="json")
    assert assert_error(weak, 400, "weak_password")["field"] == "password"
    taken = api.post(REGISTER, {"email": customer.email, "password": PASSWORD, "full_name": "B"}, format="json")
    assert_error(taken, 409, "email_taken")


def test_each_device_gets_its_own_token_and_logout_revokes_only_that_one(api, customer):
    phone = api.post(TOKEN, {"email": customer.email, "password": PASSWORD, "device_name": "phone"}, format="json")
    tablet = api.post(TOKEN, {"email": customer.email, "password": PASSWORD, "device_name": "tablet"}, format="json")
    assert phone.status_code == tablet.status_code == 200
    phone_key, tablet_key = phone.json()["token"], tablet.json()["token"]
    assert phone_key != tablet_key
    assert phone.json()["user"]["id"] == customer.pk

    assert bearer(api, phone_key).post("/api/v1/auth/logout").status_code == 204
    refused = bearer(api, phone_key).get("/api/v1/me")
    assert_error(refused, 401, "authentication_failed")
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert bearer(api, tablet_key).get("/api/v1/me").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(api, customer):
    wrong = api.post(TOKEN, {"email": customer.email, "password": "nope"}, format="json")
    unknown = api.post(TOKEN, {"email": "nobody@example.test", "password": "nope"}, format="json")
    assert assert_error(wrong, 400, "invalid_credentials") == assert_error(unknown, 400, "invalid_credentials")


def test_suspended_users_cannot_sign_in_and_their_tokens_stop_working(api, customer, customer_api, admin_user):
    user_set_suspended(actor=admin_user, user=customer, suspended=True)
    assert_error(
        api.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json"), 403, "account_suspended"
    )
    assert_error(customer_api.get("/api/v1/cart"), 401)


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-token", "Bearer ünïcode"])
def test_malformed_or_unknown_tokens_are_refused(api, db, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/me")
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_private_endpoints_need_a_token_and_say_how_to_send_one(api, db):
    response = api.get("/api/v1/orders")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_logout_without_a_bearer_token_is_refused(api, customer):
    api.force_authenticate(customer)
    assert_error(api.post("/api/v1/auth/logout"), 400, "no_token")


@pytest.fixture
def auth_rate_of_three(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "3/min"},
    }


def test_sign_in_attempts_are_limited_per_address(api, customer, auth_rate_of_three):
    for attempt in range(3):
        response = api.post(
            TOKEN, {"email": f"guess{attempt}@example.test", "password": "x"}, format="json", REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 400
    limited = api.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json", REMOTE_ADDR="10.0.0.1")
    assert_error(limited, 429, "throttled")
    assert int(limited["Retry-After"]) > 0
    elsewhere = api.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json", REMOTE_ADDR="10.0.0.2")
    assert elsewhere.status_code == 200


def test_sign_in_attempts_are_limited_per_email_across_addresses(api, customer, auth_rate_of_three):
    for attempt in range(3):
        response = api.post(
            TOKEN, {"email": customer.email, "password": "x"}, format="json", REMOTE_ADDR=f"10.0.1.{attempt}"
        )
        assert response.status_code == 400
    limited = api.post(
        TOKEN, {"email": customer.email.upper(), "password": PASSWORD}, format="json", REMOTE_ADDR="10.0.1.9"
    )
    assert_error(limited, 429, "throttled")


def test_sign_ups_share_the_sign_in_limit(api, db, auth_rate_of_three):
    for attempt in range(3):
        api.post(
            REGISTER, {"email": f"new{attempt}@example.test", "password": PASSWORD, "full_name": "N"}, format="json"
        )
    limited = api.post(REGISTER, {"email": "new9@example.test", "password": PASSWORD, "full_name": "N"}, format="json")
    assert_error(limited, 429, "throttled")
