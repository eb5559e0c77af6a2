"""The shop's catalogue tools in the mobile API: images, stock history, out of stock, review replies."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.services import review_create
from orders.models import Order
from tests import factories
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def upload_image(client, product, upload):
    return client.post(f"/api/v1/vendor/products/{product.pk}/images", {"image": upload}, format="multipart")


def test_vendor_uploads_images_and_the_product_lists_them_as_absolute_urls(vendor_api, api, product):
    first = upload_image(vendor_api, product, factories.image_upload("front.jpg", "JPEG"))
    second = upload_image(vendor_api, product, factories.image_upload("back.png"))

    assert first.status_code == 201, first.content
    body = first.json()
    assert body["url"].startswith("http://testserver/media/products/") and body["url"].endswith(".jpg")
    assert body["thumbnail_url"].endswith(".webp")
    assert api.get(f"/api/v1/products/{product.pk}").json()["images"] == [body["url"], second.json()["url"]]

    reordered = vendor_api.put(
        f"/api/v1/vendor/products/{product.pk}/images/order",
        {"images": [second.json()["id"], body["id"]]},
        format="json",
    )
    assert [image["id"] for image in reordered.json()["uploaded_images"]] == [second.json()["id"], body["id"]]

    removed = vendor_api.delete(f"/api/v1/vendor/products/{product.pk}/images/{body['id']}")
    assert removed.status_code == 204
    assert api.get(f"/api/v1/products/{product.pk}").json()["images"] == [second.json()["url"]]


def test_an_upload_that_is_not_an_image_names_the_field_and_the_rule(vendor_api, product):
    fake = SimpleUploadedFile("cake.png", b"plain words", content_type="image/png")

    error = assert_error(upload_image(vendor_api, product, fake), 400, "unsupported_file_type")

    assert error["field"] == "image"
    assert error["message"] == "image must be a JPEG, PNG, WebP or GIF image; this file is text/plain."
    assert_error(vendor_api.post(f"/api/v1/vendor/products/{product.pk}/images", {}, format="multipart"), 400)


def test_other_shops_and_customers_cannot_touch_a_products_images(customer_api, other_vendor_api, vendor_api, product):
    image_id = upload_image(vendor_api, product, factories.image_upload()).json()["id"]
    for client in (customer_api, other_vendor_api):
        assert_error(upload_image(client, product, factories.image_upload()), 404)
        assert_error(client.delete(f"/api/v1/vendor/products/{product.pk}/images/{image_id}"), 404)
        assert_error(client.get(f"/api/v1/vendor/products/{product.pk}/stock-movements"), 404)
        assert_error(
            client.post(f"/api/v1/vendor/products/{product.pk}/out-of-stock", {"until": "four_hours"}, format="json"),
            404,
        )
    product.refresh_from_db()
    assert len(product.images) == 1 and product.stock == 20


def test_stock_changes_with_a_reason_show_in_the_history(vendor_api, vendor_owner, product):
    adjusted = vendor_api.post(
        f"/api/v1/vendor/products/{product.pk}/stock",
        {"delta": 6, "reason": "restock", "note": "Morning delivery"},
        format="json",
    )
    assert adjusted.json()["stock"] == 26
    bad_reason = vendor_api.post(
        f"/api/v1/vendor/products/{product.pk}/stock", {"delta": 1, "reason": "sale"}, format="json"
    )
    assert_error(bad_reason, 400, fields=["reason"])

    history = vendor_api.get(f"/api/v1/vendor/products/{product.pk}/stock-movements").json()["results"]

    assert [(row["reason"], row["stock_before"], row["stock_after"], row["note"]) for row in history] == [
        ("restock", 20, 26, "Morning delivery")
    ]
    assert history[0]["actor"] == vendor_owner.full_name


def test_out_of_stock_until_and_back_again(vendor_api, api, product):
    marked = vendor_api.post(
        f"/api/v1/vendor/products/{product.pk}/out-of-stock", {"until": "four_hours"}, format="json"
    )
    assert marked.status_code == 200, marked.content
    assert (marked.json()["stock"], marked.json()["stock_to_restore"]) == (0, 20)
    assert api.get(f"/api/v1/products/{product.pk}").json()["out_of_stock_until"] == marked.json()["out_of_stock_until"]
    assert_error(
        vendor_api.post(f"/api/v1/vendor/products/{product.pk}/out-of-stock", {"until": "forever"}, format="json"),
        400,
        fields=["until"],
    )

    back = vendor_api.post(f"/api/v1/vendor/products/{product.pk}/back-in-stock")

    assert (back.json()["stock"], back.json()["out_of_stock_until"]) == (20, None)
    assert_error(vendor_api.post(f"/api/v1/vendor/products/{product.pk}/back-in-stock"), 409, "not_out_of_stock")


def test_alerts_show_the_sales_pace(vendor_api, vendor, product):
    vendor_api.post(f"/api/v1/vendor/products/{product.pk}/stock", {"stock": 2}, format="json")

    (alert,) = vendor_api.get("/api/v1/vendor/inventory-alerts").json()["results"]

    assert alert["sales_velocity_per_day"] == "0.00"
    assert alert["estimated_stockout_at"] is None


def test_the_shop_replies_to_a_review_and_everyone_sees_it(vendor_api, other_vendor_api, api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor, status=Order.Status.DELIVERED)
    product = order.items.get().product
    review = review_create(customer=customer, order=order, rating=4, comment="Good", product=product)

    listed = vendor_api.get("/api/v1/vendor/reviews").json()["results"]
    assert [(item["id"], item["reply"]) for item in listed] == [(review.pk, None)]
    assert_error(other_vendor_api.put(f"/api/v1/vendor/reviews/{review.pk}/reply", {"body": "Hi"}, format="json"), 404)
    assert_error(vendor_api.put(f"/api/v1/vendor/reviews/{review.pk}/reply", {"body": ""}, format="json"), 400)

    replied = vendor_api.put(f"/api/v1/vendor/reviews/{review.pk}/reply", {"body": "Thank you!"}, format="json")

    assert replied.status_code == 200, replied.content
    public = api.get(f"/api/v1/products/{product.pk}/reviews").json()["results"]
    assert public[0]["reply"]["body"] == "Thank you!"
    assert public[0]["reply"]["replied_at"]
