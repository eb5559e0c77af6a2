"""Uploaded product images: checked, stored with a thumbnail, and `Product.images` kept in step."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AdminActivityLog
from catalog.models import ProductImage
from catalog.services import (
    MAX_PRODUCT_IMAGES,
    product_image_add,
    product_image_remove,
    product_images_reorder,
    product_update,
)
from realtime.tests.test_capture_services import reaches_the_stream
from tests import factories
from zora.errors import InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(vendor):
    return factories.ProductFactory(vendor=vendor, images=[])


def media_file(settings, name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def test_an_uploaded_image_is_stored_with_a_thumbnail_and_listed(vendor, product, settings):
    with reaches_the_stream("product_image_add"):
        image = product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload("Front.PNG"))

    assert media_file(settings, image.image.name).is_file()
    assert media_file(settings, image.thumbnail.name).is_file()
    assert image.image.name.startswith("products/") and "Front" not in image.image.name
    assert image.thumbnail.name.startswith("products/thumbnails/") and image.thumbnail.name.endswith(".webp")
    product.refresh_from_db()
    assert product.images == [image.image.url]


def test_images_are_listed_in_upload_order_then_reordered(vendor, product):
    first, second, third = (
        product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload()) for _ in range(3)
    )
    assert [first.position, second.position, third.position] == [0, 1, 2]

    with reaches_the_stream("product_images_reorder"):
        product_images_reorder(actor=vendor.owner, product=product, image_ids=[third.pk, first.pk, second.pk])

    product.refresh_from_db()
    assert product.images == [third.image.url, first.image.url, second.image.url]


def test_reorder_needs_every_image_exactly_once(vendor, product):
    first, second = (
        product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload()) for _ in range(2)
    )
    for image_ids in ([first.pk], [first.pk, first.pk], [first.pk, second.pk, 999]):
        with pytest.raises(InvalidInput) as refusal:
            product_images_reorder(actor=vendor.owner, product=product, image_ids=image_ids)
        assert refusal.value.field == "images"


def test_removing_an_image_unlists_it_and_deletes_its_files_once_committed(
    vendor, product, settings, django_capture_on_commit_callbacks
):
    kept = product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())
    gone = product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())
    files = [media_file(settings, gone.image.name), media_file(settings, gone.thumbnail.name)]

    with reaches_the_stream("product_image_remove"), django_capture_on_commit_callbacks(execute=False) as callbacks:
        product_image_remove(actor=vendor.owner, image=gone)
    assert all(path.is_file() for path in files)
    for callback in callbacks:
        callback()

    assert not any(path.exists() for path in files)
    product.refresh_from_db()
    assert product.images == [kept.image.url]
    assert list(ProductImage.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_kept(vendor, product, nothing_written, settings):
    fake = SimpleUploadedFile("cake.png", b"<html>not a cake</html>", content_type="image/png")
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        product_image_add(actor=vendor.owner, product=product, upload=fake)

    assert refusal.value.field == "image"
    assert "this file is text/html" in refusal.value.message
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_a_product_has_a_limited_number_of_images(vendor, product):
    for _ in range(MAX_PRODUCT_IMAGES):
        product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())

    with pytest.raises(RuleViolation) as refusal:
        product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())
    assert (refusal.value.code, refusal.value.field) == ("too_many_images", "image")


def test_another_shop_cannot_touch_the_images(vendor, product):
    outsider = factories.VendorFactory().owner
    image = product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())

    with pytest.raises(NotFound):
        product_image_add(actor=outsider, product=product, upload=factories.image_upload())
    with pytest.raises(NotFound):
        product_image_remove(actor=outsider, image=image)
    with pytest.raises(NotFound):
        product_images_reorder(actor=outsider, product=product, image_ids=[image.pk])
    assert ProductImage.objects.count() == 1


def test_image_urls_set_from_elsewhere_follow_the_uploaded_ones(vendor, product):
    image = product_image_add(actor=vendor.owner, product=product, upload=factories.image_upload())

    product_update(actor=vendor.owner, product=product, images=["https://cdn.example.test/a.jpg"])

    product.refresh_from_db()
    assert product.images == [image.image.url, "https://cdn.example.test/a.jpg"]


def test_an_admin_adding_an_image_is_logged(vendor, product, admin_user):
    product_image_add(actor=admin_user, product=product, upload=factories.image_upload())

    assert AdminActivityLog.objects.filter(action="product_image_added", entity_id=str(product.pk)).exists()
