import re
from decimal import Decimal

import pytest
from django.db import IntegrityError

from accounts.models import Notification, Profile
from catalog.models import InventoryAlert, Product, StockMovement
from orders import services
from orders.models import CartItem, Checkout, Order, OrderItem, OrderStatusHistory
from orders.services import cart_add_item, order_checkout
from tests import factories
from vendors.models import Vendor
from zora.errors import Conflict, InvalidInput, RuleViolation

pytestmark = pytest.mark.django_db


def fill_cart(customer, *lines):
    for product, quantity in lines:
        cart_add_item(user=customer, product=product, quantity=quantity)


def stock_of(*products):
    return [Product.objects.get(pk=product.pk).stock for product in products]


@pytest.fixture
def two_shops():
    bakery, grocer = factories.VendorFactory(name="Bakery"), factories.VendorFactory(name="Grocer")
    return {
        "bread": factories.ProductFactory(vendor=bakery, name="Bread", price=Decimal("2.40"), stock=10),
        "bun": factories.ProductFactory(vendor=bakery, name="Bun", price=Decimal("0.85"), stock=10),
        "milk": factories.ProductFactory(vendor=grocer, name="Milk", price=Decimal("1.15"), stock=10),
    }


def test_multi_vendor_cart_becomes_one_order_per_vendor(customer, two_shops, settings):
    settings.DELIVERY_FEE = "2.99"
    fill_cart(customer, (two_shops["bread"], 2), (two_shops["bun"], 3), (two_shops["milk"], 1))

    orders = order_checkout(customer=customer, notes=" Ring twice ")

    assert [order.vendor.name for order in orders] == ["Bakery", "Grocer"]
    bakery_order, grocer_order = orders
    assert (bakery_order.subtotal, bakery_order.delivery_fee, bakery_order.total) == (
        Decimal("7.35"),
        Decimal("2.99"),
        Decimal("10.34"),
    )
    assert (grocer_order.subtotal, grocer_order.total) == (Decimal("1.15"), Decimal("4.14"))
    lines = list(bakery_order.items.values_list("product_name", "unit_price", "quantity", "line_total"))
    assert lines == [("Bread", Decimal("2.40"), 2, Decimal("4.80")), ("Bun", Decimal("0.85"), 3, Decimal("2.55"))]
    for order in orders:
        order.refresh_from_db()
        assert order.status == Order.Status.PENDING
        assert order.notes == "Ring twice"
        assert order.delivery_address == "1 High Street, London"
        assert order.delivery_lat == Decimal("51.5")
        assert re.fullmatch(r"ZR-[23456789ABCDEFGHJKMNPQRSTWXYZ]{8}", order.number)
        history = list(order.status_history.values_list("from_status", "to_status", "changed_by"))
        assert history == [("", "pending", customer.pk)]
    assert stock_of(two_shops["bread"], two_shops["bun"], two_shops["milk"]) == [8, 7, 9]
    assert not CartItem.objects.filter(user=customer).exists()


def test_the_price_is_a_snapshot(customer, two_shops):
    fill_cart(customer, (two_shops["milk"], 1))
    (order,) = order_checkout(customer=customer)
    milk = two_shops["milk"]
    milk.price, milk.name = Decimal("9.99"), "Oat milk"
    milk.save()

    assert order.items.values_list("product_name", "unit_price").get() == ("Milk", Decimal("1.15"))


def test_each_vendor_team_is_notified(customer, two_shops):
    bakery = two_shops["bread"].vendor
    baker = factories.VendorStaffFactory(vendor=bakery).user
    fill_cart(customer, (two_shops["bread"], 1), (two_shops["milk"], 1))

    bakery_order, grocer_order = order_checkout(customer=customer)

    for user, order in ((bakery.owner, bakery_order), (baker, bakery_order), (grocer_order.vendor.owner, grocer_order)):
        notification = Notification.objects.get(user=user)
        assert notification.type == "order"
        assert notification.data == {"order_id": order.pk, "number": order.number}
    assert not Notification.objects.filter(user=customer).exists()


