"""Browsing the catalog, finding shops nearby, the wishlist and reviews."""

from decimal import Decimal

import pytest

from catalog.models import Review
from catalog.services import inventory_alerts_sync
from orders.models import Order
from tests import factories
from tests.api.conftest import assert_error


@pytest.fixture
def shelf(vendor):
    """Three products of one shop, plus ones nobody should see."""
    fruit = factories.CategoryFactory(name="Fruit", slug="fruit")
    bakery = factories.CategoryFactory(name="Bakery", slug="bakery")
    products = {
        "apples": factories.ProductFactory(
            vendor=vendor, category=fruit, name="Apples", price=Decimal("2.00"), stock=10
        ),
        "pears": factories.ProductFactory(vendor=vendor, category=fruit, name="Pears", price=Decimal("3.00"), stock=0),
        "bread": factories.ProductFactory(
            vendor=vendor, category=bakery, name="Bread", description="Sourdough loaf", price=Decimal("4.00"), stock=5
        ),
    }
    factories.ProductFactory(vendor=vendor, name="Hidden", is_active=False)
    factories.ProductFactory(vendor=factories.VendorFactory(is_active=False), name="Closed shop's")
    return products


def names(response):
    assert response.status_code == 200, response.content
    return [product["name"] for product in response.json()["results"]]


def test_products_are_public_and_show_only_active_products_of_active_vendors(api, shelf):
    assert names(api.get("/api/v1/products")) == ["Apples", "Bread", "Pears"]
    product = api.get(f"/api/v1/products/{shelf['bread'].pk}").json()
    assert product["price"] == "4.00"
    assert product["vendor"]["slug"] == shelf["bread"].vendor.slug
    assert product["category"]["slug"] == "bakery"
    assert product["rating"] == {"average": "0.00", "count": 0}


def test_product_filters_and_ordering(api, shelf, vendor):
    assert names(api.get("/api/v1/products?search=sourdough")) == ["Bread"]
    assert names(api.get("/api/v1/products?category=fruit")) == ["Apples", "Pears"]
    assert names(api.get(f"/api/v1/products?category={shelf['bread'].category_id}")) == ["Bread"]
    assert names(api.get(f"/api/v1/products?vendor={vendor.slug}&in_stock=true")) == ["Apples", "Bread"]
    assert names(api.get("/api/v1/products?min_price=2.50&max_price=3.50")) == ["Pears"]
    assert names(api.get("/api/v1/products?ordering=-price")) == ["Bread", "Pears", "Apples"]
    assert names(api.get("/api/v1/products?ordering=price&page_size=2")) == ["Apples", "Pears"]


def test_product_filters_name_each_bad_parameter(api, shelf):
    response = api.get("/api/v1/products?min_price=-1&max_price=abc&ordering=cheapest&in_stock=maybe")
    assert_error(response, 400, "invalid", fields=["min_price", "max_price", "ordering", "in_stock"])
    assert_error(api.get("/api/v1/products?category=no-such-category"), 400, "does_not_exist")
    assert_error(api.get("/api/v1/products?page=99"), 400, fields=["page"])


def test_hidden_products_are_not_found(api, shelf):
    hidden = factories.ProductFactory(is_active=False)
    assert_error(api.get(f"/api/v1/products/{hidden.pk}"), 404)


def test_categories_are_public(api, shelf):
    response = api.get("/api/v1/categories")
    assert {category["slug"] for category in response.json()["results"]} >= {"fruit", "bakery"}


def test_vendors_nearby_are_ordered_by_distance(api, db):
    near = factories.VendorFactory(name="Near", lat=Decimal("51.501000"), lng=Decimal("-0.120000"))
    farther = factories.VendorFactory(name="Farther", lat=Decimal("51.530000"), lng=Decimal("-0.120000"))
    factories.VendorFactory(name="Elsewhere", lat=Decimal("53.480000"), lng=Decimal("-2.240000"))
    factories.VendorFactory(name="Nowhere", lat=None, lng=None)
    response = api.get("/api/v1/vendors?lat=51.5&lng=-0.12&radius_km=5")
    results = response.json()["results"]
    assert [vendor["slug"] for vendor in results] == [near.slug, farther.slug]
    assert results[0]["distance_km"] == pytest.approx(0.111, abs=0.002)
    assert results[1]["distance_km"] == pytest.approx(3.336, abs=0.01)
    everyone = api.get("/api/v1/vendors").json()
    assert everyone["count"] == 4 and everyone["results"][0]["distance_km"] is None


