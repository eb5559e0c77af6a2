"""No request of any shape makes a 500: every refusal is JSON in the one error shape."""

import pytest

from tests.api.conftest import assert_error

ID_PATHS = [
    "/api/v1/orders/{}",
    "/api/v1/products/{}",
    "/api/v1/products/{}/reviews",
    "/api/v1/support/threads/{}/messages",
    "/api/v1/conversations/{}/messages",
]
ODD_IDS = ["0", "-1", "9223372036854775808", "99999999999999999999999999", "1.5", "abc", "%00", "٣"]


@pytest.mark.parametrize("template", ID_PATHS)
@pytest.mark.parametrize("object_id", ODD_IDS)
def test_ids_out_of_range_or_not_numbers_are_json_404s(customer_api, template, object_id):
    assert_error(customer_api.get(template.format(object_id)), 404, "not_found")


def test_the_largest_bigint_id_is_simply_not_found(customer_api):
    assert_error(customer_api.get("/api/v1/orders/9223372036854775807"), 404)


def test_unknown_endpoints_answer_in_json(customer_api):
    assert_error(customer_api.post("/api/v1/no/such/thing", {}, format="json"), 404, "not_found")
    assert_error(customer_api.get("/api/v1/orders/"), 404, "not_found")


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        ("{not json", "application/json", 400),
        ("[1, 2, 3]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("null", "application/json", 400),
        ('{"product": NaN, "quantity": Infinity}', "application/json", 400),
        ("product=1&quantity=2", "application/x-www-form-urlencoded", 415),
        ("<xml/>", "application/xml", 415),
        (b"\xff\xfe\x00", "application/json", 400),
    ],
)
def test_bodies_that_are_not_json_objects_are_refused(customer_api, product, body, content_type, status):
    response = customer_api.generic("POST", "/api/v1/cart/items", body, content_type=content_type)
    assert_error(response, status)


@pytest.mark.parametrize(
    "payload, bad_fields",
    [
        ({"product": True, "quantity": 1}, ["product"]),
        ({"product": [1], "quantity": {"n": 1}}, ["product", "quantity"]),
        ({"product": 10**40, "quantity": 10**40}, ["product", "quantity"]),
        ({"product": -5, "quantity": -5}, ["product", "quantity"]),
        ({"product": "1e3", "quantity": "2.5"}, ["product", "quantity"]),
        ({"product": None, "quantity": None}, ["product", "quantity"]),
    ],
)
def test_wrong_types_and_huge_numbers_name_the_field(customer_api, product, payload, bad_fields):
    assert_error(customer_api.post("/api/v1/cart/items", payload, format="json"), 400, "invalid", fields=bad_fields)


def test_unicode_and_nul_characters(customer_api, vendor_api):
    emoji = customer_api.post(
        "/api/v1/support/threads", {"subject": "Pâtisserie 🥐 ✓", "body": "日本語のテキスト"}, format="json"
    )
    assert emoji.status_code == 201 and emoji.json()["subject"] == "Pâtisserie 🥐 ✓"
    nul = customer_api.post("/api/v1/support/threads", {"subject": "a\x00b", "body": "c\x00d"}, format="json")
    assert_error(nul, 400, fields=["subject", "body"])
    assert_error(customer_api.get("/api/v1/products?search=a%00b"), 400, fields=["search"])
    long_name = vendor_api.post("/api/v1/vendor/products", {"name": "x" * 10_000, "price": "1.00"}, format="json")
    assert_error(long_name, 400, fields=["name"])
    huge_price = vendor_api.post("/api/v1/vendor/products", {"name": "Gold", "price": "1e400"}, format="json")
    assert_error(huge_price, 400, fields=["price"])


def test_query_parameters_of_any_shape(api, db):
    for query in ["page=abc", "page=-1", "page=99999999999999999999", "page_size=0", "page_size=100000&page=1"]:
        response = api.get(f"/api/v1/products?{query}")
        assert response.status_code in (200, 400), (query, response.content)
    assert_error(api.get("/api/v1/vendors?lat=1e999&lng=0"), 400, fields=["lat"])
    assert_error(api.get("/api/v1/products?min_price=1e400"), 400, fields=["min_price"])


def test_methods_an_endpoint_does_not_have(customer_api):
    assert_error(customer_api.put("/api/v1/cart", {}, format="json"), 405, "method_not_allowed")
    assert_error(customer_api.options("/api/v1/cart"), 405)


def test_writes_are_rate_limited_per_user(customer_api, other_customer_api, product, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "writes": "3/min"},
    }
    for _ in range(3):
        assert (
            customer_api.post("/api/v1/cart/items", {"product": product.pk, "quantity": 1}, format="json").status_code
            == 201
        )
    limited = customer_api.post("/api/v1/cart/items", {"product": product.pk, "quantity": 1}, format="json")
    assert_error(limited, 429, "throttled")
    assert "Retry-After" in limited
    assert customer_api.get("/api/v1/cart").json()["count"] == 3
    assert other_customer_api.post("/api/v1/cart/items", {"product": product.pk}, format="json").status_code == 201
