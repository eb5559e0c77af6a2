"""Open, busy and paused; "open now" with its reason; checkout asking it; pauses that end by themselves."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import AdminActivityLog
from orders.models import Order
from orders.services import cart_add_item, order_checkout
from realtime.models import Event
from tests import factories
from vendors import selectors, services, timed
from vendors.models import OpeningHours, Vendor
from vendors.schedule import describe_moment
from zora.errors import InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db
Status = Vendor.OpeningStatus


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor).user


def hours_around(vendor, start, length=timedelta(hours=1)):
    """An opening of `vendor` from `start` (local, to the minute) lasting `length`."""
    start = timezone.localtime(start).replace(second=0, microsecond=0)
    return OpeningHours.objects.create(
        vendor=vendor, weekday=start.weekday(), opens_at=start.time(), closes_at=(start + length).time()
    )


# Setting the status -----------------------------------------------------------------------------


def test_any_team_member_sets_busy_and_the_margin_defaults_to_fifteen_minutes(vendor, clerk):
    services.vendor_set_status(actor=clerk, vendor=vendor, opening_status="busy")
    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.busy_extra_minutes) == ("busy", 15)

    services.vendor_set_status(actor=clerk, vendor=vendor, opening_status="busy", busy_extra_minutes=45)
    vendor.refresh_from_db()
    assert vendor.busy_extra_minutes == 45
    assert not AdminActivityLog.objects.exists()


def test_a_pause_keeps_its_end_and_reason_and_opening_clears_them(vendor):
    until = timezone.now() + timedelta(minutes=30)
    services.vendor_set_status(
        actor=vendor.owner, vendor=vendor, opening_status="closed", paused_until=until, pause_reason="Oven repair"
    )
    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.paused_until, vendor.pause_reason) == ("closed", until, "Oven repair")

    services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="open")
    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.paused_until, vendor.pause_reason, vendor.busy_extra_minutes) == (
        "open",
        None,
        "",
        0,
    )


def test_an_admin_status_change_is_logged(vendor, admin_user):
    services.vendor_set_status(
        actor=admin_user, vendor=vendor, opening_status="closed", request_meta={"ip": "192.0.2.9"}
    )

    entry = AdminActivityLog.objects.get()
    assert entry.action == "vendor.status_changed"
    assert entry.details["opening_status"] == "closed"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"opening_status": "sleeping"}, "opening_status"),
        ({"opening_status": "busy", "busy_extra_minutes": 3}, "busy_extra_minutes"),
        ({"opening_status": "busy", "busy_extra_minutes": 121}, "busy_extra_minutes"),
        ({"opening_status": "busy", "busy_extra_minutes": "15"}, "busy_extra_minutes"),
        ({"opening_status": "busy", "busy_extra_minutes": True}, "busy_extra_minutes"),
        ({"opening_status": "open", "busy_extra_minutes": 15}, "busy_extra_minutes"),
        ({"opening_status": "open", "pause_reason": "Lunch"}, "pause_reason"),
        ({"opening_status": "closed", "paused_until": "soon"}, "paused_until"),
        ({"opening_status": "closed", "paused_until": timezone.now() - timedelta(minutes=1)}, "paused_until"),
        ({"opening_status": "closed", "paused_until": timezone.now() + timedelta(days=31)}, "paused_until"),
        ({"opening_status": "closed", "pause_reason": "x" * 201}, "pause_reason"),
    ],
)
def test_status_refusals_name_the_field(vendor, nothing_written, fields, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.vendor_set_status(actor=vendor.owner, vendor=vendor, **fields)
    assert refusal.value.field == field


def test_outsiders_cannot_set_the_status(vendor, customer, nothing_written):
    with nothing_written(), pytest.raises(NotFound):
        services.vendor_set_status(actor=customer, vendor=vendor, opening_status="closed")


# Open now -----------------------------------------------------------------------------------------


def test_a_shop_without_hours_is_open_and_busy_is_open_too(vendor):
    assert selectors.vendor_open_state(vendor=vendor) == selectors.OpenState(True)
    vendor.opening_status, vendor.busy_extra_minutes = Status.BUSY, 30
    assert selectors.vendor_is_open_now(vendor=vendor)


def test_closed_by_the_hours_says_until_when(vendor):
    now = timezone.now()
    opening = hours_around(vendor, now + timedelta(hours=2))

    state = selectors.vendor_open_state(vendor=vendor, at=now)

    opens_at = timezone.localtime(now + timedelta(hours=2)).replace(second=0, microsecond=0)
    assert not state.is_open
    assert state.opens_next == opens_at
    assert state.reason == f"Closed until {describe_moment(opens_at, now=now)}"
    assert opening.opens_at.strftime("%H:%M") in state.reason


def test_a_paused_shop_says_until_when_and_a_due_pause_is_already_over(vendor):
    now = timezone.now()
    vendor.opening_status, vendor.paused_until = Status.CLOSED, now + timedelta(minutes=20)

    state = selectors.vendor_open_state(vendor=vendor, at=now)
    assert (state.is_open, state.opens_next) == (False, vendor.paused_until)
    assert state.reason == f"Paused until {describe_moment(vendor.paused_until, now=now)}"
    assert selectors.vendor_is_open_now(vendor=vendor, at=now + timedelta(minutes=21))

    vendor.paused_until = None
    assert selectors.vendor_open_state(vendor=vendor, at=now) == selectors.OpenState(False, "Paused by the shop")


def test_a_holiday_closes_the_shop_whatever_the_hours(vendor):
    today = timezone.localdate()
    factories.HolidayClosureFactory(vendor=vendor, starts_on=today, ends_on=today)

    state = selectors.vendor_open_state(vendor=vendor)

    assert not state.is_open
    assert state.reason.startswith("Closed for a holiday until ")
    assert timezone.localtime(state.opens_next).time() == time(0)


def test_a_deactivated_shop_is_never_open(vendor):
    vendor.is_active = False
    assert selectors.vendor_open_state(vendor=vendor).reason == "Not trading on Zora at the moment"


# Checkout ------------------------------------------------------------------------------------------


@pytest.fixture
def cart(customer, vendor):
    product = factories.ProductFactory(vendor=vendor, name="Sourdough")
    cart_add_item(user=customer, product=product, quantity=1)
    return product


def test_checkout_refuses_a_shop_outside_its_hours_and_says_until_when(customer, vendor, cart):
    hours_around(vendor, timezone.now() + timedelta(hours=2))

    with pytest.raises(RuleViolation) as refusal:
        order_checkout(customer=customer)

    assert refusal.value.code == "vendor_unavailable"
    assert refusal.value.message.startswith(f"{vendor.name} is not taking orders right now: closed until ")
    assert refusal.value.details["opens_next"] is not None
    assert not Order.objects.exists()


def test_checkout_refuses_a_paused_shop(customer, vendor, cart):
    until = timezone.now() + timedelta(hours=1)
    services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="closed", paused_until=until)

    with pytest.raises(RuleViolation) as refusal:
        order_checkout(customer=customer)

    assert refusal.value.message == (
        f"{vendor.name} is not taking orders right now: paused until {describe_moment(until, now=timezone.now())}."
    )


def test_checkout_takes_orders_inside_the_hours(customer, vendor, cart):
    hours_around(vendor, timezone.now() - timedelta(minutes=30))

    (order,) = order_checkout(customer=customer)

    assert order.vendor == vendor


# The pause ends by itself ------------------------------------------------------------------------


def test_the_sweep_resumes_a_due_pause_once_and_emits_its_event(vendor):
    now = timezone.now()
    services.vendor_set_status(
        actor=vendor.owner, vendor=vendor, opening_status="closed", paused_until=now + timedelta(minutes=15)
    )

    assert timed.resume_paused_shops(now + timedelta(minutes=14)) == 0
    assert timed.resume_paused_shops(now + timedelta(minutes=15)) == 1
    assert timed.resume_paused_shops(now + timedelta(minutes=16)) == 0

    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.paused_until) == ("open", None)
    last = Event.objects.filter(table="vendors").order_by("-id").first()
    assert (last.record["opening_status"], last.record["paused_until"]) == ("open", None)


def test_a_pause_without_an_end_is_not_resumed(vendor):
    services.vendor_set_status(actor=vendor.owner, vendor=vendor, opening_status="closed")

    assert timed.resume_paused_shops(timezone.now() + timedelta(days=60)) == 0
    assert not services.vendor_resume_due(vendor_id=vendor.pk, now=timezone.now() + timedelta(days=60))
