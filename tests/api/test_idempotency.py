"""Offline-safe writes: every unsafe endpoint under /api/v1/ honours Idempotency-Key.

The endpoints are read from the URLconf, not listed by hand: each one needs a
case below, so a new unsafe endpoint fails here until it is shown to replay
(or, for the open sign-in endpoints, to refuse the header). Each case sends a
real write through HTTP, replays it with the same key and checks the answer is
the first one, byte for byte, and that nothing in the database (or the upload
folders) changed; then the same key with another body is refused with 422.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import OperationalError, connection
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import IdempotentRequest
from accounts.services import api_token_create
from accounts.timed import prune_idempotency_keys
from catalog.services import (
    product_adjust_stock,
    product_image_add,
    product_mark_out_of_stock,
    review_create,
    wishlist_add,
)
from orders import services as order_services
from orders.models import CartItem, Order
from support.models import Message
from tests import factories
from tests.api.conftest import assert_error
from zora.idempotency import IDEMPOTENCY_HEADER, REPLAYED_HEADER

pytestmark = pytest.mark.django_db

UNSAFE_METHODS = ("post", "put", "patch", "delete")


def _api_endpoints() -> list[tuple[str, str]]:
    """(URL name, method) of every unsafe handler of every view under /api/v1/, from the URLconf."""
    endpoints = set()
    for included in get_resolver().url_patterns:
        if not (isinstance(included, URLResolver) and str(included.pattern) == "api/v1/"):
            continue
        for pattern in included.url_patterns:
            view_class = getattr(pattern.callback, "view_class", None)
            for method in UNSAFE_METHODS:
                if view_class is not None and hasattr(view_class, method):
                    endpoints.add((pattern.name, method.upper()))
    return sorted(endpoints)


UNSAFE_ENDPOINTS = _api_endpoints()


@dataclass
class World:
    customer: object
    customer_api: APIClient
    vendor: object
    vendor_api: APIClient
    product: object

    @property
    def owner(self):
        return self.vendor.owner


@dataclass
class Write:
    """One request as the app would queue it; `body` may be a callable, for uploads that are read once."""

    client: APIClient
    method: str
    path: str
    body: object = None
    format: str = "json"
    changed: object = None
    # The open endpoints (no signed-in user) refuse the header instead of honouring it.
    open_endpoint: bool = False
    # Signing out revokes the token the write was sent with: its replay cannot get past authentication.
    signs_out: bool = False
    extra: dict = field(default_factory=dict)

    def send(self, key: str | None, *, changed: bool = False):
        body = self.body() if callable(self.body) else self.body
        if changed:
            body = self.changed() if callable(self.changed) else (self.changed or {**(body or {}), "changed": True})
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        options = {"content_type": self.format} if "/" in self.format else {"format": self.format}
        return getattr(self.client, self.method.lower())(self.path, body, **options, **headers, **self.extra)


CASES: dict[tuple[str, str], Callable[[World], Write]] = {}


def case(name: str, method: str):
    def register(build):
        CASES[(name, method)] = build
        return build

    return register


def url(name: str, **kwargs) -> str:
    """An API path by its name there (the portals reuse some names)."""
    return "/api/v1" + reverse(name, urlconf="zora.api_urls", kwargs=kwargs)


# The open endpoints -----------------------------------------------------------------------------


@case("auth-register", "POST")
def _register(world):
    body = {"email": "new@example.test", "password": "a-long-passphrase-1", "full_name": "New Person"}
    return Write(APIClient(), "POST", url("auth-register"), body, open_endpoint=True)


@case("auth-token", "POST")
def _sign_in(world):
    body = {"email": world.customer.email, "password": factories.PASSWORD}
    return Write(APIClient(), "POST", url("auth-token"), body, open_endpoint=True)


@case("auth-password-reset", "POST")
def _reset_request(world):
    return Write(APIClient(), "POST", url("auth-password-reset"), {"email": world.customer.email}, open_endpoint=True)


@case("auth-password-reset-confirm", "POST")
def _reset_confirm(world):
    body = {"uid": "MQ", "token": "abc-123", "new_password": "a-long-passphrase-2"}
    return Write(APIClient(), "POST", url("auth-password-reset-confirm"), body, open_endpoint=True)


INBOUND_TOKEN = "inbound-relay-secret"


@case("support-inbound", "POST")
def _inbound_mail(world):
    mail = f"From: {world.customer.email}\r\nSubject: Hello\r\nMessage-ID: <m1@example.test>\r\n\r\nHi there\r\n"
    return Write(
        APIClient(),
        "POST",
        url("support-inbound"),
        mail.encode(),
        format="message/rfc822",
        open_endpoint=True,
        extra={"HTTP_AUTHORIZATION": f"Bearer {INBOUND_TOKEN}"},
    )


# The account ------------------------------------------------------------------------------------


@case("auth-logout", "POST")
def _logout(world):
    return Write(world.customer_api, "POST", url("auth-logout"), signs_out=True)


@case("auth-password", "POST")
def _password_change(world):
    body = {"current_password": factories.PASSWORD, "new_password": "a-long-passphrase-3"}
    return Write(world.customer_api, "POST", url("auth-password"), body)


@case("auth-device", "DELETE")
def _device_sign_out(world):
    tablet, _key = api_token_create(user=world.customer, name="tablet")
    return Write(world.customer_api, "DELETE", url("auth-device", pk=tablet.pk))


@case("me", "PATCH")
def _profile(world):
    return Write(world.customer_api, "PATCH", url("me"), {"full_name": "Sam Replayed"})


@case("notifications-read-all", "POST")
def _read_all(world):
    factories.NotificationFactory.create_batch(2, user=world.customer)
    return Write(world.customer_api, "POST", url("notifications-read-all"))


@case("notification-read", "POST")
def _read_one(world):
    notification = factories.NotificationFactory(user=world.customer)
    return Write(world.customer_api, "POST", url("notification-read", pk=notification.pk))


# The customer's side ----------------------------------------------------------------------------


@case("reviews", "POST")
def _review(world):
    order = factories.OrderFactory(customer=world.customer, vendor=world.vendor, status=Order.Status.DELIVERED)
    return Write(world.customer_api, "POST", url("reviews"), {"order": order.pk, "rating": 5, "comment": "Lovely"})


@case("wishlist", "POST")
def _wish(world):
    return Write(world.customer_api, "POST", url("wishlist"), {"product": world.product.pk})


@case("wishlist-item", "DELETE")
def _unwish(world):
    wishlist_add(user=world.customer, product=world.product)
    return Write(world.customer_api, "DELETE", url("wishlist-item", product_id=world.product.pk))


@case("vendor-applications", "POST")
def _apply(world):
    body = {
        "business_name": "Corner Bakery",
        "business_type": "sole_trader",
        "contact_name": "Bea Baker",
        "contact_email": "bea@example.test",
        "address": "7 Baker Street, London",
    }
    return Write(world.customer_api, "POST", url("vendor-applications"), body)


@case("cart", "DELETE")
def _cart_clear(world):
    factories.CartItemFactory(user=world.customer, product=world.product, quantity=2)
    return Write(world.customer_api, "DELETE", url("cart"))


@case("cart-items", "POST")
def _cart_add(world):
    return Write(world.customer_api, "POST", url("cart-items"), {"product": world.product.pk, "quantity": 2})


@case("cart-item", "PATCH")
def _cart_quantity(world):
    line = factories.CartItemFactory(user=world.customer, product=world.product, quantity=1)
    return Write(world.customer_api, "PATCH", url("cart-item", pk=line.pk), {"quantity": 3})


@case("cart-item", "DELETE")
def _cart_remove(world):
    line = factories.CartItemFactory(user=world.customer, product=world.product, quantity=1)
    return Write(world.customer_api, "DELETE", url("cart-item", pk=line.pk))


@case("checkout", "POST")
def _checkout(world):
    factories.CartItemFactory(user=world.customer, product=world.product, quantity=2)
    return Write(world.customer_api, "POST", url("checkout"), {"notes": "Ring twice"})


@case("order-cancel", "POST")
def _cancel(world):
    order = factories.OrderFactory(customer=world.customer, vendor=world.vendor)
    return Write(world.customer_api, "POST", url("order-cancel", pk=order.pk), {"reason": "Changed my mind"})


# The shop's side --------------------------------------------------------------------------------


@case("vendor-order-transition", "POST")
def _transition(world):
    order = factories.OrderFactory(customer=world.customer, vendor=world.vendor)
    body = {"status": "confirmed", "expected_status": "pending"}
    return Write(world.vendor_api, "POST", url("vendor-order-transition", pk=order.pk), body)


@case("vendor-products", "POST")
def _product_create(world):
    return Write(world.vendor_api, "POST", url("vendor-products"), {"name": "Rye loaf", "price": "3.10", "stock": 4})


@case("vendor-product", "PATCH")
def _product_update(world):
    return Write(world.vendor_api, "PATCH", url("vendor-product", pk=world.product.pk), {"name": "Sourdough"})


@case("vendor-product-stock", "POST")
def _stock(world):
    body = {"delta": 5, "reason": "restock", "note": "Morning delivery"}
    return Write(world.vendor_api, "POST", url("vendor-product-stock", pk=world.product.pk), body)


@case("vendor-product-out-of-stock", "POST")
def _out_of_stock(world):
    return Write(
        world.vendor_api, "POST", url("vendor-product-out-of-stock", pk=world.product.pk), {"until": "indefinitely"}
    )


@case("vendor-product-back-in-stock", "POST")
def _back_in_stock(world):
    product_mark_out_of_stock(actor=world.owner, product=world.product, until="indefinitely")
    return Write(world.vendor_api, "POST", url("vendor-product-back-in-stock", pk=world.product.pk))


@case("vendor-product-images", "POST")
def _image_upload(world):
    return Write(
        world.vendor_api,
        "POST",
        url("vendor-product-images", pk=world.product.pk),
        lambda: {"image": factories.image_upload("front.png")},
        format="multipart",
        changed=lambda: {"image": factories.image_upload("front.png", color=(10, 200, 10))},
    )


def _two_images(world):
    return [
        product_image_add(actor=world.owner, product=world.product, upload=factories.image_upload(f"{side}.png"))
        for side in ("front", "back")
    ]


@case("vendor-product-images-order", "PUT")
def _image_order(world):
    front, back = _two_images(world)
    body = {"images": [back.pk, front.pk]}
    return Write(world.vendor_api, "PUT", url("vendor-product-images-order", pk=world.product.pk), body)


@case("vendor-product-image", "DELETE")
def _image_remove(world):
    front, _back = _two_images(world)
    return Write(world.vendor_api, "DELETE", url("vendor-product-image", pk=world.product.pk, image_id=front.pk))


@case("vendor-inventory-alert-acknowledge", "POST")
def _acknowledge(world):
    product_adjust_stock(actor=world.owner, product=world.product, stock=1, reason="correction")
    alert = world.product.inventory_alerts.get(type="low_stock")
    return Write(world.vendor_api, "POST", url("vendor-inventory-alert-acknowledge", pk=alert.pk))


@case("vendor-review-reply", "PUT")
def _reply(world):
    order = factories.OrderFactory(customer=world.customer, vendor=world.vendor, status=Order.Status.DELIVERED)
    review = review_create(customer=world.customer, order=order, rating=4, comment="Good")
    return Write(world.vendor_api, "PUT", url("vendor-review-reply", pk=review.pk), {"body": "Thank you!"})


# Support and chat -------------------------------------------------------------------------------


@case("support-threads", "POST")
def _thread(world):
    body = {"subject": "Late order", "body": "Where is my bread?"}
    return Write(world.customer_api, "POST", url("support-threads"), body)


@case("support-thread-messages", "POST")
def _thread_message(world):
    thread = factories.EmailThreadFactory(customer=world.customer)
    return Write(world.customer_api, "POST", url("support-thread-messages", pk=thread.pk), {"body": "Any news?"})


@case("conversations", "POST")
def _conversation(world):
    body = {"vendor": world.vendor.pk, "subject": "Allergens", "body": "Is the rye nut-free?"}
    return Write(world.customer_api, "POST", url("conversations"), body)


@case("conversation-messages", "POST")
def _chat_message(world):
    conversation = factories.ConversationFactory(customer=world.customer, vendor=world.vendor)
    return Write(world.customer_api, "POST", url("conversation-messages", pk=conversation.pk), {"body": "On my way"})


@case("conversation-read", "POST")
def _chat_read(world):
    conversation = factories.ConversationFactory(customer=world.customer, vendor=world.vendor)
    factories.ChatMessageFactory.create_batch(2, conversation=conversation, sender=world.owner)
    return Write(world.customer_api, "POST", url("conversation-read", pk=conversation.pk))


# -------------------------------------------------------------------------------------------------


def database_state(upload_root) -> dict:
    """Every row of every table, and every uploaded file: what a replay must leave as it found."""
    rows = {
        model._meta.label: [tuple(row.items()) for row in model._base_manager.order_by("pk").values()]
        for model in apps.get_models()
    }
    rows["files"] = sorted(str(path.relative_to(upload_root)) for path in upload_root.rglob("*") if path.is_file())
    return rows


@pytest.fixture
def world(customer, customer_api, vendor, vendor_api, product, settings):
    settings.SUPPORT_INBOUND_TOKEN = INBOUND_TOKEN
    return World(customer=customer, customer_api=customer_api, vendor=vendor, vendor_api=vendor_api, product=product)


def test_every_case_is_an_endpoint_of_the_urlconf():
    assert set(CASES) <= set(UNSAFE_ENDPOINTS), set(CASES) - set(UNSAFE_ENDPOINTS)
    assert len(UNSAFE_ENDPOINTS) >= 37


@pytest.mark.parametrize("endpoint", UNSAFE_ENDPOINTS, ids=[f"{method} {name}" for name, method in UNSAFE_ENDPOINTS])
def test_a_replayed_write_answers_as_the_first_and_changes_nothing(endpoint, world, uploads_in_tmp):
    build = CASES.get(endpoint)
    assert build is not None, f"{endpoint} is an unsafe endpoint without an idempotency case here: add one"
    write = build(world)
    key = f"replay-{endpoint[0]}-{endpoint[1]}"

    if write.open_endpoint:
        before = database_state(uploads_in_tmp)
        refusal = assert_error(write.send(key), 400, "idempotency_key_needs_sign_in")
        assert refusal["field"] == IDEMPOTENCY_HEADER
        assert database_state(uploads_in_tmp) == before
        return

    first = write.send(key)
    assert 200 <= first.status_code < 300, first.content
    assert REPLAYED_HEADER not in first
    before = database_state(uploads_in_tmp)

    replay = write.send(key)
    if write.signs_out:
        assert_error(replay, 401)
        assert IdempotentRequest.objects.filter(key=key, status_code=first.status_code).exists()
        assert database_state(uploads_in_tmp) == before
        return
    assert (replay.status_code, replay.content) == (first.status_code, first.content)
    assert replay.get("Content-Type") == first.get("Content-Type")
    assert replay[REPLAYED_HEADER] == "true"
    assert database_state(uploads_in_tmp) == before

    reused = assert_error(write.send(key, changed=True), 422, "idempotency_key_reused")
    assert reused["field"] == IDEMPOTENCY_HEADER
    assert database_state(uploads_in_tmp) == before


# The rules, one by one --------------------------------------------------------------------------


def add_to_cart(client, product, quantity, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/cart/items", {"product": product.pk, "quantity": quantity}, format="json", **headers)


def quantity_in_cart(user, product) -> int:
    line = CartItem.objects.filter(user=user, product=product).first()
    return line.quantity if line else 0


def test_the_replay_is_the_first_answer_even_after_the_state_moved_on(customer_api, customer, product):
    first = add_to_cart(customer_api, product, 2, key="tap-1")
    add_to_cart(customer_api, product, 1)
    replay = add_to_cart(customer_api, product, 2, key="tap-1")
    assert replay.json()["count"] == first.json()["count"] == 2
    assert quantity_in_cart(customer, product) == 3


def test_the_same_key_on_another_endpoint_is_refused_naming_it(customer_api, product):
    add_to_cart(customer_api, product, 1, key="one-key")
    elsewhere = customer_api.post(
        "/api/v1/wishlist", {"product": product.pk}, format="json", HTTP_IDEMPOTENCY_KEY="one-key"
    )
    error = assert_error(elsewhere, 422, "idempotency_key_reused")
    assert error["details"]["used_for"] == "POST /api/v1/cart/items"
    assert "for POST /api/v1/cart/items" in error["message"]


def test_json_key_order_and_spacing_are_the_same_body(customer_api, customer, product):
    raw = f'{{"product": {product.pk}, "quantity": 2}}'
    reordered = f'{{ "quantity":2,"product":{product.pk} }}'
    first = customer_api.post("/api/v1/cart/items", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    again = customer_api.post(
        "/api/v1/cart/items", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert quantity_in_cart(customer, product) == 2


def test_keys_belong_to_their_user(customer_api, other_customer_api, customer, other_customer, product):
    add_to_cart(customer_api, product, 1, key="shared")
    theirs = add_to_cart(other_customer_api, product, 3, key="shared")
    assert theirs.status_code == 201 and REPLAYED_HEADER not in theirs
    assert (quantity_in_cart(customer, product), quantity_in_cart(other_customer, product)) == (1, 3)


def test_a_refusal_is_stored_too_and_its_writes_are_rolled_back(customer_api, customer, product, nothing_written):
    product.stock = 1
    product.save()
    refused = add_to_cart(customer_api, product, 2, key="too-many")
    assert_error(refused, 409, "insufficient_stock")
    product.stock = 10
    product.save()
    with nothing_written():
        replay = add_to_cart(customer_api, product, 2, key="too-many")
    assert (replay.status_code, replay.content) == (409, refused.content)
    assert add_to_cart(customer_api, product, 2, key="after-restock").status_code == 201


def test_a_server_error_is_not_stored_and_leaves_nothing(customer_api, customer, product, monkeypatch):
    real_add = order_services.cart_add_item

    def add_then_fail(**kwargs):
        real_add(**kwargs)
        raise RuntimeError("the process fell over after writing")

    monkeypatch.setattr(order_services, "cart_add_item", add_then_fail)
    failed = add_to_cart(customer_api, product, 2, key="flaky")
    assert_error(failed, 500, "server_error")
    assert quantity_in_cart(customer, product) == 0
    assert not IdempotentRequest.objects.exists()

    monkeypatch.setattr(order_services, "cart_add_item", real_add)
    retried = add_to_cart(customer_api, product, 2, key="flaky")
    assert retried.status_code == 201 and REPLAYED_HEADER not in retried
    assert add_to_cart(customer_api, product, 2, key="flaky").content == retried.content
    assert quantity_in_cart(customer, product) == 2


def test_an_answer_that_cannot_be_stored_keeps_nothing_and_asks_for_a_retry(
    customer_api, customer, product, monkeypatch
):
    real_save = IdempotentRequest.save

    def the_database_goes_away(record, *args, **kwargs):
        if kwargs.get("update_fields"):
            raise OperationalError("server closed the connection unexpectedly")
        return real_save(record, *args, **kwargs)

    monkeypatch.setattr(IdempotentRequest, "save", the_database_goes_away)
    failed = assert_error(add_to_cart(customer_api, product, 2, key="unlucky"), 503, "unavailable")
    assert "same key" in failed["message"]
    assert quantity_in_cart(customer, product) == 0
    assert not IdempotentRequest.objects.exists()

    monkeypatch.setattr(IdempotentRequest, "save", real_save)
    assert add_to_cart(customer_api, product, 2, key="unlucky").status_code == 201
    assert quantity_in_cart(customer, product) == 2


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_a_malformed_key_is_refused_naming_the_header(customer_api, product, key, nothing_written):
    with nothing_written():
        assert_error(add_to_cart(customer_api, product, 1, key=key), 400, fields=[IDEMPOTENCY_HEADER])


def test_reads_ignore_the_header(customer_api):
    response = customer_api.get("/api/v1/cart", HTTP_IDEMPOTENCY_KEY="a-read")
    assert response.status_code == 200
    assert not IdempotentRequest.objects.exists()


def test_a_key_past_the_window_counts_as_new_and_is_pruned(customer_api, customer, product, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    add_to_cart(customer_api, product, 1, key="old-tap")
    add_to_cart(customer_api, product, 1, key="new-tap")
    IdempotentRequest.objects.filter(key="old-tap").update(created_at=timezone.now() - timedelta(hours=25))

    again = add_to_cart(customer_api, product, 1, key="old-tap")
    assert again.status_code == 201 and REPLAYED_HEADER not in again
    assert quantity_in_cart(customer, product) == 3

    IdempotentRequest.objects.filter(key="new-tap").update(created_at=timezone.now() - timedelta(hours=23))
    assert prune_idempotency_keys(timezone.now() + timedelta(hours=2)) == 1
    assert sorted(IdempotentRequest.objects.values_list("key", flat=True)) == ["old-tap"]


def test_checkout_replays_its_first_answer_and_keeps_its_own_key(customer_api, customer, product):
    factories.CartItemFactory(user=customer, product=product, quantity=2)
    headers = {"HTTP_IDEMPOTENCY_KEY": "place-order"}
    first = customer_api.post("/api/v1/orders/checkout", {}, format="json", **headers)
    (placed,) = first.json()["orders"]
    IdempotentRequest.objects.all().delete()  # as if the window had passed

    late = customer_api.post("/api/v1/orders/checkout", {}, format="json", **headers)
    assert late.status_code == 201
    assert [order["id"] for order in late.json()["orders"]] == [placed["id"]]
    assert Order.objects.filter(customer=customer).count() == 1


# Concurrency --------------------------------------------------------------------------------------


def race(send, times: int) -> list:
    """`send()` from `times` threads at once, each with its own database connection."""
    barrier = threading.Barrier(times)
    answers = []

    def attempt():
        try:
            barrier.wait()
            answers.append(send())
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def signed_in_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user)[1]}")
    return client


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_of_one_key_have_one_effect_and_one_answer():
    customer = factories.UserFactory(password=None)
    product = factories.ProductFactory(stock=100)
    conversation = factories.ConversationFactory(customer=customer, vendor=product.vendor)
    phone = signed_in_client(customer)

    added = race(lambda: add_to_cart(phone, product, 3, key="offline-add"), 8)
    sent = race(
        lambda: phone.post(
            f"/api/v1/conversations/{conversation.pk}/messages",
            {"body": "I'm outside"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="offline-message",
        ),
        8,
    )

    for answers in (added, sent):
        assert {(answer.status_code, answer.content) for answer in answers} == {(201, answers[0].content)}
        assert sum(REPLAYED_HEADER not in answer for answer in answers) == 1
    assert quantity_in_cart(customer, product) == 3
    assert Message.objects.filter(conversation=conversation).count() == 1
