"""The profile and the notification inbox."""

from accounts.services import notification_create
from tests import factories
from tests.api.conftest import assert_error


def test_me_shows_and_updates_the_profile(customer_api, customer):
    assert customer_api.get("/api/v1/me").json()["email"] == customer.email
    response = customer_api.patch(
        "/api/v1/me",
        {
            "full_name": "Grace Hopper",
            "phone": "+44 20 7946 0000",
            "default_address": "9 Quay",
            "default_lat": "51.507351",
            "default_lng": "-0.127758",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["full_name"], body["default_address"], body["default_lat"]) == ("Grace Hopper", "9 Quay", "51.507351")
    customer.refresh_from_db()
    assert customer.full_name == "Grace Hopper"


def test_me_update_names_each_bad_field(customer_api):
    response = customer_api.patch(
        "/api/v1/me",
        {"default_lat": 91, "default_lng": "east", "avatar_url": "not a url", "full_name": ""},
        format="json",
    )
    assert_error(response, 400, "invalid", fields=["default_lat", "default_lng", "avatar_url", "full_name"])


def test_me_shows_the_shop_for_vendor_staff(vendor_api, vendor):
    assert vendor_api.get("/api/v1/me").json()["vendor"] == {"id": vendor.pk, "slug": vendor.slug, "role": "owner"}


def test_notifications_list_filter_and_unread_count(customer_api, customer):
    first = notification_create(user=customer, type="order", title="Placed")
    notification_create(user=customer, type="system", title="Welcome")
    read = customer_api.post(f"/api/v1/notifications/{first.pk}/read")
    assert read.status_code == 200 and read.json()["read_at"]

    everything = customer_api.get("/api/v1/notifications").json()
    assert (everything["count"], everything["unread_count"]) == (2, 1)
    unread = customer_api.get("/api/v1/notifications?unread=true").json()
    assert [item["title"] for item in unread["results"]] == ["Welcome"]

    assert customer_api.post("/api/v1/notifications/read-all").json() == {"marked": 1}
    assert customer_api.get("/api/v1/notifications").json()["unread_count"] == 0


def test_someone_elses_notification_is_not_found(customer_api, other_customer):
    theirs = factories.NotificationFactory(user=other_customer)
    assert_error(customer_api.post(f"/api/v1/notifications/{theirs.pk}/read"), 404)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_notification_list_rejects_a_bad_filter(customer_api):
    assert_error(customer_api.get("/api/v1/notifications?unread=perhaps"), 400, fields=["unread"])
