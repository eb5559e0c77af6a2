from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import AdminActivityLog, Notification
from catalog.models import InventoryAlert, Product
from catalog.services import (
    inventory_alert_acknowledge,
    inventory_alerts_sync,
    product_adjust_stock,
    product_create,
    product_update,
)
from orders.models import Order, OrderItem
from tests import factories
from zora.errors import Conflict, NotFound

pytestmark = pytest.mark.django_db

LOW, OUT = InventoryAlert.Type.LOW_STOCK, InventoryAlert.Type.STOCKOUT


def open_alerts(product):
    """type → (severity, stock_level) of the product's open alerts."""
    alerts = InventoryAlert.objects.filter(product=product).exclude(status=InventoryAlert.Status.RESOLVED)
    return {alert.type: (alert.severity, alert.stock_level) for alert in alerts}


@pytest.fixture
def product(vendor):
    return product_create(
        actor=vendor.owner, vendor=vendor, name="Flour", price="1.80", stock=50, low_stock_threshold=10
    )


@pytest.mark.parametrize(
    ("stock", "expected"),
    [
        (11, {}),
        (10, {LOW: ("warning", 10)}),
        (6, {LOW: ("warning", 6)}),
        (5, {LOW: ("critical", 5)}),
        (1, {LOW: ("critical", 1)}),
        (0, {LOW: ("emergency", 0), OUT: ("emergency", 0)}),
    ],
)
def test_alerts_follow_the_stock_level(vendor, product, stock, expected):
    product_adjust_stock(actor=vendor.owner, product=product, stock=stock)
    assert open_alerts(product) == expected


def test_severity_changes_update_the_one_open_alert(vendor, product):
    for level in (9, 4, 0, 3, 8):
        product_adjust_stock(actor=vendor.owner, product=product, stock=level)

    assert open_alerts(product) == {LOW: ("warning", 8)}
    assert InventoryAlert.objects.filter(product=product, type=LOW).count() == 1
    stockout = InventoryAlert.objects.get(product=product, type=OUT)
    assert stockout.status == InventoryAlert.Status.RESOLVED
    assert stockout.resolved_at is not None


def test_rising_above_the_threshold_resolves_both(vendor, product):
    product_adjust_stock(actor=vendor.owner, product=product, stock=0)
    product_adjust_stock(actor=vendor.owner, product=product, delta=11)

    assert open_alerts(product) == {}
    assert set(InventoryAlert.objects.filter(product=product).values_list("status", flat=True)) == {"resolved"}


def test_raising_and_escalating_notify_the_vendor_team_but_easing_does_not(vendor, product):
    member = factories.VendorStaffFactory(vendor=vendor).user

    product_adjust_stock(actor=vendor.owner, product=product, stock=8)  # low stock raised
    product_adjust_stock(actor=vendor.owner, product=product, stock=7)  # same severity
    product_adjust_stock(actor=vendor.owner, product=product, stock=2)  # escalated to critical
    product_adjust_stock(actor=vendor.owner, product=product, stock=9)  # eased to warning

    for user in (vendor.owner, member):
        notifications = Notification.objects.filter(user=user, type="stock").order_by("id")
        assert list(notifications.values_list("title", flat=True)) == [
            "Flour is running low: 8 left (threshold 10).",
            "Flour is running low: 2 left (threshold 10).",
        ]


def test_escalation_reopens_an_acknowledged_alert_but_easing_keeps_it(vendor, product):
    product_adjust_stock(actor=vendor.owner, product=product, stock=8)
    alert = InventoryAlert.objects.get(product=product, type=LOW)
    inventory_alert_acknowledge(actor=vendor.owner, alert=alert)

    product_adjust_stock(actor=vendor.owner, product=product, stock=3)
    alert.refresh_from_db()
    assert (alert.status, alert.severity, alert.acknowledged_by) == ("active", "critical", None)

    inventory_alert_acknowledge(actor=vendor.owner, alert=alert)
    product_adjust_stock(actor=vendor.owner, product=product, stock=7)
    alert.refresh_from_db()
    assert (alert.status, alert.severity) == ("acknowledged", "warning")


def test_new_product_created_empty_raises_a_stockout(vendor):
    product = product_create(actor=vendor.owner, vendor=vendor, name="Saffron", price="9.00", stock=0)
    assert open_alerts(product) == {LOW: ("emergency", 0), OUT: ("emergency", 0)}


