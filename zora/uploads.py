"""The one place uploaded files are checked and stored: product images, shop
logos, application documents and chat attachments.

Files are judged by their bytes, never by their name or the content type the
client claims: an image must open in Pillow as JPEG, PNG, WebP or GIF, verify,
decode within the pixel budget (a small file that declares a huge size is a
decompression bomb and is refused before it is decoded) and stay within the
size limits. Accepted images are re-encoded, which drops EXIF and every other
embedded metadata (a phone photo carries the place it was taken) after the
camera's orientation has been applied to the pixels; animated images keep
their first frame. A PDF is checked by its magic bytes and size only; it is
never shown inline, so it is kept private.

Stored names are random (`<folder>/<32 hex><extension of the detected
format>`): the client's file name never becomes a path.

Two storages:
- public (`STORAGES["default"]`, under MEDIA_ROOT, served at MEDIA_URL):
  product images, thumbnails and shop logos, which anyone may see;
- private (`STORAGES["private"]`, under PRIVATE_MEDIA_ROOT, outside
  MEDIA_ROOT and never mapped to a URL): application documents and chat
  attachments. They are served only by a view that checks who is asking,
  as a download (`FileResponse(..., as_attachment=True)`).
"""

import io
import uuid
import warnings
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, default_storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty
from PIL import Image, ImageOps

from zora.errors import InvalidInput

MEGABYTE = 1024 * 1024
# Pillow's bomb check warns above this many pixels and fails above twice as many; both are refusals here.
# 50 megapixels passes the largest phone cameras' photos (48 MP) and no more.
Image.MAX_IMAGE_PIXELS = 50_000_000
MAX_IMAGE_SIDE = 10_000
# Stored copies are scaled down to this long side: enough for a tablet, a fraction of a camera's bytes.
MAX_STORED_SIDE = 2048
THUMBNAIL_SIDE = 320

IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
IMAGE_FORMATS_IN_WORDS = "a JPEG, PNG, WebP or GIF image"
PDF_MAGIC = b"%PDF-"

# What a refused file looks like, for a message a person can act on (the first bytes decide).
_KNOWN_SIGNATURES = [
    (PDF_MAGIC, "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an icon file"),
]
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script")


def _describe_content(head: bytes) -> str:
    for signature, description in _KNOWN_SIGNATURES:
        if head.startswith(signature):
            return description
    text = head.lstrip().lower()
    if text.startswith(_HTML_STARTS):
        return "text/html"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "an SVG image (not accepted: it can carry scripts)"
    if b"ftypheic" in head[:16] or b"ftypheix" in head[:16] or b"ftypmif1" in head[:16]:
        return "a HEIC image (set the camera to JPEG, or export as JPEG)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a recognised file type"
    return "text/plain"


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".rstrip("0").rstrip(".") + " MB"


def _read_within(upload: File, *, field: str, max_bytes: int) -> bytes:
    """The upload's bytes, refused when empty or over the limit (checked before reading when the size is known)."""
    if upload.size is not None and upload.size > max_bytes:
        raise InvalidInput(
            f"{field} must be at most {_megabytes(max_bytes)}; this file is {_megabytes(upload.size)}.",
            code="file_too_large",
            field=field,
        )
    data = b"".join(upload.chunks())
    if len(data) > max_bytes:
        raise InvalidInput(
            f"{field} must be at most {_megabytes(max_bytes)}; this file is {_megabytes(len(data))}.",
            code="file_too_large",
            field=field,
        )
    if not data:
        raise InvalidInput(f"{field} is an empty file.", code="empty_file", field=field)
    return data


def _not_an_image(field: str, data: bytes) -> InvalidInput:
    return InvalidInput(
        f"{field} must be {IMAGE_FORMATS_IN_WORDS}; this file is {_describe_content(data[:512])}.",
        code="unsupported_file_type",
        field=field,
    )


