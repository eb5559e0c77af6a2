from decimal import Decimal

import pytest

from catalog.selectors import product_list
from tests import factories
from vendors.access import user_manages_vendor
from zora.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(vendor):
    bakery = factories.CategoryFactory(name="Bakery")
    return {
        "bread": factories.ProductFactory(vendor=vendor, name="Bread", price=Decimal("2.00"), category=bakery),
        "cake": factories.ProductFactory(
            vendor=vendor, name="Carrot cake", price=Decimal("3.50"), category=bakery, stock=0
        ),
        "milk": factories.ProductFactory(vendor=vendor, name="Milk", price=Decimal("1.10"), description="whole"),
        "hidden": factories.ProductFactory(vendor=vendor, name="Old stock", is_active=False),
        "closed_shop": factories.ProductFactory(vendor=factories.VendorFactory(is_active=False), name="Gone"),
    }


def names(products):
    return [product.name for product in products]


def test_customers_see_only_active_products_of_active_vendors(shelf):
    assert names(product_list()) == ["Bread", "Carrot cake", "Milk"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"search": "CAKE"}, ["Carrot cake"]),
        ({"search": "whole"}, ["Milk"]),
        ({"min_price": "1.50"}, ["Bread", "Carrot cake"]),
        ({"max_price": Decimal("2")}, ["Bread", "Milk"]),
        ({"in_stock": True}, ["Bread", "Milk"]),
        ({"in_stock": False}, ["Carrot cake"]),
        ({"ordering": "-price"}, ["Carrot cake", "Bread", "Milk"]),
        ({"ordering": "price"}, ["Milk", "Bread", "Carrot cake"]),
    ],
)
def test_product_list_filters_and_orders(shelf, filters, expected):
    assert names(product_list(**filters)) == expected


def test_product_list_by_category_and_vendor(shelf, vendor):
    bakery = shelf["bread"].category
    assert names(product_list(category=bakery)) == ["Bread", "Carrot cake"]
    assert names(product_list(vendor=shelf["closed_shop"].vendor)) == []
    assert len(product_list(vendor=vendor)) == 3


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"ordering": "stock"}, "ordering"),
        ({"min_price": "cheap"}, "min_price"),
        ({"max_price": "-1"}, "max_price"),
        ({"min_price": "5", "max_price": "1"}, "min_price"),
    ],
)
def test_product_list_refuses_bad_filters(filters, field):
    with pytest.raises(InvalidInput) as refusal:
        product_list(**filters)
    assert refusal.value.field == field


def test_user_manages_vendor(vendor, customer, admin_user):
    member = factories.VendorStaffFactory(vendor=vendor).user
    assert user_manages_vendor(user=member, vendor=vendor)
    assert user_manages_vendor(user=vendor.owner, vendor=vendor)
    assert user_manages_vendor(user=admin_user, vendor=vendor)
    assert not user_manages_vendor(user=customer, vendor=vendor)
    assert not user_manages_vendor(user=factories.VendorFactory().owner, vendor=vendor)
    suspended = factories.VendorFactory(is_active=False)
    assert not user_manages_vendor(user=suspended.owner, vendor=suspended), "a suspended shop's team is locked out"
    assert user_manages_vendor(user=admin_user, vendor=suspended)
