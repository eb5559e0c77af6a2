"""Carts, checkout and order moves racing themselves on real PostgreSQL: separate threads, separate
connections, real row locks and unique indexes."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from catalog.models import Product
from orders.models import CartItem, Checkout, Order, OrderItem
from orders.services import cart_add_item, order_acceptance_expire, order_checkout, order_transition
from tests import factories
from zora.errors import Conflict, RuleViolation

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls):
    """Start every call at the same moment, each on its own connection;
    returns each call's result or the ServiceError it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        try:
            barrier.wait()
            return call()
        except (Conflict, RuleViolation) as refusal:
            return refusal
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_twenty_customers_race_for_the_last_five_units(vendor):
    product = factories.ProductFactory(vendor=vendor, stock=5)
    customers = factories.UserFactory.create_batch(20)
    for customer in customers:
        cart_add_item(user=customer, product=product)

    outcomes = race([lambda customer=customer: order_checkout(customer=customer) for customer in customers])

    placed = [outcome for outcome in outcomes if isinstance(outcome, list)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert (len(placed), len(refused)) == (5, 15)
    assert {refusal.code for refusal in refused} == {"insufficient_stock"}
    assert Product.objects.get(pk=product.pk).stock == 0
    assert OrderItem.objects.filter(product=product).count() == 5
    assert CartItem.objects.count() == 15, "the losers keep their carts"


def test_eight_concurrent_retries_with_one_key_make_one_set_of_orders(customer):
    products = [factories.ProductFactory(stock=10) for _ in range(2)]
    for product in products:
        cart_add_item(user=customer, product=product, quantity=2)

    outcomes = race([lambda: order_checkout(customer=customer, idempotency_key="double-tap") for _ in range(8)])

    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    assert {tuple(order.pk for order in outcome) for outcome in outcomes} == {
        tuple(Order.objects.order_by("id").values_list("pk", flat=True))
    }
    assert Order.objects.count() == 2
    assert Checkout.objects.count() == 1
    assert [Product.objects.get(pk=product.pk).stock for product in products] == [8, 8]


def test_two_devices_without_a_key_cannot_order_one_cart_twice(customer, vendor):
    product = factories.ProductFactory(vendor=vendor, stock=10)
    cart_add_item(user=customer, product=product, quantity=3)

    outcomes = race([lambda: order_checkout(customer=customer) for _ in range(2)])

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["RuleViolation", "list"]
    assert Order.objects.count() == 1
    assert Product.objects.get(pk=product.pk).stock == 7


def test_two_devices_adding_the_same_product_share_one_line(customer, vendor):
    product = factories.ProductFactory(vendor=vendor, stock=10)

    race([lambda: cart_add_item(user=customer, product=product, quantity=2) for _ in range(2)])

    assert list(CartItem.objects.filter(user=customer).values_list("quantity", flat=True)) == [4]


def test_two_devices_moving_one_order_cannot_both_succeed(vendor):
    order = factories.OrderFactory(vendor=vendor)
    member = factories.VendorStaffFactory(vendor=vendor).user

    outcomes = race(
        [
            lambda actor=actor: order_transition(
                actor=actor, order=order, to_status=Order.Status.CONFIRMED, expected_status=Order.Status.PENDING
            )
            for actor in (vendor.owner, member)
        ]
    )

    refusals = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert [refusal.code for refusal in refusals] == ["stale_status"]
    assert order.status_history.count() == 1


def test_several_processes_sweeping_one_deadline_reject_the_order_once(customer, vendor):
    product = factories.ProductFactory(vendor=vendor, stock=10)
    cart_add_item(user=customer, product=product, quantity=4)
    (order,) = order_checkout(customer=customer)

    outcomes = race([lambda: order_acceptance_expire(order=order, now=order.accept_by) for _ in range(6)])

    assert sorted(outcomes) == [False] * 5 + [True]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.status_history.filter(to_status=Order.Status.CANCELLED).count() == 1
    assert Product.objects.get(pk=product.pk).stock == 10, "restocked once"
