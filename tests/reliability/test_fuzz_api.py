"""Hostile requests against the whole API: never a 5xx, and every refusal names what was wrong.

tests/test_schemathesis.py sends what the OpenAPI schema describes, and its negations. This sends
what such a generator does not think of: JSON nested thousands deep, NaN and Infinity, integers of
thousands of digits, lone surrogates and NUL characters, any JSON type in any field, query strings
of the same, bodies and forms over Django's DATA_UPLOAD_* limits, multipart junk on the upload
endpoints, junk mail to the inbound mail endpoint, and garbage in the Authorization and
Idempotency-Key headers. The schema only says which endpoints, fields and parameters exist.

Requests go through Django's test client with the database in autocommit (transactional_db), as
in production, so a request that fails in the database cannot poison the next one's transaction.
"""

import io
import json
import re
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from accounts.services import api_token_create
from orders.models import Order
from tests import factories
from tests.reliability.fuzzing import (
    NASTY_STRINGS,
    any_text,
    dumps,
    fuzz,
    hostile_json,
    hostile_numbers,
    hostile_strings,
    not_quite_json,
)

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

# ------------------------------------------------------------------ what the schema says exists

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
_COMPONENTS = SCHEMA["components"]["schemas"]


def _properties(media: dict) -> tuple[str, ...]:
    schema = media.get("schema", {})
    if "$ref" in schema:
        schema = _COMPONENTS[schema["$ref"].rsplit("/", 1)[-1]]
    return tuple(schema.get("properties", {}))


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[str, ...]
    body: dict[str, tuple[str, ...]]  # content type -> the fields it takes

    def __repr__(self):
        return f"{self.method} {self.path}"

    @property
    def names(self) -> set[str]:
        """Every field and query parameter the endpoint takes: what a refusal may name."""
        return {*self.query, *(name for fields in self.body.values() for name in fields)}


