"""Every stock change leaves a history line, and "out of stock until" brings the stock back by itself."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from catalog import timed
from catalog.models import InventoryAlert, OutOfStockFor, StockMovement
from catalog.services import (
    product_adjust_stock,
    product_back_in_stock,
    product_create,
    product_mark_out_of_stock,
    product_stock_restore_due,
    product_update,
    stock_movement_record,
)
from realtime.tests.test_capture_services import reaches_the_stream
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.scheduling import registered_timed_changes

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, stock=12, low_stock_threshold=5)


def history(product):
    """(who, reason, before, after, note) of the product's movements, oldest first."""
    return [
        (movement.actor, movement.reason, movement.stock_before, movement.stock_after, movement.note)
        for movement in StockMovement.objects.filter(product=product).order_by("id")
    ]


def test_an_adjustment_records_who_why_and_before_after(vendor, product):
    clerk = factories.VendorStaffFactory(vendor=vendor).user

    product_adjust_stock(actor=clerk, product=product, delta=8, reason="restock", note="Tuesday delivery")
    product_adjust_stock(actor=vendor.owner, product=product, stock=17, reason="correction")
    product_adjust_stock(actor=vendor.owner, product=product, delta=-2, reason="damaged", note="Dropped")

    assert history(product) == [
        (clerk, "restock", 12, 20, "Tuesday delivery"),
        (vendor.owner, "correction", 20, 17, ""),
        (vendor.owner, "damaged", 17, 15, "Dropped"),
    ]
    assert StockMovement.objects.filter(vendor=vendor).count() == 3


@pytest.mark.parametrize("reason", ["sale", "restored", "count", ""])
def test_a_person_gives_one_of_the_manual_reasons(vendor, product, reason):
    with pytest.raises(InvalidInput) as refusal:
        product_adjust_stock(actor=vendor.owner, product=product, delta=1, reason=reason)
    assert refusal.value.field == "reason"
    assert not StockMovement.objects.exists()


def test_a_note_has_a_length_limit(vendor, product):
    with pytest.raises(InvalidInput) as refusal:
        product_adjust_stock(actor=vendor.owner, product=product, delta=1, reason="other", note="x" * 301)
    assert refusal.value.field == "note"


def test_opening_stock_and_edited_stock_are_in_the_history(vendor):
    product = product_create(actor=vendor.owner, vendor=vendor, name="Jam", price="3.00", stock=6)
    product_update(actor=vendor.owner, product=product, stock=4, price="3.20")
    product_update(actor=vendor.owner, product=product, stock=4)

    assert history(product) == [
        (vendor.owner, "restock", 0, 6, "Opening stock"),
        (vendor.owner, "correction", 6, 4, ""),
    ]


def test_changes_made_elsewhere_are_recorded_with_the_system_reasons(product):
    movement = stock_movement_record(
        product=product, actor=None, delta=-3, stock_before=15, reason="sale", note="ZR-ABCDEFGH"
    )

    assert (movement.vendor_id, movement.stock_after, movement.actor) == (product.vendor_id, 12, None)
    with pytest.raises(InvalidInput):
        stock_movement_record(product=product, actor=None, delta=1, stock_before=1, reason="gift")


def test_another_shop_cannot_adjust_or_mark_out_of_stock(product):
    outsider = factories.VendorFactory().owner
    with pytest.raises(NotFound):
        product_mark_out_of_stock(actor=outsider, product=product, until=OutOfStockFor.FOUR_HOURS)
    with pytest.raises(NotFound):
        product_back_in_stock(actor=outsider, product=product)
    product.refresh_from_db()
    assert product.stock == 12


def test_out_of_stock_for_four_hours_takes_the_shelf_to_zero_and_remembers_it(vendor, product):
    before = timezone.now()
    with reaches_the_stream("product_mark_out_of_stock"):
        product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.FOUR_HOURS)

    product.refresh_from_db()
    assert (product.stock, product.stock_to_restore) == (0, 12)
    assert before + timedelta(hours=4) <= product.out_of_stock_until <= timezone.now() + timedelta(hours=4)
    assert history(product) == [(vendor.owner, "out_of_stock_until", 12, 0, "For 4 hours")]
    assert InventoryAlert.objects.filter(product=product, type="stockout", status="active").exists()


