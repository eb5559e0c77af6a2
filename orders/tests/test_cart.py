import pytest
from django.db import IntegrityError

from orders.models import CartItem
from orders.services import cart_add_item, cart_clear, cart_remove_item, cart_set_quantity
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, stock=5)


def test_adding_the_same_product_grows_one_line(customer, product):
    first = cart_add_item(user=customer, product=product)
    second = cart_add_item(user=customer, product=product, quantity=3)

    assert first.pk == second.pk
    assert list(CartItem.objects.filter(user=customer).values_list("quantity", flat=True)) == [4]


@pytest.mark.parametrize("quantity", [0, -2, 1.5, "2", True])
def test_quantity_must_be_a_positive_whole_number(customer, product, quantity):
    with pytest.raises(InvalidInput) as refusal:
        cart_add_item(user=customer, product=product, quantity=quantity)
    assert refusal.value.field == "quantity"
    assert not CartItem.objects.exists()


def test_cart_never_holds_more_than_the_stock(customer, product):
    cart_add_item(user=customer, product=product, quantity=4)
    with pytest.raises(Conflict) as refusal:
        cart_add_item(user=customer, product=product, quantity=2)
    assert refusal.value.code == "insufficient_stock"
    assert refusal.value.details["product_id"] == product.pk
    assert refusal.value.details["available"] == 5
    assert CartItem.objects.get().quantity == 4


def test_unavailable_products_cannot_be_added(customer, vendor):
    hidden = factories.ProductFactory(vendor=vendor, is_active=False)
    suspended_shop = factories.ProductFactory(vendor=factories.VendorFactory(is_active=False))
    for product in (hidden, suspended_shop):
        # Not in the catalogue: to a customer it does not exist.
        with pytest.raises(NotFound) as refusal:
            cart_add_item(user=customer, product=product)
        assert (refusal.value.code, refusal.value.field) == ("not_found", "product")

    # The shop's own team knows its unlisted product, so it hears why it cannot be bought.
    with pytest.raises(RuleViolation) as refusal:
        cart_add_item(user=vendor.owner, product=hidden)
    assert (refusal.value.code, refusal.value.field) == ("product_unavailable", "product")

    deleted = factories.ProductFactory(vendor=vendor)
    deleted.delete()
    with pytest.raises(NotFound) as refusal:
        cart_add_item(user=customer, product=deleted)
    assert refusal.value.field == "product"
    assert not CartItem.objects.exists()


def test_set_quantity_and_remove_own_items_only(customer, product):
    item = cart_add_item(user=customer, product=product)
    stranger = factories.UserFactory()

    with pytest.raises(NotFound):
        cart_set_quantity(user=stranger, item_id=item.pk, quantity=2)
    with pytest.raises(NotFound):
        cart_remove_item(user=stranger, item_id=item.pk)

    assert cart_set_quantity(user=customer, item_id=item.pk, quantity=5).quantity == 5
    with pytest.raises(Conflict):
        cart_set_quantity(user=customer, item_id=item.pk, quantity=6)
    with pytest.raises(InvalidInput):
        cart_set_quantity(user=customer, item_id=item.pk, quantity=0)
    assert CartItem.objects.get().quantity == 5

    cart_remove_item(user=customer, item_id=item.pk)
    assert not CartItem.objects.exists()
    with pytest.raises(NotFound):
        cart_remove_item(user=customer, item_id=item.pk)


def test_a_line_is_changed_or_removed_by_its_own_id(customer, vendor):
    first, second = (cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor)) for _ in "ab")

    cart_set_quantity(user=customer, item_id=second.pk, quantity=3)
    assert dict(CartItem.objects.values_list("pk", "quantity")) == {first.pk: 1, second.pk: 3}
    cart_remove_item(user=customer, item_id=second.pk)
    assert list(CartItem.objects.values_list("pk", flat=True)) == [first.pk]
    with pytest.raises(NotFound) as refusal:
        cart_remove_item(user=customer, item_id=second.pk)
    assert (refusal.value.message, refusal.value.field) == ("No such item in your cart.", "item_id")


def test_clear_empties_only_this_users_cart(customer, vendor):
    for _ in range(3):
        cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor))
    others = factories.CartItemFactory()

    assert cart_clear(user=customer) == 3
    assert list(CartItem.objects.all()) == [others]


def test_database_refuses_a_duplicate_cart_row(customer, product):
    cart_add_item(user=customer, product=product)
    with pytest.raises(IntegrityError, match="cart_unique_user_product"):
        CartItem(user=customer, product=product, quantity=1).save()


def test_database_refuses_a_zero_quantity(customer, product):
    with pytest.raises(IntegrityError, match="cart_quantity_positive"):
        CartItem(user=customer, product=product, quantity=0).save()
