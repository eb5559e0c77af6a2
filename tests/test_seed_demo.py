"""`manage.py seed_demo`: the demo marketplace that `make run` loads."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Avg

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.services import user_authenticate
from catalog.models import InventoryAlert, Product, Review
from orders.models import Order
from realtime.models import Event
from support.models import Conversation, EmailThread
from vendors.models import Vendor, VendorApplication

LONDON_LAT, LONDON_LNG = (51.28, 51.70), (-0.51, 0.34)


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=StringIO())


def test_the_four_demo_logins_can_sign_in_with_the_demo_password(seeded):
    admin = user_authenticate(email="admin@zora.test", password=DEMO_PASSWORD)
    vendor_owner = user_authenticate(email="vendor@zora.test", password=DEMO_PASSWORD)
    customer = user_authenticate(email="customer@zora.test", password=DEMO_PASSWORD)
    applicant = user_authenticate(email="applicant@zora.test", password=DEMO_PASSWORD)

    assert admin.is_staff and admin.is_superuser
    shop = vendor_owner.vendor_membership.vendor
    assert (vendor_owner.vendor_membership.role, shop.owner, shop.is_active) == ("owner", vendor_owner, True)
    assert shop.products.count() >= 6
    assert customer.profile.default_address and customer.profile.default_lat is not None
    assert not customer.is_staff and not hasattr(customer, "vendor_membership")
    assert applicant.vendor_applications.get().status == VendorApplication.Status.PENDING


def test_orders_exist_in_every_status_with_consistent_history(seeded):
    assert set(Order.objects.values_list("status", flat=True)) == set(Order.Status.values)
    for order in Order.objects.prefetch_related("status_history"):
        history = list(order.status_history.all())
        assert history[0].from_status == "" and history[-1].to_status == order.status
        assert all(earlier.to_status == later.from_status for earlier, later in zip(history, history[1:], strict=False))


def test_the_marketplace_is_believable(seeded):
    vendors = list(Vendor.objects.all())
    assert 4 <= len(vendors) <= 5
    for vendor in vendors:
        assert vendor.application.status == VendorApplication.Status.APPROVED
        assert LONDON_LAT[0] < vendor.lat < LONDON_LAT[1] and LONDON_LNG[0] < vendor.lng < LONDON_LNG[1]
        assert 6 <= vendor.products.count() <= 10
    sold_out = Product.objects.filter(stock=0)
    assert sold_out.exists()
    assert InventoryAlert.objects.filter(product__in=sold_out, type="stockout").exclude(status="resolved").exists()
    assert InventoryAlert.objects.filter(type="low_stock", severity="warning").exclude(status="resolved").exists()
    reviewed = Order.objects.filter(reviews__isnull=False).distinct()
    assert reviewed.exists() and set(reviewed.values_list("status", flat=True)) <= {"delivered", "refunded"}
    rated = Vendor.objects.filter(rating_count__gt=0).first()
    vendor_reviews = Review.objects.filter(vendor=rated, product=None)
    assert rated.rating_count == vendor_reviews.count()
    assert float(rated.rating_avg) == pytest.approx(vendor_reviews.aggregate(avg=Avg("rating"))["avg"], abs=0.01)
    assert VendorApplication.objects.filter(status__in=["pending", "under_review", "documents_required"]).count() >= 3
    assert EmailThread.objects.filter(status="open").exists()
    assert Conversation.objects.filter(messages__isnull=False).exists()
    customer_orders = Order.objects.filter(customer__email="customer@zora.test")
    assert customer_orders.get(status="pending").customer.notifications.filter(type="order").exists()


def test_the_data_reached_the_event_stream(seeded):
    for table in ["orders", "order_items", "products", "vendors", "notifications", "reviews", "inventory_alerts"]:
        assert Event.objects.filter(table=table).exists(), table


def test_running_it_again_changes_nothing(seeded, nothing_written):
    out = StringIO()

    with nothing_written():
        call_command("seed_demo", stdout=out)

    assert "already loaded" in out.getvalue()
