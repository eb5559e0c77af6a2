from decimal import Decimal

import pytest
from django.db import IntegrityError

from catalog.models import Review, WishlistItem
from catalog.services import review_create, wishlist_add, wishlist_remove
from orders.models import Order
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_order(customer, vendor):
    return factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)


def ordered_product(order):
    return order.items.get().product


def test_product_review_refreshes_the_product_aggregate(customer, vendor, delivered_order):
    product = ordered_product(delivered_order)
    other = factories.OrderFactory(vendor=vendor, status=Order.Status.DELIVERED)
    other_line = other.items.get()
    other_line.product = product
    other_line.save()

    review_create(customer=customer, order=delivered_order, product=product, rating=5, comment="Lovely")
    review_create(customer=other.customer, order=other, product=product, rating=4)

    product.refresh_from_db()
    assert (product.rating_avg, product.rating_count) == (Decimal("4.50"), 2)
    vendor.refresh_from_db()
    assert vendor.rating_count == 0, "a product review is not a review of the shop"


def test_vendor_review_refreshes_the_vendor_aggregate(customer, vendor, delivered_order):
    second = factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    third = factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    for order, rating in ((delivered_order, 5), (second, 4), (third, 4)):
        review_create(customer=customer, order=order, rating=rating)

    vendor.refresh_from_db()
    assert (vendor.rating_avg, vendor.rating_count) == (Decimal("4.33"), 3)


@pytest.mark.parametrize("status", [s for s in Order.Status.values if s != Order.Status.DELIVERED])
def test_only_delivered_orders_can_be_reviewed(customer, vendor, status):
    order = factories.OrderFactory(customer=customer, vendor=vendor, status=status)
    with pytest.raises(RuleViolation) as refusal:
        review_create(customer=customer, order=order, rating=5)
    assert refusal.value.code == "order_not_delivered"
    assert not Review.objects.exists()


def test_someone_elses_order_is_not_found(delivered_order):
    with pytest.raises(NotFound):
        review_create(customer=factories.UserFactory(), order=delivered_order, rating=5)


def test_product_must_be_in_the_order(customer, vendor, delivered_order):
    with pytest.raises(InvalidInput) as refusal:
        review_create(
            customer=customer, order=delivered_order, rating=5, product=factories.ProductFactory(vendor=vendor)
        )
    assert refusal.value.field == "product"


@pytest.mark.parametrize("rating", [0, 6, -1, 4.5, "5", None, True])
def test_rating_is_a_whole_number_from_1_to_5(customer, delivered_order, rating):
    with pytest.raises(InvalidInput) as refusal:
        review_create(customer=customer, order=delivered_order, rating=rating)
    assert refusal.value.field == "rating"


@pytest.mark.parametrize("for_product", [True, False])
def test_one_review_per_order_and_subject(customer, delivered_order, for_product):
    product = ordered_product(delivered_order) if for_product else None
    review_create(customer=customer, order=delivered_order, rating=3, product=product)
    with pytest.raises(Conflict) as refusal:
        review_create(customer=customer, order=delivered_order, rating=4, product=product)
    assert refusal.value.code == "already_reviewed"
    assert Review.objects.count() == 1


def test_a_vendor_review_and_a_product_review_of_one_order_coexist(customer, vendor, delivered_order):
    review_create(customer=customer, order=delivered_order, rating=2)
    review_create(customer=customer, order=delivered_order, rating=4, product=ordered_product(delivered_order))
    assert Review.objects.filter(order=delivered_order).count() == 2


@pytest.mark.parametrize("rating", [0, 6])
def test_database_refuses_a_rating_out_of_range(customer, vendor, delivered_order, rating):
    with pytest.raises(IntegrityError, match="review_rating_1_to_5"):
        Review(customer=customer, order=delivered_order, vendor=vendor, rating=rating).save()


def test_wishlist_add_is_idempotent_and_remove_needs_the_item(customer, vendor):
    product = factories.ProductFactory(vendor=vendor)

    first = wishlist_add(user=customer, product=product)
    again = wishlist_add(user=customer, product=product)

    assert first.pk == again.pk
    assert WishlistItem.objects.filter(user=customer).count() == 1
    wishlist_remove(user=customer, product=product)
    assert not WishlistItem.objects.exists()
    with pytest.raises(NotFound):
        wishlist_remove(user=customer, product=product)


def test_hidden_products_cannot_be_wishlisted(customer, vendor):
    with pytest.raises(NotFound):
        wishlist_add(user=customer, product=factories.ProductFactory(vendor=vendor, is_active=False))