def _open_image(data: bytes, *, field: str) -> Image.Image:
    """Decoded pixels of an allowed format, or a refusal naming what is wrong."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                image_format, (width, height) = probe.format, probe.size
                if image_format not in IMAGE_FORMATS:
                    raise _not_an_image(field, data)
                probe.verify()
            if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                raise InvalidInput(
                    f"{field} must be at most {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels; "
                    f"this image is {width} × {height}.",
                    code="image_too_large",
                    field=field,
                )
            image = Image.open(io.BytesIO(data))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidInput(
                f"{field} declares more than {Image.MAX_IMAGE_PIXELS:,} pixels; upload a smaller image.",
                code="image_too_large",
                field=field,
            ) from None
        except Image.UnidentifiedImageError:
            raise _not_an_image(field, data) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise InvalidInput(
                f"{field} could not be read as an image; it may be damaged or incomplete.",
                code="unreadable_image",
                field=field,
            ) from None
    return image


def _encode(image: Image.Image, image_format: str) -> ContentFile:
    """Fresh bytes from the pixels alone: no EXIF, XMP or comments survive (the colour profile does)."""
    kept = {key: image.info[key] for key in ("icc_profile", "transparency") if image.info.get(key) is not None}
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
        kept = {}  # the profile described the old colour space; transparency has no place in a JPEG
    elif image_format == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
        kept = {}  # transparency is now the alpha channel
    else:
        image = image.copy()
    # Pillow's writers fall back to `info` for some metadata (a JPEG's comment): leave them nothing.
    image.info = {}
    options = {**kept, "quality": 85} if image_format in ("JPEG", "WEBP") else kept
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return ContentFile(buffer.getvalue(), name="image" + IMAGE_FORMATS[image_format])


def clean_image(upload: File, *, field: str, max_bytes: int | None = None) -> ContentFile:
    """A safe copy of an uploaded image, upright, without metadata, at most MAX_STORED_SIDE on its long side.

    Raises InvalidInput(field=field) for anything that is not an allowed image within the limits.
    """
    data = _read_within(upload, field=field, max_bytes=max_bytes or settings.UPLOAD_MAX_IMAGE_BYTES)
    with _open_image(data, field=field) as image:
        image_format = image.format
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE))
        return _encode(upright, image_format)


def make_thumbnail(image_file: File, *, side: int = THUMBNAIL_SIDE) -> ContentFile:
    """A WebP at most `side` pixels on its long side, from an image clean_image already accepted."""
    image_file.seek(0)
    with Image.open(image_file) as image:
        # Resampled in full colour: a palette image would be shrunk by dropping pixels.
        pixels = image.convert("RGBA" if image.has_transparency_data else "RGB")
        pixels.thumbnail((side, side))
        return _encode(pixels, "WEBP")


def clean_document(upload: File, *, field: str) -> ContentFile:
    """A PDF as uploaded, or a photo of a document cleaned like any image (phones photograph paperwork).

    Raises InvalidInput(field=field) for anything else or anything over UPLOAD_MAX_DOCUMENT_BYTES.
    """
    max_bytes = settings.UPLOAD_MAX_DOCUMENT_BYTES
    data = _read_within(upload, field=field, max_bytes=max_bytes)
    if data.startswith(PDF_MAGIC):
        if b"%%EOF" not in data[-1024:]:
            raise InvalidInput(
                f"{field} could not be read as a PDF; it may be damaged or incomplete.",
                code="unreadable_document",
                field=field,
            )
        return ContentFile(data, name="document.pdf")
    try:
        return clean_image(ContentFile(data), field=field, max_bytes=max_bytes)
    except InvalidInput as refusal:
        if refusal.code != "unsupported_file_type":
            raise
        raise InvalidInput(
            f"{field} must be a PDF or {IMAGE_FORMATS_IN_WORDS}; this file is {_describe_content(data[:512])}.",
            code="unsupported_file_type",
            field=field,
        ) from None


def _extension(name: str) -> str:
    """The extension the cleaning functions gave the file (from its detected format), nothing else."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if suffix in {*IMAGE_FORMATS.values(), ".pdf"} else ""


def random_name(folder: str, name: str) -> str:
    return f"{folder}/{uuid.uuid4().hex}{_extension(name)}"


@deconstructible
class RandomName:
    """`upload_to` for file fields: a random name in `folder`, whatever the file was called."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, instance, filename: str) -> str:
        return random_name(self.folder, filename)

    def __eq__(self, other):
        return isinstance(other, RandomName) and other.folder == self.folder


class _PrivateStorage(LazyObject):
    """The configured "private" storage, looked up when first used and again after STORAGES changes
    (as Django's default_storage is), so a file field never keeps a storage built from old settings."""

    def _setup(self):
        self._wrapped = storages["private"]


_private_storage = _PrivateStorage()


@receiver(setting_changed)
def _forget_private_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _private_storage._wrapped = empty


def public_storage() -> Storage:
    """Images anyone may see, served at MEDIA_URL. File fields take the function, so migrations name it
    instead of copying a storage's settings (Django calls it once, when the model class is built)."""
    return default_storage


def private_storage() -> Storage:
    """Files only their parties may see: outside MEDIA_ROOT, served by views that check access."""
    return _private_storage


def store(content: File, *, folder: str, private: bool) -> str:
    """Save a cleaned file under a random name; returns the name to keep (for a file field or a JSON list)."""
    storage = private_storage() if private else public_storage()
    return storage.save(random_name(folder, content.name or ""), content)
