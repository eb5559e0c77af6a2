"""Uploaded files are judged by their bytes, cleaned of metadata and stored under random names."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests import factories
from zora import uploads
from zora.errors import InvalidInput

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F
ROTATE_90_CLOCKWISE = 6


def opened(content: ContentFile) -> Image.Image:
    content.seek(0)
    image = Image.open(io.BytesIO(content.read()))
    image.load()
    return image


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height` pixels (with a correct checksum) and holds almost nothing."""
    data = factories.image_bytes("PNG", size=(1, 1))
    header_start = 8 + 8  # signature, then the IHDR chunk's length and type
    fields = struct.pack(">II", width, height) + data[header_start + 8 : header_start + 13]
    checksum = struct.pack(">I", zlib.crc32(b"IHDR" + fields))
    return data[:header_start] + fields + checksum + data[header_start + 17 :]


def refusal(upload, *, field="image", clean=uploads.clean_image) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        clean(upload, field=field)
    assert raised.value.field == field
    return raised.value


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_allowed_format_comes_back_in_the_same_format_and_size(image_format):
    cleaned = uploads.clean_image(factories.image_upload("x.bin", image_format, size=(80, 60)), field="image")

    image = opened(cleaned)
    assert (image.format, image.size) == (image_format, (80, 60))
    assert cleaned.name == "image" + uploads.IMAGE_FORMATS[image_format]


def test_a_text_file_named_png_is_refused_whatever_the_client_says():
    upload = SimpleUploadedFile("logo.png", b"just some words\n", content_type="image/png")

    error = refusal(upload, field="logo")

    assert error.code == "unsupported_file_type"
    assert error.message == "logo must be a JPEG, PNG, WebP or GIF image; this file is text/plain."


def test_html_pretending_to_be_an_image_is_named_as_html():
    upload = SimpleUploadedFile("cat.jpg", b"<!DOCTYPE html><script>alert(1)</script>", content_type="image/jpeg")

    assert refusal(upload, field="logo").message.endswith("this file is text/html.")


def test_an_image_format_outside_the_list_is_refused_by_name():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="BMP")
    upload = SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")

    assert refusal(upload).message.endswith("this file is a BMP image.")


def test_a_file_over_the_size_limit_is_refused_with_both_sizes(settings):
    settings.UPLOAD_MAX_IMAGE_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("big.png", b"\0" * (1024 * 1024 + 300_000), content_type="image/png")

    error = refusal(upload)

    assert error.code == "file_too_large"
    assert error.message == "image must be at most 1 MB; this file is 1.3 MB."


def test_an_empty_file_is_refused():
    assert refusal(SimpleUploadedFile("empty.png", b"")).code == "empty_file"


@pytest.mark.parametrize(
    "declared",
    [(60_000, 60_000), (8_000, 8_000)],
    ids=["beyond Pillow's hard limit", "between the warning and the hard limit"],
)
def test_a_decompression_bomb_is_refused_before_it_is_decoded(declared):
    upload = SimpleUploadedFile("bomb.png", png_declaring(*declared), content_type="image/png")

    error = refusal(upload)

    assert error.code == "image_too_large"
    assert "pixels" in error.message


def test_an_image_wider_than_the_limit_is_refused():
    upload = factories.image_upload(size=(uploads.MAX_IMAGE_SIDE + 1, 1))

    error = refusal(upload)

    assert error.code == "image_too_large"
    assert error.message.endswith(f"this image is {uploads.MAX_IMAGE_SIDE + 1} × 1.")


