import pytest
from django.test import Client

from accounts.services import user_set_suspended
from tests.factories import PASSWORD, AdminFactory, UserFactory


@pytest.mark.django_db
def test_suspension_ends_an_open_session_and_refuses_sign_in():
    user = UserFactory()
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    assert client.get("/api/v1/me").status_code == 200

    user_set_suspended(actor=AdminFactory(), user=user, suspended=True, reason="fraud")

    # The session no longer signs anyone in: the request is anonymous, not a signed-in user refused.
    refused = client.get("/api/v1/me")
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "not_authenticated")
    assert not Client().login(email=user.email, password=PASSWORD)