def test_nearby_lists_only_shops_that_deliver_to_the_point(api, db):
    """3.3 km away: inside the search radius, but the small shop delivers within 2 km only."""
    delivers = factories.VendorFactory(name="Delivers", lat=Decimal("51.530000"), lng=Decimal("-0.120000"))
    factories.VendorFactory(
        name="Too small", lat=Decimal("51.530000"), lng=Decimal("-0.120000"), delivery_radius_km=Decimal("2")
    )
    results = api.get("/api/v1/vendors?lat=51.5&lng=-0.12&radius_km=10").json()["results"]
    assert [vendor["slug"] for vendor in results] == [delivers.slug]


def test_vendor_search_validates_its_coordinates(api, db):
    assert_error(api.get("/api/v1/vendors?lat=91&lng=0"), 400, fields=["lat"])
    assert_error(api.get("/api/v1/vendors?lat=10&lng=-181&radius_km=0"), 400, fields=["lng", "radius_km"])
    assert_error(api.get("/api/v1/vendors?lat=10"), 400, fields=["lng"])
    assert_error(api.get("/api/v1/vendors?lat=NaN&lng=Infinity"), 400, fields=["lat", "lng"])


def test_vendor_detail_by_slug(api, vendor):
    assert api.get(f"/api/v1/vendors/{vendor.slug}").json()["name"] == vendor.name
    assert_error(api.get("/api/v1/vendors/no-such-shop"), 404)
    closed = factories.VendorFactory(is_active=False)
    assert_error(api.get(f"/api/v1/vendors/{closed.slug}"), 404)


def test_wishlist_add_list_remove(customer_api, shelf):
    apples = shelf["apples"]
    assert customer_api.post("/api/v1/wishlist", {"product": apples.pk}, format="json").status_code == 201
    assert customer_api.post("/api/v1/wishlist", {"product": apples.pk}, format="json").status_code == 201
    listed = customer_api.get("/api/v1/wishlist").json()
    assert [item["product"]["id"] for item in listed["results"]] == [apples.pk]
    assert customer_api.delete(f"/api/v1/wishlist/{apples.pk}").status_code == 204
    assert_error(customer_api.delete(f"/api/v1/wishlist/{apples.pk}"), 404)


def test_wishlist_is_private(customer_api, other_customer_api, shelf):
    customer_api.post("/api/v1/wishlist", {"product": shelf["apples"].pk}, format="json")
    assert other_customer_api.get("/api/v1/wishlist").json()["count"] == 0
    assert_error(other_customer_api.delete(f"/api/v1/wishlist/{shelf['apples'].pk}"), 404)
    assert customer_api.get("/api/v1/wishlist").json()["count"] == 1


def test_wishlist_validation(customer_api, shelf):
    assert_error(customer_api.post("/api/v1/wishlist", {"product": "apples"}, format="json"), 400, fields=["product"])
    assert_error(customer_api.post("/api/v1/wishlist", {"product": 2**70}, format="json"), 400, fields=["product"])
    assert_error(customer_api.post("/api/v1/wishlist", {"product": 999999}, format="json"), 404)


@pytest.fixture
def delivered_order(customer, vendor):
    return factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)


def test_review_of_a_delivered_order_updates_the_rating_and_is_public(customer_api, api, delivered_order):
    product = delivered_order.items.get().product
    response = customer_api.post(
        "/api/v1/reviews",
        {"order": delivered_order.pk, "product": product.pk, "rating": 4, "comment": "Crisp"},
        format="json",
    )
    assert response.status_code == 201, response.content
    reviews = api.get(f"/api/v1/products/{product.pk}/reviews").json()["results"]
    assert [(review["rating"], review["comment"]) for review in reviews] == [(4, "Crisp")]
    assert "email" not in str(reviews) and delivered_order.customer.email not in str(reviews)
    assert api.get(f"/api/v1/products/{product.pk}").json()["rating"] == {"average": "4.00", "count": 1}
    again = customer_api.post(
        "/api/v1/reviews", {"order": delivered_order.pk, "product": product.pk, "rating": 5}, format="json"
    )
    assert_error(again, 409, "already_reviewed")


def test_review_rules_and_validation(customer_api, other_customer_api, customer, vendor, delivered_order):
    pending = factories.OrderFactory(customer=customer, vendor=vendor)
    assert_error(
        customer_api.post("/api/v1/reviews", {"order": pending.pk, "rating": 5}, format="json"),
        422,
        "order_not_delivered",
    )
    assert_error(
        other_customer_api.post("/api/v1/reviews", {"order": delivered_order.pk, "rating": 5}, format="json"), 404
    )
    bad = customer_api.post("/api/v1/reviews", {"order": -1, "rating": 6}, format="json")
    assert_error(bad, 400, fields=["order", "rating"])
    assert not Review.objects.exists()


