"""The vendor portal's guard and its dashboard: who gets in, and what the figures say."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order
from tests import factories
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/vendor/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/vendor/"


def test_a_customer_gets_the_sign_in_page_and_learns_why(client, customer):
    client.force_login(customer)
    response = client.get("/vendor/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"This account is not staff of an active shop" in response.content


def test_an_applicant_is_sent_to_their_application(client):
    application = factories.VendorApplicationFactory()
    client.force_login(application.applicant)
    response = client.get("/vendor/")
    assert response.status_code == 302 and response["Location"] == "/vendor/application/"


def test_a_deactivated_shop_keeps_its_staff_out(client, vendor):
    Vendor.objects.filter(pk=vendor.pk).update(is_active=False)
    client.force_login(vendor.owner)
    assert client.get("/vendor/")["Location"].startswith("/accounts/login/")


def test_the_dashboard_counts_only_this_shops_orders_of_today(client, vendor):
    other = factories.VendorFactory()
    factories.OrderFactory(vendor=vendor, total=Decimal("11.99"))
    factories.OrderFactory(vendor=vendor, total=Decimal("11.99"), status=Order.Status.CONFIRMED)
    factories.OrderFactory(vendor=vendor, total=Decimal("11.99"), status=Order.Status.CANCELLED)
    factories.OrderFactory(vendor=other, total=Decimal("11.99"))
    old = factories.OrderFactory(vendor=vendor, total=Decimal("11.99"))
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=3))
    factories.ProductFactory(vendor=vendor, stock=2, low_stock_threshold=5)
    factories.ProductFactory(vendor=vendor, stock=20, low_stock_threshold=5)
    client.force_login(vendor.owner)

    stats = client.get("/vendor/dashboard/stats/").content.decode()
    figures = dict(re.findall(r'data-stat="([\w-]+)"[^>]*>([^<]+)<', stats))
    assert figures["orders-today"] == "2"  # the cancelled one earned nothing; the old one is not today's
    assert figures["revenue-today"] == "£23.98"
    assert figures["waiting"] == "2"  # today's pending one and the old pending one
    assert figures["low-stock"] == "1"
    assert "£35.97 in all" in stats  # the chart's 14 days include the old order


def test_the_dashboard_lists_this_shops_latest_orders_and_alerts_only(client, vendor):
    mine = factories.OrderFactory(vendor=vendor)
    theirs = factories.OrderFactory()
    client.force_login(vendor.owner)
    latest = client.get("/vendor/dashboard/latest-orders/").content.decode()
    assert mine.number in latest and theirs.number not in latest
    page = client.get("/vendor/")
    assert page.status_code == 200
    assert (
        'data-realtime-tables="notifications vendors  orders products inventory_alerts reviews"'
        in page.content.decode()
    )
    assert f'data-pending-orders="{mine.pk}"' in page.content.decode()
