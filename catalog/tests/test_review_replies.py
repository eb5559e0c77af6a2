"""The shop's one public reply per review."""

import pytest

from accounts.models import AdminActivityLog
from catalog.models import Review
from catalog.selectors import review_list_for_vendor_staff
from catalog.services import review_create, review_reply
from orders.models import Order
from realtime.tests.test_capture_services import reaches_the_stream
from tests import factories
from zora.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    return review_create(customer=customer, order=order, rating=3, comment="Bread was late")


def test_the_shop_replies_in_public_and_may_edit_the_reply(vendor, review):
    clerk = factories.VendorStaffFactory(vendor=vendor).user

    with reaches_the_stream("review_reply"):
        review_reply(actor=clerk, review=review, body="  Sorry, the van broke down.  ")
    first_time = Review.objects.get(pk=review.pk).replied_at
    review_reply(actor=vendor.owner, review=review, body="Sorry! Next loaf is on us.")

    review.refresh_from_db()
    assert review.reply == "Sorry! Next loaf is on us."
    assert review.replied_by == vendor.owner
    assert review.replied_at >= first_time
    assert Review.objects.count() == 1


def test_a_reply_needs_words_within_the_limit(vendor, review):
    for body in ("   ", "x" * 2001):
        with pytest.raises(InvalidInput) as refusal:
            review_reply(actor=vendor.owner, review=review, body=body)
        assert refusal.value.field == "body"
    review.refresh_from_db()
    assert review.reply == ""


def test_only_the_reviewed_shop_may_reply(review, customer):
    for outsider in (factories.VendorFactory().owner, customer):
        with pytest.raises(NotFound):
            review_reply(actor=outsider, review=review, body="Nice try")


def test_an_admin_reply_is_logged(review, admin_user):
    review_reply(actor=admin_user, review=review, body="From the Zora team: sorted.")

    assert AdminActivityLog.objects.filter(action="review_replied", category="review").exists()


def test_the_team_sees_shop_and_product_reviews_and_which_await_a_reply(customer, vendor, review):
    product = review.order.items.get().product
    product_review = review_create(customer=customer, order=review.order, rating=5, product=product)
    review_reply(actor=vendor.owner, review=review, body="Thanks")
    factories.OrderFactory(vendor=factories.VendorFactory(), status=Order.Status.DELIVERED)

    def ids(about):
        return [item.pk for item in review_list_for_vendor_staff(vendor=vendor, about=about)]

    assert sorted(ids("all")) == sorted([review.pk, product_review.pk])
    assert ids("shop") == [review.pk]
    assert ids("products") == [product_review.pk]
    assert ids("unanswered") == [product_review.pk]
    with pytest.raises(InvalidInput):
        review_list_for_vendor_staff(vendor=vendor, about="mine")
