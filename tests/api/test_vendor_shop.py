"""The app sees whether a shop takes orders now, why not and until when, and checkout says the same."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.services import cart_add_item
from tests import factories
from tests.api.conftest import assert_error
from vendors import services
from vendors.models import OpeningHours
from vendors.schedule import describe_moment

pytestmark = pytest.mark.django_db


def test_a_shop_without_hours_is_open_now(api, vendor):
    shop = api.get(f"/api/v1/vendors/{vendor.slug}").json()

    assert {name: shop[name] for name in ("is_open_now", "closed_reason", "opens_next", "logo")} == {
        "is_open_now": True,
        "closed_reason": "",
        "opens_next": None,
        "logo": None,
    }
    assert (shop["opening_status"], shop["busy_extra_minutes"], shop["paused_until"]) == ("open", 0, None)


def test_a_paused_shop_says_until_when_and_shows_its_logo_as_an_absolute_url(api, vendor):
    services.vendor_update(actor=vendor.owner, vendor=vendor, logo=factories.image_upload())
    until = timezone.now() + timedelta(minutes=45)
    services.vendor_set_status(
        actor=vendor.owner, vendor=vendor, opening_status="closed", paused_until=until, pause_reason="Staff meeting"
    )

    shop = api.get(f"/api/v1/vendors/{vendor.slug}").json()

    assert shop["is_open_now"] is False
    assert shop["closed_reason"] == f"Paused until {describe_moment(until, now=timezone.now())}"
    assert shop["opens_next"] == shop["paused_until"]
    assert "pause_reason" not in shop, "the team's own reason stays with the team"
    assert shop["logo"].startswith("http://testserver/media/vendors/logos/")


def test_the_list_works_out_every_shop_in_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    for _ in range(5):
        shop = factories.VendorFactory()
        OpeningHours.objects.create(vendor=shop, weekday=0, opens_at="09:00", closes_at="17:00")
        factories.HolidayClosureFactory(vendor=shop)

    with django_assert_max_num_queries(6):
        shops = api.get("/api/v1/vendors").json()["results"]
    assert len(shops) == 5


def test_checkout_over_the_api_names_the_closed_shop_and_when_it_opens(customer_api, customer, vendor):
    cart_add_item(user=customer, product=factories.ProductFactory(vendor=vendor), quantity=1)
    opens = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    OpeningHours.objects.create(
        vendor=vendor, weekday=opens.weekday(), opens_at=opens.time(), closes_at=(opens + timedelta(hours=1)).time()
    )

    error = assert_error(customer_api.post("/api/v1/orders/checkout", {}, format="json"), 422, "vendor_unavailable")

    assert error["message"] == (
        f"{vendor.name} is not taking orders right now: closed until {describe_moment(opens, now=timezone.now())}."
    )
