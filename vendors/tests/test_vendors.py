from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AdminActivityLog, Notification
from catalog.models import Review
from orders.models import Order
from realtime.models import Event
from tests import factories
from vendors import access, services
from vendors.models import VendorStaff
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor).user


# Updating a vendor -----------------------------------------------------------------------------


def test_the_owner_updates_the_profile_without_a_log_entry(vendor):
    updated = services.vendor_update(
        actor=vendor.owner, vendor=vendor, delivery_radius_km="7.5", lat=51.6, lng="-0.2", description="Fresh"
    )

    vendor.refresh_from_db()
    assert (vendor.delivery_radius_km, vendor.description) == (Decimal("7.50"), "Fresh")
    assert (vendor.lat, vendor.lng) == (Decimal("51.600000"), Decimal("-0.200000"))
    assert updated.delivery_radius_km == Decimal("7.50")
    assert not AdminActivityLog.objects.exists()


def test_staff_run_the_day_but_do_not_change_the_profile(vendor, clerk, nothing_written):
    with nothing_written(), pytest.raises(RuleViolation) as refusal:
        services.vendor_update(actor=clerk, vendor=vendor, name="Clerk's shop")

    assert (refusal.value.code, refusal.value.field) == ("owner_only", "vendor")


def test_admin_update_is_logged(vendor, admin_user):
    services.vendor_update(actor=admin_user, vendor=vendor, name="Renamed", request_meta={"ip": "192.0.2.1"})

    vendor.refresh_from_db()
    assert vendor.name == "Renamed"
    entry = AdminActivityLog.objects.get()
    assert (entry.action, entry.category, entry.details) == ("vendor.updated", "vendor", {"name": "Renamed"})


