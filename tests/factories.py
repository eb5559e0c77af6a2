"""factory_boy factories shared by every app's tests.

Factories build rows directly for test set-up only; code under test writes
through the services.
"""

import io
from datetime import timedelta
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image

from accounts.models import Notification, Profile, User
from catalog.models import Category, Product
from orders.models import CartItem, Checkout, Order, OrderItem
from support.models import Conversation, EmailThread, Message, MessageAttachment
from vendors.models import HolidayClosure, Vendor, VendorApplication, VendorStaff

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def with_profile(obj, create, extracted, **kwargs):
        obj.save()
        if create:
            Profile.objects.get_or_create(
                user=obj,
                defaults={"default_address": "1 High Street, London", "default_lat": "51.5", "default_lng": "-0.12"},
            )


class AdminFactory(UserFactory):
    is_staff = True
    is_superuser = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    address = "2 Market Street, London"
    lat = Decimal("51.501000")
    lng = Decimal("-0.120000")

    @factory.post_generation
    def with_owner_membership(obj, create, extracted, **kwargs):
        if create:
            VendorStaff.objects.get_or_create(user=obj.owner, defaults={"vendor": obj, "role": "owner"})


class VendorStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorStaff

    vendor = factory.SubFactory(VendorFactory)
    user = factory.SubFactory(UserFactory)
    role = VendorStaff.Role.STAFF


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    vendor = factory.SubFactory(VendorFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("4.50")
    stock = 50
    low_stock_threshold = 5


class CartItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartItem

    user = factory.SubFactory(UserFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1


class OrderFactory(factory.django.DjangoModelFactory):
    """An order with one line; status set directly, for tests that need a given state."""

    class Meta:
        model = Order

    customer = factory.SubFactory(UserFactory)
    vendor = factory.SubFactory(VendorFactory)
    checkout = factory.LazyAttribute(lambda o: Checkout.objects.create(customer=o.customer))
    number = factory.Sequence(lambda n: f"ZR-T{n:06d}")
    subtotal = Decimal("9.00")
    delivery_fee = Decimal("2.99")
    total = Decimal("11.99")
    delivery_address = "1 High Street, London"

    @factory.post_generation
    def with_item(obj, create, extracted, **kwargs):
        if create:
            product = ProductFactory(vendor=obj.vendor)
            OrderItem.objects.create(
                order=obj,
                product=product,
                product_name=product.name,
                unit_price=Decimal("4.50"),
                quantity=2,
                line_total=Decimal("9.00"),
            )


class VendorApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorApplication

    applicant = factory.SubFactory(UserFactory)
    business_name = factory.Sequence(lambda n: f"New Shop {n}")
    business_type = VendorApplication.BusinessType.SOLE_TRADER
    contact_name = factory.Faker("name")
    contact_email = factory.LazyAttribute(lambda o: o.applicant.email)
    address = "3 Station Road, London"


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    type = Notification.Type.SYSTEM
    title = "Hello"


class EmailThreadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailThread

    customer = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"Question {n}")


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    customer = factory.SubFactory(UserFactory)
    vendor = factory.SubFactory(VendorFactory)


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    sender = factory.SelfAttribute("conversation.customer")
    body = "See this"


class MessageAttachmentFactory(factory.django.DjangoModelFactory):
    """A stored photo's row: the file names are placeholders, no bytes are written."""

    class Meta:
        model = MessageAttachment

    message = factory.SubFactory(ChatMessageFactory)
    file = "chat/a.png"
    thumbnail = "chat/thumbnails/a.webp"
    content_type = "image/png"
    size = 9
    width = 4
    height = 3


# Uploaded files, generated in memory ---------------------------------------------------------


def image_bytes(image_format="PNG", *, size=(64, 48), color=(200, 60, 30), exif=None) -> bytes:
    """A real image in `image_format`; `exif` is a PIL.Image.Exif to embed (JPEG, WebP, PNG)."""
    buffer = io.BytesIO()
    options = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, color).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def image_upload(name="photo.png", image_format="PNG", **kwargs):
    """An image as a browser or the mobile app uploads it."""
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}[image_format]
    return SimpleUploadedFile(name, image_bytes(image_format, **kwargs), content_type=content_type)


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name="licence.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


class HolidayClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HolidayClosure

    vendor = factory.SubFactory(VendorFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on)
