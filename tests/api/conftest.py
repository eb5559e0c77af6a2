"""Fixtures for the API tests: clients signed in with real device tokens."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests import factories


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Throttle counters live in the shared cache; each test starts with none of its own."""
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match="*throttle_*"):
        client.delete(key)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def client_for(db):
    """A client signed in as `user` with a Bearer token, as the mobile app is."""

    def make(user) -> APIClient:
        _token, key = api_token_create(user=user, name="test device")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return client

    return make


@pytest.fixture
def customer_api(client_for, customer):
    return client_for(customer)


@pytest.fixture
def other_customer(db):
    return factories.UserFactory()


@pytest.fixture
def other_customer_api(client_for, other_customer):
    return client_for(other_customer)


@pytest.fixture
def vendor_api(client_for, vendor_owner):
    return client_for(vendor_owner)


@pytest.fixture
def other_vendor(db):
    return factories.VendorFactory()


@pytest.fixture
def other_vendor_api(client_for, other_vendor):
    return client_for(other_vendor.owner)


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, price="4.50", stock=20)


def assert_error(response, status: int, code: str | None = None, *, fields=()) -> dict:
    """The response is the API's error shape with this status (and code, and bad fields)."""
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    for name in fields:
        assert name in error["fields"], error
    return error