def test_checkout_takes_stock_and_raises_alerts(customer, vendor):
    product = factories.ProductFactory(vendor=vendor, stock=3, low_stock_threshold=5)
    fill_cart(customer, (product, 3))
    order_checkout(customer=customer)

    assert stock_of(product) == [0]
    assert set(InventoryAlert.objects.filter(product=product, status="active").values_list("type", "severity")) == {
        ("low_stock", "emergency"),
        ("stockout", "emergency"),
    }


def test_checkout_records_each_sale_in_the_stock_history(customer, vendor):
    product = factories.ProductFactory(vendor=vendor, stock=10)
    fill_cart(customer, (product, 3))
    [order] = order_checkout(customer=customer)

    movement = StockMovement.objects.get(product=product)
    assert (movement.reason, movement.delta, movement.stock_before, movement.stock_after) == ("sale", -3, 10, 7)
    assert (movement.actor, movement.note, movement.vendor) == (customer, f"Order {order.number}", vendor)


def test_given_address_overrides_the_default(customer, two_shops):
    fill_cart(customer, (two_shops["milk"], 1))
    (order,) = order_checkout(
        customer=customer, delivery_address="9 Elm Road", delivery_lat="51.51", delivery_lng="-0.12"
    )
    assert (order.delivery_address, order.delivery_lat, order.delivery_lng) == (
        "9 Elm Road",
        Decimal("51.51"),
        Decimal("-0.12"),
    )


def test_an_address_outside_a_shops_delivery_radius_is_refused_naming_the_shop(customer, two_shops, nothing_written):
    fill_cart(customer, (two_shops["bread"], 1), (two_shops["milk"], 1))
    # 51.545, -0.12 is 4.9 km from the shops: inside the default 5 km, outside the grocer's 3 km.
    Vendor.objects.filter(pk=two_shops["milk"].vendor_id).update(delivery_radius_km=Decimal("3"))
    with nothing_written():
        with pytest.raises(RuleViolation) as refused:
            order_checkout(customer=customer, delivery_address="Far Road", delivery_lat="51.545", delivery_lng="-0.12")
    grocer = two_shops["milk"].vendor.name
    assert refused.value.code == "outside_delivery_radius" and refused.value.field == "delivery_address"
    assert refused.value.message == f"{grocer} delivers within 3.00 km; this address is 4.9 km away."
    Vendor.objects.filter(pk=two_shops["milk"].vendor_id).update(delivery_radius_km=Decimal("5"))
    assert len(order_checkout(customer=customer, delivery_lat="51.545", delivery_lng="-0.12")) == 2


def test_no_address_at_all_is_refused(two_shops):
    customer = factories.UserFactory()
    profile = Profile.objects.get(user=customer)
    profile.default_address = ""
    profile.save()
    fill_cart(customer, (two_shops["milk"], 1))

    with pytest.raises(InvalidInput) as refusal:
        order_checkout(customer=customer)
    assert refusal.value.field == "delivery_address"
    assert not Order.objects.exists()


def test_bad_coordinates_are_refused(customer, two_shops):
    fill_cart(customer, (two_shops["milk"], 1))
    with pytest.raises(InvalidInput) as refusal:
        order_checkout(customer=customer, delivery_address="x", delivery_lat=91)
    assert refusal.value.field == "delivery_lat"


def test_empty_cart_is_refused(customer):
    with pytest.raises(RuleViolation) as refusal:
        order_checkout(customer=customer, idempotency_key="k1")
    assert refusal.value.code == "cart_empty"
    assert not Checkout.objects.exists()


