"""Cart, checkout (idempotent, also under concurrency), orders, and the shop's order queue."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import api_token_create
from orders.models import CartItem, Checkout, Order
from orders.services import order_accept, order_note_add, order_reject
from tests import factories
from tests.api.conftest import assert_error
from vendors.services import vendor_set_active


def add(client, product, quantity=1):
    return client.post("/api/v1/cart/items", {"product": product.pk, "quantity": quantity}, format="json")


def test_cart_add_update_remove_and_totals(customer_api, product):
    second_shop_product = factories.ProductFactory(price=Decimal("1.25"), stock=5)
    assert add(customer_api, product, 2).status_code == 201
    cart = add(customer_api, second_shop_product, 3).json()
    assert cart["count"] == 5
    assert (cart["subtotal"], cart["delivery_fee"], cart["total"]) == ("12.75", "5.98", "18.73")
    assert [item["line_total"] for item in cart["items"]] == ["9.00", "3.75"]
    assert len(cart["vendors"]) == 2

    cart = add(customer_api, product, 1).json()
    line = next(item for item in cart["items"] if item["product"]["id"] == product.pk)
    assert line["quantity"] == 3

    assert customer_api.patch(f"/api/v1/cart/items/{line['id']}", {"quantity": 1}, format="json").json()["count"] == 4
    assert customer_api.delete(f"/api/v1/cart/items/{line['id']}").status_code == 204
    assert customer_api.get("/api/v1/cart").json()["count"] == 3
    assert customer_api.delete("/api/v1/cart").status_code == 204
    assert customer_api.get("/api/v1/cart").json() == {
        "items": [],
        "count": 0,
        "vendors": [],
        "subtotal": "0.00",
        "delivery_fee": "0.00",
        "total": "0.00",
    }


def test_cart_refuses_more_than_the_stock_and_bad_input(customer_api, product):
    assert_error(add(customer_api, product, 21), 409, "insufficient_stock")
    assert_error(add(customer_api, product, 0), 400, fields=["quantity"])
    bad = customer_api.post("/api/v1/cart/items", {"product": "x", "quantity": "many"}, format="json")
    assert_error(bad, 400, fields=["product", "quantity"])
    assert_error(customer_api.post("/api/v1/cart/items", {"product": 10**6}, format="json"), 404)
    assert not CartItem.objects.exists()


def test_a_product_the_customer_cannot_see_answers_as_a_missing_one(customer_api, client_for, vendor, product):
    """An unlisted product, or any product of a suspended shop, must not tell a customer its name
    or its shop's, nor that it exists: the answer is the one for an id no product has."""
    unlisted = factories.ProductFactory(vendor=vendor, name="Secret winter menu", is_active=False)
    suspended_shop = factories.ProductFactory(vendor=factories.VendorFactory(name="Closed Down Ltd", is_active=False))
    missing = customer_api.post("/api/v1/cart/items", {"product": 10**6, "quantity": 1}, format="json")
    for hidden in (unlisted, suspended_shop):
        answer = add(customer_api, hidden)
        assert (answer.status_code, answer.json()) == (404, missing.json())
    assert not CartItem.objects.exists()

    # The shop's own team may see its unlisted product, so it hears why it cannot be bought.
    assert_error(add(client_for(vendor.owner), unlisted), 422, "product_unavailable")


def test_another_customers_cart_line_is_not_found(customer_api, other_customer_api, product):
    line_id = add(customer_api, product, 2).json()["items"][0]["id"]
    assert_error(other_customer_api.patch(f"/api/v1/cart/items/{line_id}", {"quantity": 9}, format="json"), 404)
    assert_error(other_customer_api.delete(f"/api/v1/cart/items/{line_id}"), 404)
    other_customer_api.delete("/api/v1/cart")
    assert CartItem.objects.get(pk=line_id).quantity == 2