def test_threshold_zero_only_warns_about_stockouts(vendor):
    product = product_create(
        actor=vendor.owner, vendor=vendor, name="Cake", price="9.00", stock=0, low_stock_threshold=0
    )
    assert open_alerts(product) == {OUT: ("emergency", 0)}


def test_changing_the_threshold_resyncs(vendor, product):
    product_adjust_stock(actor=vendor.owner, product=product, stock=8)
    product_update(actor=vendor.owner, product=product, low_stock_threshold=5)
    assert open_alerts(product) == {}
    product_update(actor=vendor.owner, product=product, low_stock_threshold=16)
    assert open_alerts(product) == {LOW: ("critical", 8)}


def test_acknowledge_by_outsider_is_not_found_and_resolved_is_a_conflict(vendor, product, customer, admin_user):
    product_adjust_stock(actor=vendor.owner, product=product, stock=0)
    alert = InventoryAlert.objects.get(product=product, type=OUT)
    with pytest.raises(NotFound):
        inventory_alert_acknowledge(actor=customer, alert=alert)

    acknowledged = inventory_alert_acknowledge(actor=admin_user, alert=alert)
    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", admin_user)
    assert AdminActivityLog.objects.filter(action="inventory_alert_acknowledged", admin=admin_user).count() == 1
    assert inventory_alert_acknowledge(actor=vendor.owner, alert=alert).acknowledged_by == admin_user

    product_adjust_stock(actor=vendor.owner, product=product, stock=1)
    with pytest.raises(Conflict) as refusal:
        inventory_alert_acknowledge(actor=vendor.owner, alert=alert)
    assert refusal.value.code == "alert_resolved"


def test_database_allows_one_open_alert_per_product_and_type(vendor, product):
    product_adjust_stock(actor=vendor.owner, product=product, stock=0)
    duplicate = InventoryAlert(
        product=product, vendor=vendor, type=OUT, severity="emergency", stock_level=0, threshold=10
    )
    with pytest.raises(IntegrityError, match="one_open_alert_per_product_and_type"):
        duplicate.save()


def sell(product, quantity, *, days_ago=0, status=Order.Status.CONFIRMED):
    """An order of `quantity` of the product placed `days_ago` days ago."""
    order = factories.OrderFactory(vendor=product.vendor, status=status)
    OrderItem.objects.create(
        order=order,
        product=product,
        product_name=product.name,
        unit_price=product.price,
        quantity=quantity,
        line_total=product.price * quantity,
    )
    if days_ago:
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days_ago))


def test_alerts_carry_the_sales_pace_and_when_the_shelf_empties(vendor):
    product = factories.ProductFactory(vendor=vendor, stock=50, low_stock_threshold=10)
    Product.objects.filter(pk=product.pk).update(created_at=timezone.now() - timedelta(days=30))
    sell(product, 9, days_ago=1)
    sell(product, 5, days_ago=6)
    sell(product, 100, status=Order.Status.CANCELLED)
    sell(product, 40, days_ago=8)

    product_adjust_stock(actor=vendor.owner, product=product, stock=4)

    alert = InventoryAlert.objects.get(product=product, type=LOW)
    assert alert.sales_velocity_per_day == Decimal("2.00")
    expected = timezone.now() + timedelta(days=2)
    assert abs(alert.estimated_stockout_at - expected) < timedelta(minutes=2)


def test_a_product_listed_this_week_is_paced_over_its_own_days(vendor):
    product = factories.ProductFactory(vendor=vendor, stock=50, low_stock_threshold=10)
    Product.objects.filter(pk=product.pk).update(created_at=timezone.now() - timedelta(days=2))
    sell(product, 6)

    product_adjust_stock(actor=vendor.owner, product=product, stock=9)

    assert InventoryAlert.objects.get(product=product).sales_velocity_per_day == Decimal("3.00")


def test_every_sale_updates_the_pace_and_a_shelf_not_selling_has_no_estimate(vendor):
    product = factories.ProductFactory(vendor=vendor, stock=8, low_stock_threshold=10)
    inventory_alerts_sync(product=product)
    alert = InventoryAlert.objects.get(product=product)
    assert (alert.sales_velocity_per_day, alert.estimated_stockout_at) == (Decimal("0.00"), None)

    sell(product, 4)
    inventory_alerts_sync(product=product)

    alert.refresh_from_db()
    assert alert.sales_velocity_per_day == Decimal("4.00")
    assert alert.estimated_stockout_at is not None
