from decimal import Decimal

import pytest
from django.db import IntegrityError

from accounts.models import AdminActivityLog
from catalog.models import Category, Product
from catalog.services import category_create, product_adjust_stock, product_create, product_update
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


def test_vendor_staff_create_a_product_with_money_as_decimal(vendor):
    member = factories.VendorStaffFactory(vendor=vendor).user

    product = product_create(actor=member, vendor=vendor, name="  Sourdough ", price="3.5", stock=12)

    product.refresh_from_db()
    assert product.name == "Sourdough"
    assert product.price == Decimal("3.50")
    assert product.stock == 12
    assert product.vendor == vendor


def test_staff_of_another_vendor_cannot_create_or_see_a_product(vendor):
    outsider = factories.VendorFactory().owner
    with pytest.raises(NotFound):
        product_create(actor=outsider, vendor=vendor, name="Bread", price="1.00")
    product = factories.ProductFactory(vendor=vendor)
    with pytest.raises(NotFound):
        product_update(actor=outsider, product=product, price="0.01")
    with pytest.raises(NotFound):
        product_adjust_stock(actor=outsider, product=product, stock=0)
    assert Product.objects.filter(vendor=vendor).count() == 1


def test_admin_edits_any_catalogue_and_it_is_logged(vendor, admin_user):
    product = product_create(actor=admin_user, vendor=vendor, name="Milk", price="1.10")
    product_update(actor=admin_user, product=product, price="1.20")

    actions = list(
        AdminActivityLog.objects.filter(entity_type="catalog.product", entity_id=str(product.pk)).values_list(
            "action", "category"
        )
    )
    assert sorted(actions) == [("product_created", "product"), ("product_updated", "product")]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"name": "   "}, "name", "required"),
        ({"name": "x" * 201}, "name", "too_long"),
        ({"price": "-0.01"}, "price", "min_value"),
        ({"price": "1.999"}, "price", "max_decimal_places"),
        ({"price": "abc"}, "price", "invalid"),
        ({"price": "NaN"}, "price", "invalid"),
        ({"price": "100000000"}, "price", "max_value"),
        ({"stock": -1}, "stock", "min_value"),
        ({"stock": 2.5}, "stock", "not_an_integer"),
        ({"stock": True}, "stock", "not_an_integer"),
        ({"low_stock_threshold": -3}, "low_stock_threshold", "min_value"),
        ({"images": "http://x/y.png"}, "images", "invalid"),
        ({"category": 7}, "category", "invalid"),
    ],
)
def test_product_create_names_the_bad_field(vendor, fields, field, code):
    arguments = {"name": "Eggs", "price": "2.00", **fields}
    with pytest.raises(InvalidInput) as refusal:
        product_create(actor=vendor.owner, vendor=vendor, **arguments)
    assert (refusal.value.field, refusal.value.code) == (field, code)
    assert not Product.objects.exists()


def test_product_update_refuses_fields_that_are_not_editable(vendor):
    product = factories.ProductFactory(vendor=vendor)
    with pytest.raises(InvalidInput) as refusal:
        product_update(actor=vendor.owner, product=product, vendor=factories.VendorFactory())
    assert refusal.value.field == "vendor"


def test_product_update_applies_the_changes(vendor):
    category = factories.CategoryFactory()
    product = factories.ProductFactory(vendor=vendor, price=Decimal("1.00"))

    product_update(actor=vendor.owner, product=product, name="Oat milk", price=Decimal("1.25"), category=category)

    product.refresh_from_db()
    assert (product.name, product.price, product.category) == ("Oat milk", Decimal("1.25"), category)


@pytest.mark.parametrize(("delta", "stock", "expected"), [(5, None, 15), (-10, None, 0), (None, 3, 3)])
def test_adjust_stock_by_delta_or_absolute(vendor, delta, stock, expected):
    product = factories.ProductFactory(vendor=vendor, stock=10)
    product_adjust_stock(actor=vendor.owner, product=product, delta=delta, stock=stock, reason="correction")
    product.refresh_from_db()
    assert product.stock == expected


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"delta": -11}, "delta"),
        ({"stock": -1}, "stock"),
        ({"delta": 1, "stock": 1}, "delta"),
        ({}, "delta"),
        ({"delta": "5"}, "delta"),
    ],
)
def test_adjust_stock_refusals_leave_stock_alone(vendor, arguments, field):
    product = factories.ProductFactory(vendor=vendor, stock=10)
    with pytest.raises(InvalidInput) as refusal:
        product_adjust_stock(actor=vendor.owner, product=product, **arguments)
    assert refusal.value.field == field
    product.refresh_from_db()
    assert product.stock == 10


def test_category_create_is_admin_only_and_unique(admin_user, customer):
    category = category_create(actor=admin_user, name="Bakery")
    assert category.slug == "bakery"
    assert AdminActivityLog.objects.filter(action="category_created", entity_id=str(category.pk)).exists()
    with pytest.raises(Conflict):
        category_create(actor=admin_user, name="bakery")
    with pytest.raises(NotFound):
        category_create(actor=customer, name="Dairy")
    assert list(Category.objects.values_list("name", flat=True)) == ["Bakery"]


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [("stock", -1, "product_stock_non_negative"), ("price", Decimal("-0.01"), "product_price_non_negative")],
)
def test_database_refuses_negative_stock_or_price(vendor, column, value, constraint):
    product = factories.ProductFactory(vendor=vendor)
    setattr(product, column, value)
    with pytest.raises(IntegrityError, match=constraint):
        product.save()
