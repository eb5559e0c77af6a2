"""No upload door lets a file serve HTML or script from our origin: an HTML page named .png and an
SVG with a script are refused by the API and the portal forms alike, whatever name and content
type the client gives; an image that carries a page after its pixels is stored without it.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import ProductImage
from support import services as support
from support.models import MessageAttachment
from tests import factories
from tests.api.conftest import assert_error
from vendors import services as vendors
from vendors.models import ApplicationDocument, VendorApplication
from zora.uploads import public_storage

pytestmark = pytest.mark.django_db

PAGE = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me').then(r => r.text()).then(steal)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>steal(document.cookie)</script></svg>'


def page_named_png():
    return SimpleUploadedFile("photo.png", PAGE, content_type="image/png")


def svg(name="drawing.svg"):
    return SimpleUploadedFile(name, SVG, content_type="image/svg+xml")


def stored_files(root) -> list[Path]:
    return [path for path in Path(root).rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    "upload, described",
    [(page_named_png, "this file is text/html"), (svg, "this file is an SVG image (not accepted")],
    ids=["an HTML page named .png", "an SVG with a script"],
)
def test_the_product_image_api_refuses_pages_and_svg(vendor_api, vendor, upload, described, uploads_in_tmp):
    product = factories.ProductFactory(vendor=vendor)

    response = vendor_api.post(f"/api/v1/vendor/products/{product.pk}/images", {"image": upload()}, format="multipart")

    error = assert_error(response, 400, "unsupported_file_type")
    assert error["field"] == "image" and described in error["message"]
    assert not ProductImage.objects.exists()
    assert stored_files(uploads_in_tmp) == []


def test_a_chat_photo_that_is_an_svg_is_refused(customer_api, customer, vendor, uploads_in_tmp):
    conversation = support.conversation_start(customer=customer, vendor=vendor, subject="Eggs", body="Hello")

    response = customer_api.post(
        f"/api/v1/conversations/{conversation.pk}/messages", {"attachments": [svg("eggs.jpg")]}, format="multipart"
    )

    error = assert_error(response, 400, "unsupported_file_type")
    assert error["field"] == "attachments" and "SVG" in error["message"]
    assert not MessageAttachment.objects.exists()
    assert stored_files(uploads_in_tmp) == []


def test_a_shop_logo_that_is_an_html_page_is_refused_on_the_portal(client, vendor):
    client.force_login(vendor.owner)
    form = {"name": vendor.name, "description": "", "address": "", "delivery_radius_km": "4.5"}

    response = client.post(reverse("vendor:shop-profile"), {**form, "logo": page_named_png()})

    assert response.status_code == 200
    assert "logo must be a JPEG, PNG, WebP or GIF image; this file is text/html." in response.content.decode()
    vendor.refresh_from_db()
    assert not vendor.logo


def test_an_application_document_that_is_an_svg_is_refused_on_the_portal(client, admin_user):
    application = factories.VendorApplicationFactory(status=VendorApplication.Status.UNDER_REVIEW)
    vendors.application_request_documents(actor=admin_user, application=application, reason="Proof of address")
    client.force_login(application.applicant)

    response = client.post(reverse("vendor:application-document-upload"), {"file": svg("lease.pdf")})

    assert "this file is an SVG image (not accepted: it can carry scripts)" in response.content.decode()
    assert not ApplicationDocument.objects.exists()


def test_a_page_hidden_after_an_images_pixels_is_not_stored(vendor_api, vendor):
    product = factories.ProductFactory(vendor=vendor)
    polyglot = SimpleUploadedFile("photo.png", factories.image_bytes("PNG") + PAGE, content_type="text/html")

    response = vendor_api.post(f"/api/v1/vendor/products/{product.pk}/images", {"image": polyglot}, format="multipart")

    assert response.status_code == 201, response.content
    image = ProductImage.objects.get()
    assert image.image.name.endswith(".png")
    with public_storage().open(image.image.name) as stored:
        assert b"<script" not in stored.read()
