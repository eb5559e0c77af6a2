"""Stale writes from the app: a write carrying the `updated_at` it was made on (If-Match or
expected_updated_at) is refused with 409 and the current state once the object has changed since,
instead of silently undoing the other change."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts.services import profile_update
from catalog.services import product_adjust_stock, product_update, review_create, review_reply
from orders.models import Order
from orders.services import cart_set_quantity
from tests import factories
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@dataclass
class StaleCase:
    """A replacing write: what the endpoint answers now, the version in that answer, the write
    itself, and a change made meanwhile by another device or colleague."""

    client: object
    method: str
    path: str
    body: dict
    read: Callable[[], dict]
    version_in: Callable[[dict], str]
    change_elsewhere: Callable[[], None]

    def send(self, **options):
        body = {**self.body, **options.pop("body", {})}
        return getattr(self.client, self.method.lower())(self.path, body, format="json", **options)


def _cart_line(customer_api, customer, product):
    line = factories.CartItemFactory(user=customer, product=product, quantity=1)
    return StaleCase(
        client=customer_api,
        method="PATCH",
        path=f"/api/v1/cart/items/{line.pk}",
        body={"quantity": 4},
        read=lambda: customer_api.get("/api/v1/cart").json(),
        version_in=lambda cart: next(item["updated_at"] for item in cart["items"] if item["id"] == line.pk),
        change_elsewhere=lambda: cart_set_quantity(user=customer, item_id=line.pk, quantity=2),
    )


def _profile(customer_api, customer, product):
    return StaleCase(
        client=customer_api,
        method="PATCH",
        path="/api/v1/me",
        body={"default_address": "9 Old Road, London"},
        read=lambda: customer_api.get("/api/v1/me").json(),
        version_in=lambda me: me["updated_at"],
        change_elsewhere=lambda: profile_update(user=customer, default_address="4 New Street, London"),
    )


def _product_details(vendor_api, product):
    return StaleCase(
        client=vendor_api,
        method="PATCH",
        path=f"/api/v1/vendor/products/{product.pk}",
        body={"price": "5.00"},
        read=lambda: vendor_api.get(f"/api/v1/vendor/products/{product.pk}").json(),
        version_in=lambda shown: shown["updated_at"],
        change_elsewhere=lambda: product_update(actor=product.vendor.owner, product=product, price="4.80"),
    )


def _stock_take(vendor_api, product):
    def a_sale():
        product_adjust_stock(actor=product.vendor.owner, product=product, delta=-3, reason="damaged")

    return StaleCase(
        client=vendor_api,
        method="POST",
        path=f"/api/v1/vendor/products/{product.pk}/stock",
        body={"stock": 30, "reason": "correction"},
        read=lambda: vendor_api.get(f"/api/v1/vendor/products/{product.pk}").json(),
        version_in=lambda shown: shown["updated_at"],
        change_elsewhere=a_sale,
    )


def _review_reply(vendor_api, customer, product):
    order = factories.OrderFactory(customer=customer, vendor=product.vendor, status=Order.Status.DELIVERED)
    review = review_create(customer=customer, order=order, rating=3, comment="Fine")
    colleague = factories.VendorStaffFactory(vendor=product.vendor).user

    def listed():
        return next(
            item for item in vendor_api.get("/api/v1/vendor/reviews").json()["results"] if item["id"] == review.pk
        )

    return StaleCase(
        client=vendor_api,
        method="PUT",
        path=f"/api/v1/vendor/reviews/{review.pk}/reply",
        body={"body": "Thanks!"},
        read=listed,
        version_in=lambda shown: shown["updated_at"],
        change_elsewhere=lambda: review_reply(actor=colleague, review=review, body="Sorry it was only fine."),
    )


CASES = {
    "cart line quantity": lambda f: _cart_line(f["customer_api"], f["customer"], f["product"]),
    "profile": lambda f: _profile(f["customer_api"], f["customer"], f["product"]),
    "product details": lambda f: _product_details(f["vendor_api"], f["product"]),
    "stock-take": lambda f: _stock_take(f["vendor_api"], f["product"]),
    "review reply": lambda f: _review_reply(f["vendor_api"], f["customer"], f["product"]),
}


@pytest.fixture(params=list(CASES))
def stale_case(request, customer_api, customer, vendor_api, product) -> StaleCase:
    fixtures = {"customer_api": customer_api, "customer": customer, "vendor_api": vendor_api, "product": product}
    return CASES[request.param](fixtures)


def test_a_write_on_a_changed_object_is_refused_with_its_current_state(stale_case):
    seen = stale_case.version_in(stale_case.read())
    stale_case.change_elsewhere()
    now = stale_case.read()

    in_body = assert_error(stale_case.send(body={"expected_updated_at": seen}), 409, "stale_version")
    in_header = assert_error(stale_case.send(HTTP_IF_MATCH=f'"{seen}"'), 409, "stale_version")

    assert (in_body["field"], in_header["field"]) == ("expected_updated_at", "If-Match")
    assert in_body["details"]["current"] == in_header["details"]["current"] == now
    assert stale_case.read() == now, "the refused write changed something"

    fresh = stale_case.send(HTTP_IF_MATCH=f'"{stale_case.version_in(now)}"')
    assert fresh.status_code == 200, fresh.content
    assert stale_case.send(body={"expected_updated_at": in_body["details"]["current_version"]}).status_code == 409


def test_without_a_version_the_last_write_wins(stale_case):
    stale_case.change_elsewhere()
    assert stale_case.send().status_code == 200


def test_an_unreadable_or_contradictory_version_names_the_input(customer_api, customer, product, nothing_written):
    case = _profile(customer_api, customer, product)
    version = case.version_in(case.read())
    with nothing_written():
        unreadable = assert_error(case.send(HTTP_IF_MATCH='"last tuesday"'), 400, "invalid")
        assert unreadable["field"] == "If-Match"
        assert_error(case.send(body={"expected_updated_at": "soon"}), 400, fields=["expected_updated_at"])
        both = case.send(body={"expected_updated_at": version}, HTTP_IF_MATCH='"2020-01-01T00:00:00Z"')
        assert assert_error(both, 400)["field"] == "If-Match"
    assert case.send(body={"expected_updated_at": version}, HTTP_IF_MATCH=f'"{version}"').status_code == 200


def test_if_match_star_matches_whatever_is_there(customer_api, customer, product):
    case = _cart_line(customer_api, customer, product)
    case.change_elsewhere()
    assert case.send(HTTP_IF_MATCH="*").status_code == 200