OPERATIONS = [
    Operation(
        method=method.upper(),
        path=path,
        query=tuple(parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"),
        body={
            content_type: _properties(media)
            for content_type, media in operation.get("requestBody", {}).get("content", {}).items()
        },
    )
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]
JSON_OPERATIONS = [operation for operation in OPERATIONS if "application/json" in operation.body]
QUERY_OPERATIONS = [operation for operation in OPERATIONS if operation.query]
MULTIPART_OPERATIONS = [operation for operation in OPERATIONS if "multipart/form-data" in operation.body]

INBOUND_TOKEN = "inbound-fuzz-secret"
HEADER_NAMES = {"Idempotency-Key"}

# ------------------------------------------------------------------ the people and rows requests can reach


@dataclass
class World:
    tokens: dict[str, str | None]
    ids: list[int]
    slugs: list[str]
    plausible: dict[str, object]


@pytest.fixture
def world(transactional_db, settings) -> World:
    """A customer and a shop owner with a bit of everything, so generated ids often name real rows."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # Rate limits would turn most requests into 429s and hide what the endpoints do.
        "DEFAULT_THROTTLE_RATES": {"auth": "1000000/min", "writes": "1000000/min"},
    }
    settings.SUPPORT_INBOUND_TOKEN = INBOUND_TOKEN
    customer = factories.UserFactory(password=None)
    vendor = factories.VendorFactory(owner__password=None)
    product = factories.ProductFactory(vendor=vendor, price=Decimal("3.20"), stock=100_000)
    cart_item = factories.CartItemFactory(user=customer, product=product, quantity=2)
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    delivered = factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    conversation = factories.ConversationFactory(customer=customer, vendor=vendor)
    thread = factories.EmailThreadFactory(customer=customer)
    notification = factories.NotificationFactory(user=customer)
    ids = [row.pk for row in (product, cart_item, order, delivered, conversation, thread, notification)]
    return World(
        tokens={
            "customer": api_token_create(user=customer, name="fuzz")[1],
            "owner": api_token_create(user=vendor.owner, name="fuzz")[1],
            "anonymous": None,
        },
        ids=ids,
        slugs=[vendor.slug],
        plausible={
            "email": "new.customer@example.test",
            "password": "a-long-passphrase",
            "full_name": "Sam Carter",
            "phone": "+447700900123",
            "device_name": "fuzz",
            "product": product.pk,
            "quantity": 1,
            "vendor": vendor.pk,
            "order": delivered.pk,
            "subject": "A question",
            "body": "Hello there",
            "reason": "restock",
            "note": "counted twice",
            "status": "confirmed",
            "expected_status": "pending",
            "rating": 5,
            "comment": "Lovely",
            "name": "Sourdough",
            "price": "4.50",
            "stock": 10,
            "delta": 3,
            "until": "end_of_day",
            "default_lat": "51.5",
            "default_lng": "-0.12",
            "delivery_address": "1 High Street, London",
            "business_name": "Fuzz Bakery",
            "business_type": "sole_trader",
            "contact_name": "Sam Carter",
            "contact_email": "sam@example.test",
            "address": "2 Mill Lane, London",
            "images": [],
        },
    )


def _request_path(data, world: World, operation: Operation) -> str:
    def fill(match):
        if match.group(1) == "slug":
            slug = data.draw(st.sampled_from(world.slugs) | hostile_strings, label="slug")
            return quote(slug, safe="", errors="surrogatepass")
        return str(data.draw(st.sampled_from(world.ids) | st.integers(1, 2**63 - 1), label=match.group(1)))

    return re.sub(r"\{(\w+)\}", fill, operation.path)


def _client(data, world: World) -> Client:
    actor = data.draw(st.sampled_from(sorted(world.tokens)), label="actor")
    token = world.tokens[actor]
    return Client(headers={"Authorization": f"Bearer {token}"} if token else {})


def assert_refusal_names_what_was_wrong(response, *, names=()):
    """Never a 5xx. A refusal is the API's error shape: a code and a sentence; an `invalid` one lists
    its bad fields, each a field, parameter or header the endpoint has (or sent) and not noise."""
    seen = f"{response.status_code} {response.content[:600]!r}"
    assert response.status_code < 500, seen
    if response.status_code < 400:
        return
    assert response["Content-Type"].startswith("application/json"), seen
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"], seen
    assert isinstance(error["message"], str) and error["message"].strip(), seen
    if error["code"] == "invalid":
        assert error.get("fields") or error.get("field"), seen
        known = {*names, *HEADER_NAMES, "non_field_errors"}
        for name in error.get("fields", ()):
            # A nested field is named by its dotted path (`documents.0.url`); a key may hold a dot itself.
            assert any(name == top or name.startswith(top + ".") for top in known), seen
    if "field" in error:
        assert isinstance(error["field"], str) and error["field"], seen


# ------------------------------------------------------------------ JSON bodies


hostile_values = st.one_of(hostile_strings, hostile_numbers, st.none(), st.booleans(), hostile_json)


def _json_body(data, world: World, fields: tuple[str, ...]) -> tuple[bytes, set[str]]:
    """The body's bytes and the names it used. Mostly an object of the endpoint's fields with one of
    them hostile and the others plausible, left out or hostile too, plus stray keys; else any JSON
    value, or a text that is not quite JSON."""
    kind = data.draw(st.sampled_from(["object", "object", "object", "any value", "not quite json"]), label="kind")
    if kind == "not quite json":
        text = data.draw(not_quite_json, label="text")
        try:
            names = _key_names(json.loads(text))
        except (ValueError, RecursionError):
            names = set()
        return text.encode("utf-8", "surrogatepass"), names
    if kind == "any value":
        value = data.draw(hostile_json, label="value")
        return dumps(value).encode(), _key_names(value)
    target = data.draw(st.sampled_from(fields), label="hostile field")
    body = {}
    for name in fields:
        choice = "hostile" if name == target else data.draw(st.sampled_from(["plausible", "leave out", "hostile"]))
        if choice == "hostile" or (choice == "plausible" and name not in world.plausible):
            body[name] = data.draw(hostile_values, label=name)
        elif choice == "plausible":
            body[name] = world.plausible[name]
    body.update(data.draw(st.dictionaries(hostile_strings, hostile_json, max_size=2), label="stray keys"))
    text = dumps(body, ensure_ascii=data.draw(st.booleans(), label="ascii"))
    return text.encode("utf-8", "surrogatepass"), _key_names(body)


def _key_names(value) -> set[str]:
    """The top-level keys (or indexes) of a body as an error may name them: a lone surrogate escaped."""
    keys = value if isinstance(value, dict) else map(str, range(len(value))) if isinstance(value, list) else ()
    return {key.encode("utf-8", "backslashreplace").decode() for key in keys}


@fuzz(150, 5000)
@given(data=st.data())
def test_hostile_json_bodies_never_fail_the_server(world, data):
    operation = data.draw(st.sampled_from(JSON_OPERATIONS), label="operation")
    body, sent = _json_body(data, world, operation.body["application/json"])
    response = _client(data, world).generic(
        operation.method, _request_path(data, world, operation), body, content_type="application/json"
    )
    assert_refusal_names_what_was_wrong(response, names={*operation.names, *sent})


# ------------------------------------------------------------------ query strings on the list endpoints

query_values = st.one_of(
    st.sampled_from([value for value in NASTY_STRINGS if not re.search("[\ud800-\udfff]", value)]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.integers().map(str),
    st.floats().map(str),
)


@fuzz(120, 4000)
@given(data=st.data())
def test_hostile_query_strings_never_fail_the_server(world, data):
    operation = data.draw(st.sampled_from(QUERY_OPERATIONS), label="operation")
    names = st.sampled_from(operation.query) | st.text(max_size=8)
    pairs = data.draw(st.lists(st.tuples(names, query_values), max_size=6), label="query")
    # Percent-escapes that decode to no character (a lone surrogate's UTF-8 bytes, a NUL, stray bytes).
    junk = data.draw(st.sampled_from(["", "&search=%ED%A0%80", "&page=%00", "&q=%FF%FE", "&=&&=="]), label="junk")
    path = _request_path(data, world, operation) + "?" + urlencode(pairs) + junk
    response = _client(data, world).generic(operation.method, path)
    assert_refusal_names_what_was_wrong(response, names={*operation.names, *(name for name, _ in pairs)})


# ------------------------------------------------------------------ over Django's size limits


ANSWERED_BEFORE_READING = {401, 403, 404, 405}


@fuzz(40, 600)
@given(data=st.data())
def test_requests_over_the_upload_limits_are_refused_naming_the_limit(world, data, settings):
    """Limits made small so each example is cheap; the defaults are covered in tests/api/test_robustness.py.
    A limit holds when the endpoint reads its input: refusals that come before (no token, not yours, no
    such method) may answer first."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    client = _client(data, world)
    shape = data.draw(st.sampled_from(["json", "form fields", "form files", "query"]), label="shape")
    if shape == "json":
        operation = data.draw(st.sampled_from(JSON_OPERATIONS), label="operation")
        size = data.draw(st.integers(2000, 2100) | st.integers(2100, 200_000), label="size")
        body = b'{"pad":"' + b"x" * (size - 10) + b'"}'
        response = client.generic(
            operation.method, _request_path(data, world, operation), body, content_type="application/json"
        )
        if len(body) > 2048 and response.status_code not in ANSWERED_BEFORE_READING:
            assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    elif shape == "query":
        operation = data.draw(st.sampled_from(QUERY_OPERATIONS), label="operation")
        count = data.draw(st.integers(15, 60), label="parameters")
        response = client.get(_request_path(data, world, operation) + "?" + "&".join(["page=1"] * count))
        if count > 20 and response.status_code not in ANSWERED_BEFORE_READING:
            assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_fields"
    else:
        operation = data.draw(st.sampled_from(MULTIPART_OPERATIONS), label="operation")
        count = data.draw(st.integers(3, 40), label="parts")
        fields, files = ({f"field{n}": "x" for n in range(count)}, {}) if shape == "form fields" else ({}, count)
        parts = [(name, None, value.encode()) for name, value in fields.items()]
        parts += [("attachments", f"{n}.png", b"x") for n in range(files or 0)]
        response = client.generic(
            operation.method, _request_path(data, world, operation), _multipart(parts), content_type=_FORM
        )
        limit, code = (20, "too_many_fields") if shape == "form fields" else (5, "too_many_files")
        if count > limit and response.status_code not in ANSWERED_BEFORE_READING:
            assert response.status_code == 400 and response.json()["error"]["code"] == code, response.content
    assert_refusal_names_what_was_wrong(response, names=operation.names)


# ------------------------------------------------------------------ multipart junk on the upload endpoints

_BOUNDARY = "fuzzboundary"
_FORM = f"multipart/form-data; boundary={_BOUNDARY}"


def _multipart(parts, *, boundary: str = _BOUNDARY) -> bytes:
    """A multipart body of (name, filename or None, content) parts, with headers as the parts give them."""
    chunks = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        chunks.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode("utf-8", "surrogatepass"))
        if filename is not None:
            chunks.append(b"Content-Type: image/png\r\n")
        chunks.append(b"\r\n" + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks)