def test_out_of_stock_until_the_end_of_the_day_ends_at_local_midnight(vendor, product):
    product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.END_OF_DAY)

    until = timezone.localtime(product.out_of_stock_until)
    assert (until.hour, until.minute, until.second) == (0, 0, 0)
    assert until.date() == timezone.localdate() + timedelta(days=1)


def test_indefinitely_has_no_time_and_comes_back_by_hand(vendor, product):
    product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.INDEFINITELY)
    assert (product.stock, product.stock_to_restore, product.out_of_stock_until) == (0, 12, None)
    assert timed.restore_stock_held_out(timezone.now() + timedelta(days=365)) == 0

    with reaches_the_stream("product_back_in_stock"):
        product = product_back_in_stock(actor=vendor.owner, product=product)

    assert (product.stock, product.stock_to_restore) == (12, None)
    assert history(product)[-1] == (vendor.owner, "restored", 0, 12, "Back in stock")
    with pytest.raises(Conflict):
        product_back_in_stock(actor=vendor.owner, product=product)


def test_marking_again_changes_only_when_it_comes_back(vendor, product):
    product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.FOUR_HOURS)
    product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.INDEFINITELY)

    assert (product.stock, product.stock_to_restore, product.out_of_stock_until) == (0, 12, None)
    assert len(history(product)) == 1


def test_a_product_already_at_zero_cannot_be_marked(vendor):
    empty = factories.ProductFactory(vendor=vendor, stock=0)
    with pytest.raises(RuleViolation) as refusal:
        product_mark_out_of_stock(actor=vendor.owner, product=empty, until=OutOfStockFor.FOUR_HOURS)
    assert (refusal.value.code, refusal.value.field) == ("already_out_of_stock", "until")


def test_an_unknown_duration_is_refused(vendor, product):
    with pytest.raises(InvalidInput) as refusal:
        product_mark_out_of_stock(actor=vendor.owner, product=product, until="forever")
    assert refusal.value.field == "until"


def test_the_sweep_restores_the_stock_once_at_the_time_set(vendor, product):
    assert "catalog.timed.restore_stock_held_out" in {change.name for change in registered_timed_changes()}
    product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.FOUR_HOURS)
    Notification.objects.all().delete()

    assert timed.restore_stock_held_out(product.out_of_stock_until - timedelta(minutes=1)) == 0
    with reaches_the_stream("product_stock_restore_due"):
        assert timed.restore_stock_held_out(product.out_of_stock_until) == 1
    assert timed.restore_stock_held_out(product.out_of_stock_until + timedelta(hours=1)) == 0

    product.refresh_from_db()
    assert (product.stock, product.stock_to_restore, product.out_of_stock_until) == (12, None, None)
    assert history(product)[-1] == (None, "restored", 0, 12, "Back in stock at the time set")
    assert not InventoryAlert.objects.filter(product=product).exclude(status="resolved").exists()
    assert list(Notification.objects.filter(user=vendor.owner).values_list("title", flat=True)) == [
        f"{product.name} is back in stock (12)"
    ]


def test_items_returned_while_held_are_added_to_the_restored_stock(vendor, product):
    product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.FOUR_HOURS)
    product.stock = 2  # a cancelled order's items came back meanwhile
    product.save()

    assert product_stock_restore_due(product=product, now=product.out_of_stock_until)

    product.refresh_from_db()
    assert product.stock == 14


def test_a_manual_adjustment_cancels_the_pending_restore(vendor, product):
    product = product_mark_out_of_stock(actor=vendor.owner, product=product, until=OutOfStockFor.FOUR_HOURS)
    due = product.out_of_stock_until

    product_adjust_stock(actor=vendor.owner, product=product, stock=5, reason="restock")

    assert timed.restore_stock_held_out(due + timedelta(minutes=1)) == 0
    product.refresh_from_db()
    assert (product.stock, product.stock_to_restore, product.out_of_stock_until) == (5, None, None)