def test_a_review_cannot_tell_whether_an_unlisted_product_exists(customer_api, customer, vendor):
    """Whatever the order's state, naming an unlisted product answers as naming a missing one."""
    unlisted = factories.ProductFactory(vendor=factories.VendorFactory(), is_active=False)
    for status in (Order.Status.PENDING, Order.Status.DELIVERED):
        order = factories.OrderFactory(customer=customer, vendor=vendor, status=status)

        def review(product_id, order=order):
            body = {"order": order.pk, "product": product_id, "rating": 5}
            return customer_api.post("/api/v1/reviews", body, format="json")

        missing, answer = review(999999), review(unlisted.pk)
        assert (answer.status_code, answer.json()) == (missing.status_code, missing.json())
        assert_error(answer, 400, "not_in_order")
    assert not Review.objects.exists()


# The vendor's catalogue ------------------------------------------------------------------------


def test_vendor_creates_updates_and_restocks_its_products(vendor_api, vendor):
    category = factories.CategoryFactory()
    created = vendor_api.post(
        "/api/v1/vendor/products",
        {"name": "Honey", "price": "6.50", "stock": 3, "low_stock_threshold": 5, "category": category.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    assert created.json()["vendor"]["id"] == vendor.pk

    alerts = vendor_api.get("/api/v1/vendor/inventory-alerts?status=active").json()["results"]
    assert [(alert["type"], alert["product"]["id"]) for alert in alerts] == [("low_stock", product_id)]
    acknowledged = vendor_api.post(f"/api/v1/vendor/inventory-alerts/{alerts[0]['id']}/acknowledge")
    assert acknowledged.json()["status"] == "acknowledged"

    updated = vendor_api.patch(
        f"/api/v1/vendor/products/{product_id}", {"price": "7.00", "is_active": False}, format="json"
    )
    assert (updated.json()["price"], updated.json()["is_active"]) == ("7.00", False)
    assert (
        vendor_api.post(f"/api/v1/vendor/products/{product_id}/stock", {"delta": 10}, format="json").json()["stock"]
        == 13
    )
    assert (
        vendor_api.post(f"/api/v1/vendor/products/{product_id}/stock", {"stock": 2}, format="json").json()["stock"] == 2
    )
    listed = vendor_api.get("/api/v1/vendor/products").json()["results"]
    assert [product["id"] for product in listed] == [product_id]


def test_vendor_product_validation(vendor_api, product):
    bad = vendor_api.post(
        "/api/v1/vendor/products", {"name": "", "price": "-1", "stock": 1.5, "category": 0}, format="json"
    )
    assert_error(bad, 400, fields=["name", "price", "stock", "category"])
    both = vendor_api.post(f"/api/v1/vendor/products/{product.pk}/stock", {"delta": 1, "stock": 1}, format="json")
    assert_error(both, 400, fields=["delta"])
    below_zero = vendor_api.post(f"/api/v1/vendor/products/{product.pk}/stock", {"delta": -1000}, format="json")
    assert_error(below_zero, 400)
    product.refresh_from_db()
    assert product.stock == 20


def test_vendor_side_is_invisible_to_customers_and_other_shops(customer_api, other_vendor_api, vendor_api, product):
    alert_product = factories.ProductFactory(vendor=product.vendor, stock=0)
    inventory_alerts_sync(product=alert_product)
    alert = alert_product.inventory_alerts.first()
    for client in (customer_api, other_vendor_api):
        assert_error(client.patch(f"/api/v1/vendor/products/{product.pk}", {"price": "0.01"}, format="json"), 404)
        assert_error(client.get(f"/api/v1/vendor/products/{product.pk}"), 404)
        assert_error(client.post(f"/api/v1/vendor/products/{product.pk}/stock", {"stock": 0}, format="json"), 404)
        assert_error(client.post(f"/api/v1/vendor/inventory-alerts/{alert.pk}/acknowledge"), 404)
    assert_error(customer_api.get("/api/v1/vendor/products"), 404)
    assert other_vendor_api.get("/api/v1/vendor/products").json()["count"] == 0
    assert other_vendor_api.get("/api/v1/vendor/inventory-alerts").json()["count"] == 0
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("4.50"), 20)
