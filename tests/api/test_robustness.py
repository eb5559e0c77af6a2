"""No request of any shape makes a 500: every refusal is JSON in the one error shape."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
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


@pytest.mark.parametrize("page", ["abc", "-1", "0", "3", "99999999999999999999"])
def test_a_page_that_does_not_exist_is_bad_input_naming_page(api, db, page):
    factories.ProductFactory()
    assert_error(api.get(f"/api/v1/products?page={page}"), 400, "invalid", fields=["page"])


@pytest.mark.parametrize("size", ["0", "-5", "x", "101", "100000", "1.5", "", "٣"])
def test_a_page_size_out_of_range_is_bad_input_naming_page_size(api, db, size):
    factories.ProductFactory()
    error = assert_error(api.get(f"/api/v1/products?page_size={size}"), 400, "invalid", fields=["page_size"])
    assert error["fields"]["page_size"] == ["A whole number from 1 to 100."]


def test_page_sizes_from_one_to_the_maximum_are_served(api, db):
    factories.ProductFactory.create_batch(101, vendor=factories.VendorFactory())
    for size, served in [(None, 20), ("1", 1), ("100", 100)]:
        response = api.get("/api/v1/products" + (f"?page_size={size}" if size else ""))
        body = response.json()
        assert (response.status_code, body["count"], len(body["results"])) == (200, 101, served), size


def test_query_parameters_of_any_shape(api, db):
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


def test_a_body_nested_too_deep_for_the_json_decoder_is_a_parse_error(customer_api):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        response = customer_api.generic("POST", "/api/v1/cart/items", body, content_type="application/json")
        assert "nests too deeply" in assert_error(response, 400, "parse_error")["message"]


def test_a_body_over_the_upload_memory_limit_is_too_large(customer_api, settings):
    body = '{"subject": "Hello", "body": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    response = customer_api.generic("POST", "/api/v1/support/threads", body, content_type="application/json")
    assert "2.5" in assert_error(response, 413, "too_large")["message"]


def test_multipart_beyond_the_field_and_file_limits_names_the_limit(customer_api, customer, vendor, settings):
    conversation = factories.ConversationFactory(customer=customer, vendor=vendor)
    url = f"/api/v1/conversations/{conversation.pk}/messages"
    fields = {f"field{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert_error(customer_api.post(url, fields, format="multipart"), 400, "too_many_fields")
    files = [SimpleUploadedFile(f"{n}.png", b"x") for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    assert_error(customer_api.post(url, {"attachments": files}, format="multipart"), 400, "too_many_files")
    big_field = {"body": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    assert_error(customer_api.post(url, big_field, format="multipart"), 413, "too_large")


def test_a_query_string_beyond_the_field_limit_names_the_limit(api, db, settings):
    query = "&".join(f"search={n}" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert_error(api.get(f"/api/v1/products?{query}"), 400, "too_many_fields")


@pytest.mark.parametrize("endpoint", ["/api/v1/auth/register", "/api/v1/auth/token"])
def test_a_lone_surrogate_in_the_sign_in_email_names_the_email(api, db, endpoint):
    """The per-email rate limit hashed the address before validation and failed to encode it: a 500."""
    body = '{"email": "sam\\ud800@example.test", "password": "a-long-passphrase", "full_name": "Sam"}'
    response = api.generic("POST", endpoint, body, content_type="application/json")
    assert_error(response, 400, "invalid", fields=["email"])


def test_a_lone_surrogate_anywhere_in_a_body_names_where_it_is(customer_api):
    """In a choice field the error echoed the value back and rendering the reply failed: a 500."""
    body = '{"business_name": "Bakery", "business_type": "\\ud800", "documents": [{"name": "\\udfff"}]}'
    response = customer_api.generic("POST", "/api/v1/vendor-applications", body, content_type="application/json")
    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) in (["business_type"], ["documents.0.name"])
    assert "lone UTF-16 surrogate" in str(error["fields"])