def test_a_truncated_image_is_refused_as_damaged():
    data = factories.image_bytes("PNG", size=(200, 200))
    upload = SimpleUploadedFile("cut.png", data[: len(data) // 2], content_type="image/png")

    assert refusal(upload).code == "unreadable_image"


def test_exif_is_stripped_after_the_orientation_is_applied():
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATE_90_CLOCKWISE
    exif[MAKE] = "PhoneCo"
    exif.get_ifd(GPS_IFD)[2] = (51.0, 30.0, 0.0)  # latitude: where the photo was taken
    upload = factories.image_upload("holiday.jpg", "JPEG", size=(60, 40), exif=exif)
    assert Image.open(upload).getexif()[MAKE] == "PhoneCo"
    upload.seek(0)

    image = opened(uploads.clean_image(upload, field="image"))

    assert image.size == (40, 60)  # turned upright
    assert not image.getexif()
    assert "exif" not in image.info


def test_a_jpeg_comment_does_not_survive():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="JPEG", comment=b"taken at 1 Secret Lane")
    upload = SimpleUploadedFile("a.jpg", buffer.getvalue())

    cleaned = uploads.clean_image(upload, field="image")

    assert b"Secret Lane" not in cleaned.read()


def test_a_large_photo_is_stored_scaled_down():
    upload = factories.image_upload("wide.jpg", "JPEG", size=(4000, 1000))

    image = opened(uploads.clean_image(upload, field="image"))

    assert image.size == (uploads.MAX_STORED_SIDE, uploads.MAX_STORED_SIDE // 4)


def test_a_thumbnail_is_a_small_webp_keeping_the_proportions():
    cleaned = uploads.clean_image(factories.image_upload(size=(800, 400)), field="image")

    thumbnail = opened(uploads.make_thumbnail(cleaned))

    assert (thumbnail.format, thumbnail.size) == ("WEBP", (uploads.THUMBNAIL_SIDE, uploads.THUMBNAIL_SIDE // 2))


def test_a_pdf_document_is_accepted_as_uploaded():
    cleaned = uploads.clean_document(factories.pdf_upload(), field="documents")

    assert cleaned.name == "document.pdf"
    assert cleaned.read() == factories.PDF_BYTES


def test_a_photographed_document_is_cleaned_like_an_image():
    cleaned = uploads.clean_document(factories.image_upload("bill.jpg", "JPEG"), field="documents")

    assert opened(cleaned).format == "JPEG"


def test_a_document_that_is_neither_pdf_nor_image_is_refused():
    upload = SimpleUploadedFile("licence.pdf", b"PK\x03\x04 not really a pdf", content_type="application/pdf")

    error = refusal(upload, field="documents", clean=uploads.clean_document)

    assert error.message == (
        "documents must be a PDF or a JPEG, PNG, WebP or GIF image; this file is a ZIP archive (or an Office document)."
    )


def test_a_truncated_pdf_is_refused():
    upload = SimpleUploadedFile("licence.pdf", factories.PDF_BYTES[:30])

    assert refusal(upload, field="documents", clean=uploads.clean_document).code == "unreadable_document"


def test_documents_have_their_own_size_limit(settings):
    settings.UPLOAD_MAX_DOCUMENT_BYTES = 40
    error = refusal(factories.pdf_upload(), field="documents", clean=uploads.clean_document)

    assert error.code == "file_too_large"


def test_files_are_stored_under_random_names_never_the_clients(settings):
    cleaned = uploads.clean_image(factories.image_upload("../../etc/passwd.png"), field="image")

    first = uploads.store(cleaned, folder="products", private=False)
    second = uploads.store(cleaned, folder="products", private=False)

    assert first != second
    assert first.startswith("products/") and first.endswith(".png")
    assert "passwd" not in first
    assert (Path(settings.MEDIA_ROOT) / first).is_file()
    assert uploads.public_storage().url(first) == f"{settings.MEDIA_URL}{first}"


def test_private_files_are_kept_outside_the_public_media_folder(settings):
    name = uploads.store(uploads.clean_document(factories.pdf_upload(), field="documents"), folder="docs", private=True)

    stored = Path(uploads.private_storage().path(name))
    assert stored.is_file()
    assert Path(settings.MEDIA_ROOT) not in stored.parents
    assert not (Path(settings.MEDIA_ROOT) / name).exists()


def test_random_name_keeps_only_an_extension_of_an_accepted_format():
    assert uploads.RandomName("logos")(None, "shell.php").startswith("logos/")
    assert not uploads.RandomName("logos")(None, "shell.php").endswith(".php")
    assert uploads.RandomName("logos")(None, "image.webp").endswith(".webp")
    assert uploads.RandomName("logos").deconstruct() == ("zora.uploads.RandomName", ("logos",), {})
