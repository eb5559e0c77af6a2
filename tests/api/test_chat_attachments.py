"""Photos in customer ↔ shop chat, and searching conversations, over the mobile API."""

import pytest

from support import services
from support.models import MessageAttachment
from tests import factories
from tests.api.conftest import assert_error


@pytest.fixture
def conversation(customer, vendor):
    return services.conversation_start(customer=customer, vendor=vendor, subject="Broken eggs", body="Look at this")


def _send(client, conversation, **data):
    return client.post(f"/api/v1/conversations/{conversation.pk}/messages", data, format="multipart")


def test_the_app_sends_a_photo_and_both_sides_fetch_it(customer_api, vendor_api, client_for, admin_user, conversation):
    sent = _send(customer_api, conversation, body="", attachments=[factories.image_upload("eggs.jpg", "JPEG")])

    assert sent.status_code == 201, sent.content
    message = sent.json()
    assert message["body"] == "" and message["mine"] is True
    [attachment] = message["attachments"]
    assert {key: attachment[key] for key in ("content_type", "width", "height")} == {
        "content_type": "image/jpeg",
        "width": 64,
        "height": 48,
    }
    assert attachment["url"].endswith(f"/api/v1/message-attachments/{attachment['id']}?size=original")
    assert attachment["thumbnail_url"].endswith("?size=thumbnail")

    for client in (customer_api, vendor_api, client_for(admin_user)):
        image = client.get(attachment["url"], HTTP_ACCEPT="image/*")
        assert (image.status_code, image["Content-Type"]) == (200, "image/jpeg")
        assert image["X-Content-Type-Options"] == "nosniff"
        assert b"".join(image.streaming_content)[:3] == b"\xff\xd8\xff"
    thumbnail = vendor_api.get(attachment["thumbnail_url"])
    assert thumbnail["Content-Type"] == "image/webp"

    thread = vendor_api.get(f"/api/v1/conversations/{conversation.pk}/messages").json()["results"]
    assert [len(m["attachments"]) for m in thread] == [0, 1]


def test_text_and_photos_in_one_message(customer_api, conversation):
    sent = _send(
        customer_api, conversation, body="Two boxes", attachments=[factories.image_upload(), factories.image_upload()]
    )

    assert sent.status_code == 201
    assert len(sent.json()["attachments"]) == 2


def test_json_messages_still_work(vendor_api, conversation):
    sent = vendor_api.post(f"/api/v1/conversations/{conversation.pk}/messages", {"body": "Sorry!"}, format="json")

    assert sent.status_code == 201 and sent.json()["attachments"] == []


def test_a_message_without_text_or_photo_is_refused(customer_api, conversation):
    assert_error(_send(customer_api, conversation, body=" "), 400, "required")
    assert conversation.messages.count() == 1


def test_a_file_that_is_not_an_image_is_refused(customer_api, conversation):
    error = assert_error(_send(customer_api, conversation, attachments=[factories.pdf_upload()]), 400)

    assert (error["code"], error["field"]) == ("unsupported_file_type", "attachments")
    assert "a PDF document" in error["message"]
    assert not MessageAttachment.objects.exists()


def test_strangers_get_404_for_a_photo(customer_api, other_customer_api, other_vendor_api, api, conversation):
    message = services.conversation_send_message(
        conversation=conversation, sender=conversation.customer, attachments=[factories.image_upload()]
    )
    url = f"/api/v1/message-attachments/{message.attachments.get().pk}"

    for client in (other_customer_api, other_vendor_api):
        assert_error(client.get(url), 404)
        assert_error(client.get(url, HTTP_ACCEPT="image/png"), 404)
    assert api.get(url).status_code == 401
    assert_error(customer_api.get(url, {"size": "huge"}), 400, fields=["size"])
    assert_error(customer_api.get("/api/v1/message-attachments/999999"), 404)


def test_conversations_are_searchable_from_each_side(customer_api, vendor_api, customer, vendor, conversation):
    other = services.conversation_start(
        customer=factories.UserFactory(full_name="Kim Other"), vendor=vendor, body="Any croissants?"
    )

    def ids(client, **query):
        return [c["id"] for c in client.get("/api/v1/conversations", query).json()["results"]]

    assert ids(vendor_api, side="vendor", q="croiss") == [other.pk]
    assert ids(vendor_api, side="vendor", q="broken eggs") == [conversation.pk]
    assert ids(vendor_api, side="vendor") == [other.pk, conversation.pk]
    assert ids(customer_api, q="eggs") == [conversation.pk]
    assert ids(customer_api, q="croissants") == []
