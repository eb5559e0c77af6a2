"""Property-based tests of the whole API against its own OpenAPI schema.

For every operation in the schema served at /api/schema/, schemathesis
generates requests (valid ones and deliberately broken ones), sends them to
Zora as a signed-in customer, and checks that the server never fails with a
5xx and that every response (status code, content type and body) is one the
schema documents.
"""

from decimal import Decimal

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import api_token_create
from tests import factories

EXAMPLES_PER_OPERATION = 15

# Built in-process (collection happens before the test database exists); the
# first test proves /api/schema/ serves exactly this document.
SCHEMA_DOCUMENT = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(SCHEMA_DOCUMENT)
schema.app = WSGIHandler()
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Requests reach the WSGI app directly; like Django's test client, keep the test's database
    connection (and its transaction) open across them."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def customer_headers(db, settings):
    """A customer with things to look at, so generated ids sometimes hit real rows."""
    # Rate limits would turn most generated requests into 429s and hide real behaviour.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "100000/min", "writes": "100000/min"},
    }
    customer = factories.UserFactory()
    vendor = factories.VendorFactory()
    product = factories.ProductFactory(vendor=vendor, price=Decimal("3.20"), stock=40)
    factories.CartItemFactory(user=customer, product=product, quantity=2)
    factories.OrderFactory(customer=customer, vendor=vendor)
    factories.NotificationFactory(user=customer)
    factories.ConversationFactory(customer=customer, vendor=vendor)
    factories.EmailThreadFactory(customer=customer)
    _token, key = api_token_create(user=customer, name="schemathesis")
    return {"Authorization": f"Bearer {key}"}


def test_schema_endpoint_serves_the_tested_schema(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json() == SCHEMA_DOCUMENT


@schema.parametrize()
# The customer's rows are set up once per operation and shared by its examples, on purpose.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case, customer_headers):
    case.call_and_validate(
        headers=customer_headers,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
