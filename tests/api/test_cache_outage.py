"""The API while the cache (Redis in production) that holds the rate limits' counts is unreachable:
writes go through uncounted, sign-in waits for the limits that stop password guessing."""

import pytest

from tests.api.conftest import assert_error
from tests.factories import PASSWORD
from tests.live.servers import free_port


@pytest.fixture
def unreachable_cache(settings):
    """A Redis cache on a port nothing listens on: every count fails to connect."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }


def test_writes_go_through_uncounted(customer_api, product, unreachable_cache):
    added = customer_api.post("/api/v1/cart/items", {"product": product.pk, "quantity": 2}, format="json")
    assert added.status_code == 201, added.content
    placed = customer_api.post("/api/v1/orders/checkout", {}, format="json", HTTP_IDEMPOTENCY_KEY="outage-1")
    assert placed.status_code == 201, placed.content
    product.refresh_from_db()
    assert product.stock == 18


def test_sign_in_is_unavailable_for_a_moment_rather_than_unlimited(api, customer, unreachable_cache):
    response = api.post("/api/v1/auth/token", {"email": customer.email, "password": PASSWORD}, format="json")
    assert_error(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0