def test_outsiders_cannot_update(vendor, customer, nothing_written):
    other_shop_owner = factories.VendorFactory().owner

    with nothing_written():
        for outsider in (customer, other_shop_owner):
            with pytest.raises(NotFound):
                services.vendor_update(actor=outsider, vendor=vendor, name="Mine now")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"delivery_radius_km": 0}, "delivery_radius_km"),
        ({"delivery_radius_km": "-2"}, "delivery_radius_km"),
        ({"delivery_radius_km": "far"}, "delivery_radius_km"),
        ({"lat": "-90.5"}, "lat"),
        ({"lng": 181}, "lng"),
        ({"opening_status": "busy"}, "opening_status"),
        ({"name": ""}, "name"),
        ({"rating_avg": 5}, "rating_avg"),
        ({"is_active": False}, "is_active"),
    ],
)
def test_update_refuses_bad_fields(vendor, nothing_written, fields, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.vendor_update(actor=vendor.owner, vendor=vendor, description="changed", **fields)

    assert refusal.value.field == field
    vendor.refresh_from_db()
    assert vendor.description == ""


# Activation ------------------------------------------------------------------------------------


def test_deactivation_is_logged_notifies_the_owner_and_closes_the_portal(vendor, admin_user):
    assert access.user_vendor(user=vendor.owner) == vendor

    services.vendor_set_active(actor=admin_user, vendor=vendor, active=False, reason="Hygiene complaint")

    vendor.refresh_from_db()
    assert not vendor.is_active
    assert access.user_vendor(user=vendor.owner) is None
    entry = AdminActivityLog.objects.get()
    assert (entry.action, entry.details) == ("vendor.deactivated", {"reason": "Hygiene complaint"})
    notification = Notification.objects.get(user=vendor.owner)
    assert notification.body == "Hygiene complaint"

    services.vendor_set_active(actor=admin_user, vendor=vendor, active=True)
    assert access.user_vendor(user=vendor.owner) == vendor


def test_only_admins_change_activation(vendor, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.vendor_set_active(actor=vendor.owner, vendor=vendor, active=False)


# Staff -----------------------------------------------------------------------------------------


def test_owner_adds_and_removes_staff(vendor, customer):
    membership = services.vendor_staff_add(actor=vendor.owner, vendor=vendor, user=customer)

    assert (membership.vendor, membership.role) == (vendor, VendorStaff.Role.STAFF)
    assert access.user_vendor(user=customer) == vendor
    assert Notification.objects.get(user=customer).data == {"vendor_id": vendor.pk, "role": "staff"}

    services.vendor_staff_remove(actor=vendor.owner, membership=membership)

    assert access.user_vendor(user=customer) is None
    assert not AdminActivityLog.objects.exists()


def test_admin_staff_changes_are_logged(vendor, customer, admin_user):
    membership = services.vendor_staff_add(actor=admin_user, vendor=vendor, user=customer, role="owner")
    services.vendor_staff_remove(actor=admin_user, membership=membership)

    assert [entry.action for entry in AdminActivityLog.objects.order_by("id")] == [
        "vendor.staff_added",
        "vendor.staff_removed",
    ]


def test_plain_staff_cannot_manage_the_team(vendor, clerk, customer, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.vendor_staff_add(actor=clerk, vendor=vendor, user=customer)


def test_a_user_works_for_one_vendor_only(vendor, nothing_written):
    someone_elses_clerk = factories.VendorStaffFactory().user

    with nothing_written(), pytest.raises(Conflict) as refusal:
        services.vendor_staff_add(actor=vendor.owner, vendor=vendor, user=someone_elses_clerk)

    assert refusal.value.code == "already_vendor_staff"


def test_staff_role_is_validated(vendor, customer, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.vendor_staff_add(actor=vendor.owner, vendor=vendor, user=customer, role="manager")

    assert refusal.value.field == "role"


def test_owner_membership_cannot_be_removed(vendor, admin_user, nothing_written):
    membership = VendorStaff.objects.get(user=vendor.owner)

    with nothing_written(), pytest.raises(RuleViolation) as refusal:
        services.vendor_staff_remove(actor=admin_user, membership=membership)

    assert refusal.value.code == "owner_membership"


# Ratings ---------------------------------------------------------------------------------------


def _review(vendor, rating, product=None):
    order = factories.OrderFactory(vendor=vendor, status=Order.Status.DELIVERED)
    return Review.objects.create(customer=order.customer, order=order, vendor=vendor, product=product, rating=rating)


def test_rating_refresh_averages_vendor_reviews_only(vendor):
    for rating in (5, 4, 4):
        _review(vendor, rating)
    _review(vendor, 1, product=factories.ProductFactory(vendor=vendor))
    _review(factories.VendorFactory(), 1)

    refreshed = services.vendor_rating_refresh(vendor=vendor)

    vendor.refresh_from_db()
    assert (vendor.rating_avg, vendor.rating_count) == (Decimal("4.33"), 3)
    assert refreshed.rating_avg == Decimal("4.33")


def test_rating_refresh_without_reviews_is_zero(vendor):
    vendor.rating_avg, vendor.rating_count = Decimal("3.50"), 2
    vendor.save()

    services.vendor_rating_refresh(vendor=vendor)

    vendor.refresh_from_db()
    assert (vendor.rating_avg, vendor.rating_count) == (Decimal("0.00"), 0)


# Logo ------------------------------------------------------------------------------------------


def test_the_logo_is_a_cleaned_public_image_published_by_its_url(vendor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.vendor_update(actor=vendor.owner, vendor=vendor, logo=factories.image_upload("My logo.png"))
    vendor.refresh_from_db()
    first = vendor.logo.name
    assert first.startswith("vendors/logos/") and first.endswith(".png")
    assert vendor.logo_url == f"/media/{first}"
    assert Event.objects.filter(table="vendors").order_by("-id").first().record["logo"] == vendor.logo_url

    with django_capture_on_commit_callbacks(execute=True):
        services.vendor_update(actor=vendor.owner, vendor=vendor, logo=factories.image_upload("new.jpg", "JPEG"))
    vendor.refresh_from_db()
    assert vendor.logo.name.endswith(".jpg")
    assert not default_storage.exists(first), "the replaced logo is deleted once the change commits"

    services.vendor_update(actor=vendor.owner, vendor=vendor, logo=None)
    vendor.refresh_from_db()
    assert not vendor.logo and vendor.logo_url is None


def test_a_logo_that_is_not_an_image_is_refused_on_the_logo_field(vendor, nothing_written):
    text = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.vendor_update(actor=vendor.owner, vendor=vendor, logo=text)
    assert refusal.value.field == "logo"
