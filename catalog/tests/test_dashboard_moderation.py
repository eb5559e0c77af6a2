"""Product moderation: the service, the dashboard page and what the shop sees."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AdminActivityLog, Notification
from catalog.models import Product
from catalog.services import product_moderate, product_update
from tests import factories
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.versions import version_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
REASON = "Alcohol needs a licence we do not have on file."


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, name="Red wine")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def moderate(client, product, active, htmx=True, **fields):
    data = {"seen_version": version_of(product), "active": "1" if active else "0", "reason": REASON, **fields}
    return client.post(reverse("dashboard:product-moderate", args=[product.pk]), data, **(HTMX if htmx else {}))


# The service ---------------------------------------------------------------------------------


def test_deactivating_stores_the_reason_tells_the_shop_and_logs(admin_user, product, vendor):
    clerk = factories.VendorStaffFactory(vendor=vendor).user
    product_moderate(actor=admin_user, product=product, active=False, reason=REASON)
    product.refresh_from_db()
    assert not product.is_active and product.moderation_reason == REASON
    told = Notification.objects.filter(user__in=[vendor.owner, clerk], body=REASON)
    assert told.count() == 2
    entry = AdminActivityLog.objects.get(entity_id=str(product.pk), action="product.deactivated")
    assert entry.details["reason"] == REASON and entry.category == AdminActivityLog.Category.PRODUCT


def test_the_shop_cannot_undo_moderation_but_an_admin_can(admin_user, product, vendor):
    product_moderate(actor=admin_user, product=product, active=False, reason=REASON)
    with pytest.raises(RuleViolation, match="Contact the team"):
        product_update(actor=vendor.owner, product=product, is_active=True)
    product_moderate(actor=admin_user, product=product, active=True)
    product.refresh_from_db()
    assert product.is_active and product.moderation_reason == ""
    assert AdminActivityLog.objects.filter(entity_id=str(product.pk), action="product.reactivated").exists()


def test_moderation_refusals(admin_user, product, vendor):
    with pytest.raises(InvalidInput):
        product_moderate(actor=admin_user, product=product, active=False, reason="")
    with pytest.raises(NotFound):
        product_moderate(actor=vendor.owner, product=product, active=False, reason=REASON)
    with pytest.raises(Conflict, match="already on sale"):
        product_moderate(actor=admin_user, product=product, active=True)
    with pytest.raises(Conflict):
        product_moderate(
            actor=admin_user, product=product, active=False, reason=REASON, seen_version="2000-01-01T00:00:00+00:00"
        )
    product.refresh_from_db()
    assert product.is_active


# The page ------------------------------------------------------------------------------------


def test_who_gets_in(customer, vendor, product, admin_client):
    urls = [
        reverse("dashboard:products"),
        reverse("dashboard:products-list"),
        reverse("dashboard:product-row", args=[product.pk]),
    ]
    anonymous = Client()
    for url in urls:
        assert anonymous.get(url).url.startswith("/accounts/login/")
    for user in (customer, vendor.owner):
        other = Client()
        other.force_login(user)
        for url in urls:
            assert other.get(url).url.startswith("/accounts/login/")
        assert moderate(other, product, False).status_code == 302
    for url in urls:
        assert admin_client.get(url).status_code == 200
    product.refresh_from_db()
    assert product.is_active


def test_the_list_searches_and_filters(admin_client, product):
    other = factories.ProductFactory(name="Oat milk", is_active=False)
    page = admin_client.get(reverse("dashboard:products")).content.decode()
    assert product.name in page and other.name in page
    listed = admin_client.get(reverse("dashboard:products-list"), {"state": "inactive"}).content.decode()
    assert other.name in listed and product.name not in listed
    listed = admin_client.get(reverse("dashboard:products-list"), {"shop": product.vendor_id}).content.decode()
    assert product.name in listed and other.name not in listed
    listed = admin_client.get(reverse("dashboard:products-list"), {"q": "oat"}).content.decode()
    assert other.name in listed and product.name not in listed


def test_an_admin_deactivates_and_reactivates(admin_client, product):
    response = moderate(admin_client, product, False)
    assert response.status_code == 200 and "Reactivate" in response.content.decode()
    product.refresh_from_db()
    assert not product.is_active and product.moderation_reason == REASON
    response = moderate(admin_client, product, True, reason="", htmx=False)
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.is_active


def test_deactivating_without_a_reason_shows_the_field_error(admin_client, product):
    response = moderate(admin_client, product, False, reason="")
    assert response.status_code == 422 and "reason is required." in response.content.decode()
    response = moderate(admin_client, product, False, reason="", htmx=False)
    assert response.status_code == 200 and "reason is required." in response.content.decode()
    product.refresh_from_db()
    assert product.is_active


def test_a_stale_moderation_is_refused_with_409(admin_client, product, vendor):
    seen = version_of(product)
    product_update(actor=vendor.owner, product=product, price="5.00")
    response = moderate(admin_client, product, False, seen_version=seen)
    assert response.status_code == 409 and "nothing was changed" in response.content.decode()
    assert Product.objects.get(pk=product.pk).is_active


def test_the_shop_sees_the_reason_on_its_product_page(client, admin_user, product, vendor):
    product_moderate(actor=admin_user, product=product, active=False, reason=REASON)
    client.force_login(vendor.owner)
    page = client.get(reverse("vendor:product-edit", args=[product.pk])).content.decode()
    assert REASON in page and "Reactivate</button>" not in page