def _image(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 90)).save(buffer, format=image_format)
    return buffer.getvalue()


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with one tiny compressed row: a
    decompression bomb as far as the header goes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 4)) + chunk(b"IEND", b"")
    )


file_contents = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(["PNG", "JPEG", "GIF", "WEBP"]).map(_image),
    st.sampled_from(["PNG", "JPEG", "GIF"])
    .map(_image)
    .flatmap(lambda image: st.integers(1, len(image) - 1).map(lambda cut: image[:cut])),
    st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1)).map(lambda size: _png_header_claiming(*size)),
    st.just(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    st.just(b"%PDF-1.4\n%%EOF\n"),
)
filenames = st.one_of(st.none(), st.sampled_from(["a.png", "", "../../x.png", "a" * 300 + ".png"]), any_text)


@fuzz(80, 2500)
@given(data=st.data())
def test_multipart_junk_on_the_upload_endpoints_never_fails_the_server(world, data):
    operation = data.draw(st.sampled_from(MULTIPART_OPERATIONS), label="operation")
    fields = operation.body["multipart/form-data"] or ("message",)
    names = st.sampled_from(fields) | st.text(max_size=8)
    parts = data.draw(st.lists(st.tuples(names, filenames, file_contents), max_size=5), label="parts")
    body, content_type = _multipart(parts), _FORM
    mangle = data.draw(st.sampled_from(["none", "no boundary", "other boundary", "truncated", "long boundary"]))
    if mangle == "no boundary":
        content_type = "multipart/form-data"
    elif mangle == "other boundary":
        content_type = "multipart/form-data; boundary=" + data.draw(st.sampled_from(['""', "\x00", "a b", "é"]))
    elif mangle == "truncated":
        body = body[: data.draw(st.integers(0, len(body)))]
    elif mangle == "long boundary":
        content_type = "multipart/form-data; boundary=" + "b" * 5000
    client = _client(data, world)
    if operation.path.endswith("/support/inbound"):
        client = Client(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"})
    response = client.generic(operation.method, _request_path(data, world, operation), body, content_type=content_type)
    assert_refusal_names_what_was_wrong(response, names={*operation.names, *fields, *(name for name, _, _ in parts)})


# ------------------------------------------------------------------ junk mail to the inbound endpoint

header_values = st.one_of(
    st.sampled_from(
        [
            "",
            "<>",
            "<@>",
            "=?utf-8?b?!!!?=",
            "=?x-unknown?q?abc?=",
            "=?utf-8?q?=FF=FE?=",
            "Customer <customer@example.test>",
            "undisclosed-recipients:;",
            '"\\" <a@b>',
            "a" * 2000,
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=40),
)
mail_headers = st.sampled_from(
    ["From", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type", "Content-Transfer-Encoding", "To"]
)
content_types = st.sampled_from(
    [
        "text/plain; charset=utf-8",
        "text/plain; charset=x-no-such-charset",
        "text/plain; charset=utf-16",
        "text/plain; charset=utf-7",
        "text/html",
        "multipart/alternative",
        'multipart/mixed; boundary="b"',
        "message/rfc822",
        "application/octet-stream",
        "text/plain; charset=\x00",
    ]
)


@st.composite
def junk_mails(draw) -> bytes:
    lines = [f"{name}: {value}" for name, value in draw(st.lists(st.tuples(mail_headers, header_values), max_size=8))]
    if draw(st.booleans()):
        lines.append(f"Content-Type: {draw(content_types)}")
    if draw(st.booleans()):
        lines.append(f"Content-Transfer-Encoding: {draw(st.sampled_from(['base64', 'quoted-printable', '8bit', 'x']))}")
    head = "\r\n".join(lines).encode("utf-8", "surrogatepass")
    body = draw(st.binary(max_size=200) | st.sampled_from([b"--b\r\n\r\nhi\r\n--b--", b"=ZZ=\r\n", b"!!!!", b""]))
    return head + b"\r\n\r\n" + body


@fuzz(100, 3000)
@given(mail=junk_mails() | st.binary(max_size=300))
def test_junk_mail_to_the_inbound_endpoint_never_fails_the_server(world, mail):
    client = Client(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"})
    response = client.generic("POST", "/api/v1/support/inbound", mail, content_type="message/rfc822")
    assert response.status_code in (201, 400), response.content
    assert_refusal_names_what_was_wrong(response, names={"message"})
    if response.status_code == 400:
        assert response.json()["error"]["field"] == "message", response.content


# ------------------------------------------------------------------ Authorization and Idempotency-Key garbage

# What a server can put in a header: any byte, read as latin-1 (WSGI and ASGI alike).
header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"), max_size=80)


@fuzz(100, 3000)
@given(data=st.data())
def test_garbage_in_the_authorization_and_idempotency_headers_never_fails_the_server(world, data):
    if data.draw(st.booleans(), label="authorization"):
        scheme = data.draw(st.sampled_from(["Bearer ", "bearer ", "Bearer  ", "Token ", "Basic ", "", "Bearer\t"]))
        token = data.draw(header_text | st.sampled_from([world.tokens["customer"] + "x", "a b", "é" * 300]))
        operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
        client = Client(headers={"Authorization": scheme + token})
        response = client.generic(operation.method, _request_path(data, world, operation))
        assert_refusal_names_what_was_wrong(response, names=operation.names)
    else:
        key = data.draw(header_text | st.sampled_from(["", "k" * 255, "k" * 256, "ключ"]), label="Idempotency-Key")
        client = Client(headers={"Authorization": f"Bearer {world.tokens['customer']}", "Idempotency-Key": key})
        response = client.post("/api/v1/orders/checkout", {}, content_type="application/json")
        assert_refusal_names_what_was_wrong(response, names=HEADER_NAMES)
