"""The admin dashboard's guard and overview."""

import re

import pytest
from django.utils import timezone

from orders.models import Order
from tests import factories

pytestmark = pytest.mark.django_db


def test_only_platform_admins_get_the_dashboard(client, vendor, customer, admin_user):
    assert client.get("/dashboard/")["Location"] == "/accounts/login/?next=/dashboard/"
    for someone in (customer, vendor.owner):
        client.force_login(someone)
        response = client.get("/dashboard/", follow=True)
        assert response.redirect_chain[-1][0].startswith("/accounts/login/")
        assert b"The dashboard is for the Zora platform team" in response.content
        assert client.get("/dashboard/overview/figures/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/dashboard/").status_code == 200


def test_admins_sign_in_to_the_dashboard(client, admin_user):
    from tests.factories import PASSWORD

    response = client.post("/accounts/login/", {"email": admin_user.email, "password": PASSWORD})
    assert response["Location"] == "/dashboard/"


def test_the_overview_counts_across_shops(client, admin_user):
    factories.OrderFactory()
    factories.OrderFactory(status=Order.Status.CONFIRMED)
    late = factories.OrderFactory()
    Order.objects.filter(pk=late.pk).update(accept_by=timezone.now() - timezone.timedelta(minutes=1))
    factories.VendorApplicationFactory()
    client.force_login(admin_user)
    figures = client.get("/dashboard/overview/figures/").content.decode()
    values = re.findall(r'class="stat-value"[^>]*>([^<]+)<', figures)
    assert values[0] == "3"  # orders today
    assert values[1] == "2"  # waiting
    assert "1 past deadline" in figures
    assert values[4] == "1"  # pending applications
    feed = client.get("/dashboard/overview/feed/").content.decode()
    assert late.number in feed