def checkout(client, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/orders/checkout", body, format="json", **headers)


def test_checkout_splits_the_cart_into_one_order_per_vendor(customer_api, customer, product):
    other_shop_product = factories.ProductFactory(price=Decimal("1.00"), stock=3)
    add(customer_api, product, 2)
    add(customer_api, other_shop_product, 3)
    response = checkout(customer_api, "first-try", notes="Ring twice")
    assert response.status_code == 201, response.content
    orders = response.json()["orders"]
    assert sorted(order["vendor"]["id"] for order in orders) == sorted(
        [product.vendor_id, other_shop_product.vendor_id]
    )
    assert {order["total"] for order in orders} == {"11.99", "5.99"}
    assert all(order["status"] == "pending" and order["number"] and order["items"] for order in orders)
    assert customer_api.get("/api/v1/cart").json()["count"] == 0
    product.refresh_from_db()
    assert product.stock == 18


def test_checkout_retried_with_the_same_key_makes_one_set_of_orders(customer_api, customer, product):
    add(customer_api, product, 2)
    answers = [checkout(customer_api, "retry-me") for _ in range(10)]
    assert {answer.status_code for answer in answers} == {201}
    assert len({tuple(order["id"] for order in answer.json()["orders"]) for answer in answers}) == 1
    assert Order.objects.filter(customer=customer).count() == 1
    product.refresh_from_db()
    assert product.stock == 18


def test_checkout_refusals(customer_api, customer, product):
    assert_error(checkout(customer_api), 422, "cart_empty")
    add(customer_api, product, 2)
    assert_error(checkout(customer_api, "k" * 256), 400, fields=["Idempotency-Key"])
    assert_error(checkout(customer_api, delivery_lat=100, notes=["not", "text"]), 400, fields=["delivery_lat", "notes"])
    product.stock = 1
    product.save()
    assert_error(checkout(customer_api, "short"), 409, "insufficient_stock")
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_with_the_same_key_make_one_set_of_orders():
    customer = factories.UserFactory()
    product = factories.ProductFactory(stock=10)
    factories.CartItemFactory(user=customer, product=product, quantity=3)
    _token, key = api_token_create(user=customer)
    barrier = threading.Barrier(6)
    answers = []

    def attempt():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        barrier.wait()
        try:
            answers.append(checkout(client, "same-tap"))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [201] * 6
    assert len({tuple(order["id"] for order in answer.json()["orders"]) for answer in answers}) == 1
    assert Checkout.objects.filter(customer=customer).count() == 1
    assert Order.objects.filter(customer=customer).count() == 1
    product.refresh_from_db()
    assert product.stock == 7


def test_orders_list_detail_and_cancel(customer_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    assert customer_api.get("/api/v1/orders").json()["count"] == 2
    assert [o["id"] for o in customer_api.get("/api/v1/orders?status=pending").json()["results"]] == [order.pk]
    detail = customer_api.get(f"/api/v1/orders/{order.pk}").json()
    assert detail["number"] == order.number and detail["items"][0]["quantity"] == 2
    cancelled = customer_api.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": "Changed my mind"}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    assert [step["to_status"] for step in cancelled.json()["status_history"]] == ["cancelled"]
    assert_error(customer_api.post(f"/api/v1/orders/{order.pk}/cancel"), 422, "not_cancellable")
    assert_error(customer_api.get("/api/v1/orders?status=lost"), 400, fields=["status"])


def test_another_customers_order_is_not_found(other_customer_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    assert other_customer_api.get("/api/v1/orders").json()["count"] == 0
    assert_error(other_customer_api.get(f"/api/v1/orders/{order.pk}"), 404)
    assert_error(other_customer_api.post(f"/api/v1/orders/{order.pk}/cancel"), 404)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_order_responses_hold_no_admin_only_data(customer_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    body = str(customer_api.get(f"/api/v1/orders/{order.pk}").json())
    assert customer.email not in body and vendor.owner.email not in body and "changed_by" not in body


# The shop's queue ------------------------------------------------------------------------------


def transition(client, order, status, expected=None):
    body = {"status": status} | ({"expected_status": expected} if expected else {})
    return client.post(f"/api/v1/vendor/orders/{order.pk}/transition", body, format="json")


def test_vendor_moves_its_orders_and_stale_or_illegal_moves_conflict(vendor_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    assert [o["id"] for o in vendor_api.get("/api/v1/vendor/orders?status=pending").json()["results"]] == [order.pk]
    moved = transition(vendor_api, order, "confirmed", expected="pending")
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "confirmed"
    stale = assert_error(transition(vendor_api, order, "preparing", expected="pending"), 409, "stale_status")
    assert stale["details"]["current_status"] == "confirmed"
    assert_error(transition(vendor_api, order, "delivered"), 409, "illegal_transition")
    assert_error(transition(vendor_api, order, "teleported"), 400, fields=["status"])
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_other_shops_and_customers_cannot_see_or_move_a_shops_orders(other_vendor_api, customer_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    assert other_vendor_api.get("/api/v1/vendor/orders").json()["count"] == 0
    assert_error(other_vendor_api.get(f"/api/v1/orders/{order.pk}"), 404)
    assert_error(transition(other_vendor_api, order, "confirmed"), 404)
    assert_error(transition(customer_api, order, "confirmed"), 404)
    assert_error(customer_api.get("/api/v1/vendor/orders"), 404)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_suspended_shops_team_reads_none_of_its_orders(vendor_api, customer, vendor, admin_user):
    """Suspension closes the team's doors: an order of the shop answers them as a missing one does,
    as its socket and catch-up already stop its events, until the shop is reinstated."""
    order = factories.OrderFactory(vendor=vendor, customer=customer)
    vendor_set_active(actor=admin_user, vendor=vendor, active=False, reason="Unpaid fees")

    missing = vendor_api.get("/api/v1/orders/999999999")
    answer = vendor_api.get(f"/api/v1/orders/{order.pk}")
    assert (answer.status_code, answer.json()) == (404, missing.json())

    vendor_set_active(actor=admin_user, vendor=vendor, active=True)
    assert vendor_api.get(f"/api/v1/orders/{order.pk}").status_code == 200


def test_checkout_flow_end_to_end(api, vendor_api, vendor, product):
    registered = api.post(
        "/api/v1/auth/register",
        {"email": "flow@example.test", "password": "correct-horse-battery-staple", "full_name": "Flo"},
        format="json",
    ).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {registered['token']}")
    api.patch("/api/v1/me", {"default_address": "5 Mill Lane"}, format="json")
    add(api, product, 2)
    placed = checkout(api, "flow-1").json()["orders"][0]
    assert placed["delivery_address"] == "5 Mill Lane"

    shop_notice = vendor_api.get("/api/v1/notifications").json()
    assert shop_notice["unread_count"] == 1 and placed["number"] in shop_notice["results"][0]["title"]

    order = Order.objects.get(pk=placed["id"])
    for status in ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"]:
        assert transition(vendor_api, order, status).status_code == 200
    seen = api.get(f"/api/v1/orders/{placed['id']}").json()
    assert seen["status"] == "delivered"
    assert [step["to_status"] for step in seen["status_history"]] == [
        "pending",
        "confirmed",
        "preparing",
        "ready",
        "out_for_delivery",
        "delivered",
    ]
    assert api.get("/api/v1/notifications").json()["unread_count"] == 5
    review = api.post("/api/v1/reviews", {"order": placed["id"], "rating": 5}, format="json")
    assert review.status_code == 201


def test_the_customer_sees_the_deadline_the_estimate_and_only_the_notes_meant_for_them(
    customer_api, customer, vendor, product
):
    add(customer_api, product, 1)
    placed = checkout(customer_api, "estimate-1").json()["orders"][0]
    assert placed["accept_by"] and placed["estimated_ready_at"] is None and placed["notes_for_customer"] == []

    order = Order.objects.get(pk=placed["id"])
    order_accept(actor=vendor.owner, order=order, prep_minutes=25)
    order_note_add(actor=vendor.owner, order=order, body="Regular customer", is_internal=True)
    order_note_add(actor=vendor.owner, order=order, body="Your bread is in the oven", is_internal=False)

    seen = customer_api.get(f"/api/v1/orders/{order.pk}").json()
    order.refresh_from_db()
    assert seen["status"] == "confirmed"
    assert seen["prep_minutes"] == 25
    assert seen["estimated_ready_at"] == order.estimated_ready_at.isoformat().replace("+00:00", "Z")
    assert [note["body"] for note in seen["notes_for_customer"]] == ["Your bread is in the oven"]
    assert "Regular customer" not in str(customer_api.get("/api/v1/orders").json())


def test_a_rejected_order_tells_the_customer_why(customer_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    order_reject(actor=vendor.owner, order=order, reason_code="too_busy", reason_text="Back tomorrow")
    seen = customer_api.get(f"/api/v1/orders/{order.pk}").json()
    assert (seen["status"], seen["cancel_reason_code"], seen["cancel_reason"]) == (
        "cancelled",
        "too_busy",
        "The shop is too busy: Back tomorrow",
    )