def test_a_short_second_product_rolls_everything_back(customer, two_shops):
    fill_cart(customer, (two_shops["bread"], 2), (two_shops["milk"], 5))
    milk = two_shops["milk"]
    milk.stock = 4
    milk.save()

    with pytest.raises(Conflict) as refusal:
        order_checkout(customer=customer, idempotency_key="attempt-1")

    assert (refusal.value.code, refusal.value.field) == ("insufficient_stock", "quantity")
    assert refusal.value.message == "Only 4 of Milk left."
    assert refusal.value.details == {"product_id": milk.pk, "available": 4, "requested": 5}
    for model in (Order, OrderItem, OrderStatusHistory, Checkout, Notification, InventoryAlert):
        assert not model.objects.exists(), model
    assert stock_of(two_shops["bread"], milk) == [10, 4]
    assert list(CartItem.objects.filter(user=customer).values_list("quantity", flat=True)) == [2, 5]

    # The key was never used by a successful checkout, so a retry after fixing the cart works.
    cart_line = CartItem.objects.get(product=milk)
    cart_line.quantity = 4
    cart_line.save()
    assert len(order_checkout(customer=customer, idempotency_key="attempt-1")) == 2


@pytest.mark.parametrize(
    ("model", "change", "code", "detail"),
    [
        ("product", {"is_active": False}, "product_unavailable", "product_id"),
        ("vendor", {"is_active": False}, "vendor_unavailable", "vendor_id"),
        ("vendor", {"opening_status": Vendor.OpeningStatus.CLOSED}, "vendor_unavailable", "vendor_id"),
    ],
)
def test_unsellable_products_or_vendors_are_refused(customer, two_shops, model, change, code, detail):
    fill_cart(customer, (two_shops["bread"], 1), (two_shops["milk"], 1))
    milk = two_shops["milk"]
    spoilt = milk if model == "product" else milk.vendor
    for name, value in change.items():
        setattr(spoilt, name, value)
    spoilt.save()

    with pytest.raises(RuleViolation) as refusal:
        order_checkout(customer=customer)
    assert refusal.value.code == code
    assert refusal.value.details[detail] == spoilt.pk
    assert not Order.objects.exists()
    assert CartItem.objects.filter(user=customer).count() == 2


def test_same_key_ten_times_is_one_set_of_orders(customer, two_shops):
    fill_cart(customer, (two_shops["bread"], 1), (two_shops["milk"], 1))

    results = [order_checkout(customer=customer, idempotency_key="tap-once") for _ in range(10)]

    assert {tuple(order.pk for order in result) for result in results} == {tuple(o.pk for o in results[0])}
    assert Order.objects.count() == 2
    assert Checkout.objects.count() == 1
    assert stock_of(two_shops["bread"], two_shops["milk"]) == [9, 9]
    assert Notification.objects.filter(type="order").count() == 2


def test_the_same_key_from_another_customer_is_independent(customer, two_shops):
    neighbour = factories.UserFactory()
    fill_cart(customer, (two_shops["bread"], 1))
    fill_cart(neighbour, (two_shops["bread"], 1))

    (mine,) = order_checkout(customer=customer, idempotency_key="shared")
    (theirs,) = order_checkout(customer=neighbour, idempotency_key="shared")

    assert mine.pk != theirs.pk
    assert theirs.customer == neighbour


def test_without_a_key_each_checkout_is_new(customer, two_shops):
    fill_cart(customer, (two_shops["bread"], 1))
    order_checkout(customer=customer)
    fill_cart(customer, (two_shops["bread"], 1))
    order_checkout(customer=customer)
    assert Order.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, 42])
def test_malformed_idempotency_keys_are_refused(customer, two_shops, key):
    fill_cart(customer, (two_shops["bread"], 1))
    with pytest.raises(InvalidInput) as refusal:
        order_checkout(customer=customer, idempotency_key=key)
    assert refusal.value.field == "idempotency_key"


def test_an_order_number_clash_draws_again(customer, two_shops, monkeypatch):
    taken = factories.OrderFactory(number="ZR-AAAAAAAA")
    draws = iter(["ZR-AAAAAAAA", "ZR-BBBBBBBB"])
    monkeypatch.setattr(services, "_random_order_number", lambda: next(draws))
    fill_cart(customer, (two_shops["bread"], 1))

    (order,) = order_checkout(customer=customer)

    assert order.number == "ZR-BBBBBBBB"
    assert Order.objects.filter(number=taken.number).count() == 1


def test_database_refuses_totals_that_do_not_add_up(customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    order.total = order.subtotal
    with pytest.raises(IntegrityError, match="order_total_sum"):
        order.save()
