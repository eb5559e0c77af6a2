"""The dashboard's users pages: who gets in, the search, a user's page, and its two actions."""

import pytest

from accounts.models import AdminActivityLog
from accounts.selectors import user_version
from accounts.services import api_token_create, user_set_suspended
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def signed_in_admin(client, admin_user):
    client.force_login(admin_user)
    return admin_user


def _pages(person):
    return [
        ("get", "/dashboard/users/"),
        ("get", "/dashboard/users/list/"),
        ("get", f"/dashboard/users/{person.pk}/"),
        ("get", f"/dashboard/users/{person.pk}/account/"),
        ("post", f"/dashboard/users/{person.pk}/suspension/"),
        ("post", f"/dashboard/users/{person.pk}/admin-rights/"),
    ]


def test_only_platform_admins_get_the_users_pages(client, customer, vendor, admin_user):
    for method, url in _pages(customer):
        assert getattr(client, method)(url)["Location"].startswith("/accounts/login/?next=")
    for someone in (customer, vendor.owner):
        client.force_login(someone)
        for method, url in _pages(customer):
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(admin_user)
    for url in ("/dashboard/users/", f"/dashboard/users/{customer.pk}/", f"/dashboard/users/{customer.pk}/account/"):
        assert client.get(url).status_code == 200
    assert client.get("/dashboard/users/999999/").status_code == 404
    assert client.get(f"/dashboard/users/{customer.pk}/suspension/").status_code == 405


def test_the_list_searches_by_name_or_email_and_filters_by_kind(client, signed_in_admin, vendor):
    ada = factories.UserFactory(full_name="Ada Lovelace", email="ada@example.test")
    grace = factories.UserFactory(full_name="Grace Hopper", email="countess@example.test", is_suspended=True)
    shop_owner = vendor.owner

    def names(query):
        return client.get(f"/dashboard/users/list/?{query}").content.decode()

    assert "Ada Lovelace" in names("q=lovel") and "Grace Hopper" not in names("q=lovel")
    assert "Grace Hopper" in names("q=COUNTESS")
    suspended = names("kind=suspended")
    assert "Grace Hopper" in suspended and "Ada Lovelace" not in suspended
    staff = names("kind=shop_staff")
    assert shop_owner.get_full_name() in staff and "Ada Lovelace" not in staff
    customers = names("kind=customers")
    assert "Ada Lovelace" in customers and shop_owner.get_full_name() not in customers
    assert signed_in_admin.get_full_name() not in customers
    assert signed_in_admin.get_full_name() in names("kind=admins")
    assert "No user matches" in names("q=nobody-at-all")
    assert grace.pk and ada.pk
    # An unknown kind is ignored rather than failing the page.
    assert client.get("/dashboard/users/?kind=wizards").status_code == 200


def test_a_users_page_shows_profile_shop_orders_devices_and_presence(client, signed_in_admin, vendor):
    member = factories.VendorStaffFactory(vendor=vendor).user
    order = factories.OrderFactory(customer=member)
    api_token_create(user=member, name="Pixel 8")
    page = client.get(f"/dashboard/users/{member.pk}/").content.decode()
    assert member.email in page and vendor.name in page
    assert order.number in page
    assert "Pixel 8" in page
    assert f'data-presence-topic="realtime:dashboard:accounts.user:{member.pk}"' in page
    assert f"/dashboard/activity/?entity_type=accounts.user&amp;entity_id={member.pk}" in page
    assert f'name="seen_version" value="{user_version(member)}"' in page


def test_your_own_page_offers_no_actions(client, signed_in_admin):
    page = client.get(f"/dashboard/users/{signed_in_admin.pk}/").content.decode()
    assert "This is your own account" in page and "Suspend</button>" not in page


def _suspend(client, person, *, reason="Chargeback fraud", suspended="1", version=None, **extra):
    data = {"suspended": suspended, "reason": reason, "seen_version": version or user_version(person)}
    return client.post(f"/dashboard/users/{person.pk}/suspension/", data, **extra)


def test_suspending_and_reactivating_with_a_reason(client, signed_in_admin, customer):
    response = _suspend(client, customer)
    assert response.status_code == 302 and response["Location"] == f"/dashboard/users/{customer.pk}/"
    customer.refresh_from_db()
    assert customer.is_suspended
    entry = AdminActivityLog.objects.get(action="user.suspended")
    assert entry.details == {"reason": "Chargeback fraud"} and entry.entity_id == str(customer.pk)

    response = _suspend(client, customer, suspended="0", reason="Bank cleared it", **HTMX)
    assert response.status_code == 200
    customer.refresh_from_db()
    assert not customer.is_suspended
    assert "Suspend</button>" in response.content.decode()


def test_a_suspension_without_a_reason_shows_the_fields_error(client, signed_in_admin, customer):
    response = _suspend(client, customer, reason="  ", **HTMX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    customer.refresh_from_db()
    assert not customer.is_suspended
    assert _suspend(client, customer, reason="").status_code == 200  # without htmx: the page again


def test_a_stale_suspension_is_refused_with_who_acted(client, signed_in_admin, customer):
    seen = user_version(customer)
    other_admin = factories.AdminFactory(full_name="Ada Lovell")
    user_set_suspended(actor=other_admin, user=customer, suspended=True, reason="first")
    response = _suspend(client, customer, suspended="0", version=seen, **HTMX)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Ada Lovell suspended this" in page and "nothing was changed" in page
    assert "Reactivate</button>" in page  # the card at the current state
    customer.refresh_from_db()
    assert customer.is_suspended
    assert _suspend(client, customer, suspended="0", version=seen).status_code == 409


def test_the_services_refusal_is_shown(client, signed_in_admin):
    response = _suspend(client, signed_in_admin, **HTMX)
    assert response.status_code == 422
    assert "Admins cannot suspend themselves." in response.content.decode()


def test_granting_and_revoking_platform_admin(client, signed_in_admin, customer):
    url = f"/dashboard/users/{customer.pk}/admin-rights/"
    response = client.post(url, {"is_admin": "1", "seen_version": user_version(customer)})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_staff
    response = client.post(url, {"is_admin": "0", "seen_version": user_version(customer)}, **HTMX)
    assert response.status_code == 200 and "Make platform admin" in response.content.decode()
    customer.refresh_from_db()
    assert not customer.is_staff
    assert list(AdminActivityLog.objects.filter(entity_id=str(customer.pk)).values_list("action", flat=True)) == [
        "user.admin_revoked",
        "user.admin_granted",
    ]


def test_admin_rights_refusals_invalid_stale_and_your_own(client, signed_in_admin, customer):
    url = f"/dashboard/users/{customer.pk}/admin-rights/"
    response = client.post(url, {"is_admin": "1"}, **HTMX)
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    stale = user_version(customer)
    user_set_suspended(actor=factories.AdminFactory(), user=customer, suspended=True, reason="x")
    assert client.post(url, {"is_admin": "1", "seen_version": stale}, **HTMX).status_code == 409
    customer.refresh_from_db()
    assert not customer.is_staff
    own = f"/dashboard/users/{signed_in_admin.pk}/admin-rights/"
    response = client.post(own, {"is_admin": "0", "seen_version": user_version(signed_in_admin)}, **HTMX)
    assert response.status_code == 422
    assert "Admins cannot change their own admin rights." in response.content.decode()
