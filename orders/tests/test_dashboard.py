"""The dashboard's orders pages and the refund service, through Django's test client and in-process."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AdminActivityLog
from catalog.models import StockMovement
from orders.models import Order
from orders.services import cart_add_item, order_checkout, order_refund, order_transition
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound
from zora.versions import version_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = Order.Status


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, name="Sourdough loaf", stock=10)


@pytest.fixture
def order(customer, product):
    cart_add_item(user=customer, product=product, quantity=2)
    (placed,) = order_checkout(customer=customer, delivery_address="12 Canal Street, London")
    return placed


@pytest.fixture
def delivered(order, vendor_owner):
    for status in (Status.CONFIRMED, Status.PREPARING, Status.READY, Status.OUT_FOR_DELIVERY, Status.DELIVERED):
        order_transition(actor=vendor_owner, order=order, to_status=status)
    order.refresh_from_db()
    return order


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page_urls(order):
    return [
        reverse("dashboard:orders"),
        reverse("dashboard:orders-list"),
        reverse("dashboard:order", args=[order.pk]),
        reverse("dashboard:order-actions", args=[order.pk]),
        reverse("dashboard:order-history", args=[order.pk]),
    ]


def cancel(client, order, htmx=True, **fields):
    data = {"seen_version": version_of(order), "reason_code": "too_busy", **fields}
    return client.post(reverse("dashboard:order-cancel", args=[order.pk]), data, **(HTMX if htmx else {}))


def refund(client, order, htmx=True, **fields):
    data = {"seen_version": version_of(order), "reason": "Arrived cold", **fields}
    return client.post(reverse("dashboard:order-refund", args=[order.pk]), data, **(HTMX if htmx else {}))


# Who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, order):
    for url in page_urls(order):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
    assert cancel(client, order).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_customers_and_shop_staff_get_the_sign_in_page(client, customer, vendor_owner, order):
    for user in (customer, vendor_owner):
        client.force_login(user)
        for url in page_urls(order):
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url
        assert cancel(client, order).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_an_admin_sees_every_page(admin_client, order):
    for url in page_urls(order):
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get(reverse("dashboard:order", args=[order.pk + 1000])).status_code == 404


# The list ------------------------------------------------------------------------------------


def test_the_list_shows_every_shop_and_filters(admin_client, order, customer):
    other = factories.OrderFactory(status=Status.DELIVERED)
    late = factories.OrderFactory(status=Status.PENDING, accept_by=timezone.now() - timedelta(minutes=1))
    page = admin_client.get(reverse("dashboard:orders")).content.decode()
    assert order.number in page and other.number in page and late.number in page

    listed = admin_client.get(reverse("dashboard:orders-list"), {"shop": order.vendor_id}).content.decode()
    assert order.number in listed and other.number not in listed
    listed = admin_client.get(reverse("dashboard:orders-list"), {"status": "delivered"}).content.decode()
    assert other.number in listed and order.number not in listed
    listed = admin_client.get(reverse("dashboard:orders-list"), {"late": "on"}).content.decode()
    assert late.number in listed and order.number not in listed
    listed = admin_client.get(reverse("dashboard:orders-list"), {"customer": customer.email}).content.decode()
    assert order.number in listed and other.number not in listed
    today = timezone.localdate()
    listed = admin_client.get(
        reverse("dashboard:orders-list"), {"placed_from": today + timedelta(days=1)}
    ).content.decode()
    assert order.number not in listed


def test_an_impossible_date_range_says_so(admin_client, order):
    today = timezone.localdate()
    response = admin_client.get(reverse("dashboard:orders"), {"placed_from": today, "placed_to": today - timedelta(1)})
    assert "The end date is before the start date." in response.content.decode()


# Cancel --------------------------------------------------------------------------------------


def test_an_admin_cancels_with_a_reason(admin_client, admin_user, order, product):
    response = cancel(admin_client, order, reason_code="other", reason_text="Shop closed by flooding")
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Status.CANCELLED and order.cancel_reason == "Shop closed by flooding"
    product.refresh_from_db()
    assert product.stock == 10
    assert "Shop closed by flooding" in response.content.decode()  # the timeline, swapped out of band
    entry = AdminActivityLog.objects.get(entity_id=str(order.pk), action="order_status_changed")
    assert entry.admin == admin_user


def test_an_admin_may_cancel_an_order_the_shop_is_preparing(admin_client, order, vendor_owner):
    order_transition(actor=vendor_owner, order=order, to_status=Status.CONFIRMED)
    order_transition(actor=vendor_owner, order=order, to_status=Status.PREPARING)
    order.refresh_from_db()
    response = cancel(admin_client, order, htmx=False)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.CANCELLED


def test_cancel_without_a_reason_shows_the_field_error(admin_client, order):
    response = cancel(admin_client, order, reason_code="")
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    response = cancel(admin_client, order, reason_code="other", reason_text="")
    assert response.status_code == 422
    assert "Say why in a few words" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_cancel_of_a_delivered_order_is_refused(admin_client, delivered):
    response = cancel(admin_client, delivered)
    assert response.status_code == 422
    assert "An order cannot go from delivered to cancelled." in response.content.decode()


def test_a_stale_cancel_is_refused_with_409(admin_client, order, vendor_owner):
    seen = version_of(order)
    order_transition(actor=vendor_owner, order=order, to_status=Status.CONFIRMED)
    response = cancel(admin_client, order, seen_version=seen)
    assert response.status_code == 409
    assert "nothing was changed" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.CONFIRMED


# Refund --------------------------------------------------------------------------------------


def test_an_admin_refunds_a_delivered_order_and_may_restock(admin_client, delivered, product):
    response = refund(admin_client, delivered, restock="on", htmx=False)
    assert response.status_code == 302
    delivered.refresh_from_db()
    assert delivered.status == Status.REFUNDED
    product.refresh_from_db()
    assert product.stock == 10


def test_a_refund_without_a_reason_shows_the_field_error(admin_client, delivered):
    response = refund(admin_client, delivered, reason="")
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == Status.DELIVERED


def test_a_refund_of_a_pending_order_is_refused(admin_client, order):
    response = refund(admin_client, order)
    assert response.status_code == 422
    assert "An order cannot go from pending to refunded." in response.content.decode()


def test_a_stale_refund_is_refused_with_409(admin_client, delivered, admin_user):
    seen = version_of(delivered)
    order_refund(actor=admin_user, order=delivered, reason="Arrived cold")
    response = refund(admin_client, delivered, seen_version=seen)
    assert response.status_code == 409
    assert "refunded this" in response.content.decode()


# The refund service --------------------------------------------------------------------------


def test_refund_without_restock_leaves_the_stock(admin_user, delivered, product):
    order_refund(actor=admin_user, order=delivered, reason="Arrived cold")
    product.refresh_from_db()
    assert product.stock == 8
    move = delivered.status_history.order_by("-id").first()
    assert move.to_status == Status.REFUNDED and move.note == "Arrived cold"
    entry = AdminActivityLog.objects.get(entity_id=str(delivered.pk), action="order_refunded")
    assert entry.details["restock"] is False and entry.category == AdminActivityLog.Category.REFUND


def test_refund_with_restock_puts_the_items_back(admin_user, delivered, product):
    order_refund(actor=admin_user, order=delivered, reason="Wrong items sent", restock=True)
    product.refresh_from_db()
    assert product.stock == 10
    movement = StockMovement.objects.filter(product=product).first()
    assert movement.reason == StockMovement.Reason.REFUND and movement.delta == 2
    assert delivered.status_history.order_by("-id").first().note == "Wrong items sent (items put back in stock)"
    entry = AdminActivityLog.objects.get(entity_id=str(delivered.pk), action="order_refunded")
    assert entry.details["restock"] is True


def test_refund_is_refused_without_reason_for_others_and_when_stale(admin_user, vendor_owner, delivered):
    with pytest.raises(InvalidInput):
        order_refund(actor=admin_user, order=delivered, reason=" ")
    with pytest.raises(NotFound):
        order_refund(actor=factories.UserFactory(), order=delivered, reason="x")
    with pytest.raises(Exception, match="Only the platform team"):
        order_refund(actor=vendor_owner, order=delivered, reason="x")
    with pytest.raises(Conflict):
        order_refund(actor=admin_user, order=delivered, reason="x", seen_version="2000-01-01T00:00:00+00:00")
    delivered.refresh_from_db()
    assert delivered.status == Status.DELIVERED
