import pytest

from accounts.models import Notification
from realtime.models import Event
from support import services
from support.models import Message, MessageAttachment
from tests import factories
from zora.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(customer, vendor):
    return services.conversation_start(customer=customer, vendor=vendor, subject="Damaged box")


def test_a_photo_alone_is_a_message(conversation, customer, vendor):
    message = services.conversation_send_message(
        conversation=conversation, sender=customer, attachments=[factories.image_upload("box.jpg", "JPEG")]
    )

    attachment = message.attachments.get()
    assert message.body == ""
    assert (attachment.content_type, attachment.width, attachment.height) == ("image/jpeg", 64, 48)
    assert attachment.size == attachment.file.size > 0
    assert attachment.file.name.startswith("chat/") and attachment.file.name.endswith(".jpg")
    assert attachment.thumbnail.name.endswith(".webp")
    assert "box" not in attachment.file.name
    notification = Notification.objects.get(user=vendor.owner)
    assert notification.body == "Sent a photo."
    assert notification.action_url == f"/vendor/messages/{conversation.pk}/"


def test_text_and_several_photos_in_one_message(conversation, customer):
    photos = [factories.image_upload("a.png"), factories.image_upload("b.webp", "WEBP", size=(300, 600))]

    message = services.conversation_send_message(
        conversation=conversation, sender=customer, body="Both sides", attachments=photos
    )

    assert [(a.content_type, a.width, a.height) for a in message.attachments.all()] == [
        ("image/png", 64, 48),
        ("image/webp", 300, 600),
    ]


def test_the_shop_can_send_a_photo(conversation, vendor):
    message = services.conversation_send_message(
        conversation=conversation, sender=vendor.owner, attachments=[factories.image_upload()]
    )

    assert message.attachments.count() == 1


def test_photos_are_private_files(conversation, customer, settings, tmp_path):
    message = services.conversation_send_message(
        conversation=conversation, sender=customer, attachments=[factories.image_upload()]
    )

    path = message.attachments.get().file.path
    assert path.startswith(str(tmp_path / "private_media"))
    assert not path.startswith(settings.MEDIA_ROOT)


def test_a_message_needs_text_or_a_photo(conversation, customer, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.conversation_send_message(conversation=conversation, sender=customer, body="  ", attachments=[])

    assert (refusal.value.field, refusal.value.message) == ("body", "Write a message or attach an image.")


def test_a_file_that_is_not_an_image_is_refused_with_what_it_is(conversation, customer, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.conversation_send_message(
            conversation=conversation,
            sender=customer,
            body="My receipt",
            attachments=[factories.image_upload(), factories.pdf_upload()],
        )

    assert refusal.value.field == "attachments"
    assert "a PDF document" in refusal.value.message


def test_at_most_four_photos_per_message(conversation, customer, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.conversation_send_message(
            conversation=conversation, sender=customer, attachments=[factories.image_upload() for _ in range(5)]
        )

    assert (refusal.value.field, refusal.value.code) == ("attachments", "too_many")


def test_outsiders_cannot_send_photos(conversation, nothing_written):
    outsider = factories.UserFactory()

    with nothing_written(), pytest.raises(NotFound):
        services.conversation_send_message(
            conversation=conversation, sender=outsider, attachments=[factories.image_upload()]
        )


def test_files_of_a_message_that_failed_are_removed(conversation, customer, monkeypatch, tmp_path):
    real_create = MessageAttachment.objects.create
    created = []

    def create_then_fail(**fields):
        if created:
            raise RuntimeError("database went away")
        created.append(real_create(**fields))
        return created[-1]

    monkeypatch.setattr(MessageAttachment.objects, "create", create_then_fail)

    with pytest.raises(RuntimeError):
        services.conversation_send_message(
            conversation=conversation,
            sender=customer,
            attachments=[factories.image_upload(), factories.image_upload()],
        )

    assert not Message.objects.exists()
    assert [path for path in (tmp_path / "private_media").rglob("*") if path.is_file()] == []


def test_each_photo_is_published_to_the_conversation_only(conversation, customer, vendor):
    message = services.conversation_send_message(
        conversation=conversation, sender=customer, attachments=[factories.image_upload()]
    )

    event = Event.objects.get(table="message_attachments")
    assert event.record["message_id"] == message.pk
    assert set(event.record) == {"id", "message_id", "content_type", "size", "width", "height", "created_at"}
    assert set(event.audience) == {f"user.{customer.pk}", f"vendor.{vendor.pk}", "staff"}
