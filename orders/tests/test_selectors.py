from decimal import Decimal

import pytest

from orders.models import Order
from orders.selectors import cart_summary, order_detail, order_list_for_customer, order_list_for_vendor
from orders.services import cart_add_item, order_checkout, order_transition
from tests import factories
from zora.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops():
    return factories.VendorFactory(name="Bakery"), factories.VendorFactory(name="Grocer")


def test_cart_summary_groups_by_vendor_with_a_fee_each(customer, shops, settings):
    settings.DELIVERY_FEE = "3.5"
    bakery, grocer = shops
    cart_add_item(user=customer, product=factories.ProductFactory(vendor=bakery, price=Decimal("2.40")), quantity=2)
    cart_add_item(user=customer, product=factories.ProductFactory(vendor=bakery, price=Decimal("0.85")), quantity=1)
    cart_add_item(user=customer, product=factories.ProductFactory(vendor=grocer, price=Decimal("1.15")), quantity=3)

    summary = cart_summary(user=customer)

    assert summary.item_count == 6
    assert [(g.vendor, g.subtotal, g.delivery_fee, g.total) for g in summary.groups] == [
        (bakery, Decimal("5.65"), Decimal("3.50"), Decimal("9.15")),
        (grocer, Decimal("3.45"), Decimal("3.50"), Decimal("6.95")),
    ]
    assert (summary.subtotal, summary.delivery_fee, summary.total) == (
        Decimal("9.10"),
        Decimal("7.00"),
        Decimal("16.10"),
    )


def test_an_empty_cart_costs_nothing(customer):
    summary = cart_summary(user=customer)
    assert (summary.items, summary.groups, summary.item_count, summary.total) == ([], [], 0, Decimal("0.00"))


def test_cart_summary_matches_what_checkout_charges(customer, shops):
    for vendor in shops:
        cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor, price=Decimal("3.33")), quantity=3)
    summary = cart_summary(user=customer)

    orders = order_checkout(customer=customer)

    assert [order.total for order in orders] == [group.total for group in summary.groups]


def test_cart_summary_reads_in_constant_queries(customer, shops, django_assert_num_queries):
    for vendor in shops:
        for _ in range(3):
            cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor))
    with django_assert_num_queries(1):
        cart_summary(user=customer)


def place_orders(customer, vendor, count):
    for _ in range(count):
        cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor))
        order_checkout(customer=customer)


def test_order_lists_for_customer_and_vendor(customer, shops, django_assert_num_queries):
    bakery, grocer = shops
    place_orders(customer, bakery, 3)
    place_orders(customer, grocer, 1)
    place_orders(factories.UserFactory(), bakery, 1)
    first = Order.objects.filter(customer=customer, vendor=bakery).order_by("id").first()
    order_transition(actor=bakery.owner, order=first, to_status=Order.Status.CONFIRMED)

    assert order_list_for_customer(customer=customer).count() == 4
    assert order_list_for_vendor(vendor=bakery).count() == 4
    assert list(order_list_for_vendor(vendor=bakery, status="confirmed")) == [first]
    with django_assert_num_queries(4):
        for order in order_list_for_customer(customer=customer):
            assert order.vendor.name and order.customer.email
            assert [item.product_name for item in order.items.all()]
            assert [entry.changed_by for entry in order.status_history.all()]
            assert order.notes_for_customer == []


def test_order_lists_refuse_an_unknown_status(customer):
    with pytest.raises(InvalidInput) as refusal:
        order_list_for_customer(customer=customer, status="lost")
    assert refusal.value.field == "status"


def test_order_detail_is_for_the_customer_the_vendor_team_and_admins(customer, shops, admin_user):
    bakery, grocer = shops
    place_orders(customer, bakery, 1)
    order = Order.objects.get()
    member = factories.VendorStaffFactory(vendor=bakery).user

    for viewer in (customer, bakery.owner, member, admin_user):
        assert order_detail(user=viewer, order_id=order.pk) == order
    for outsider in (factories.UserFactory(), grocer.owner):
        with pytest.raises(NotFound):
            order_detail(user=outsider, order_id=order.pk)
    with pytest.raises(NotFound):
        order_detail(user=customer, order_id=order.pk + 1000)
