"""The Messages pages of the vendor portal, through Django's test client."""

import pytest
from django.urls import reverse

from support import services
from support.models import Message
from tests import factories

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clerk(vendor):
    return factories.VendorStaffFactory(vendor=vendor, user__full_name="Ana Clerk").user


@pytest.fixture
def conversation(customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor, number="ZR-MSG001")
    return services.conversation_start(
        customer=customer, vendor=vendor, order=order, subject="Allergies", body="Is the sourdough gluten-free?"
    )


@pytest.fixture
def photo(conversation, customer):
    message = services.conversation_send_message(
        conversation=conversation, sender=customer, attachments=[factories.image_upload("crumb.png")]
    )
    return message.attachments.get()


@pytest.fixture
def staff_client(client, clerk):
    client.force_login(clerk)
    return client


def _pages(conversation, photo=None):
    pages = [
        reverse("vendor:messages"),
        reverse("vendor:messages-list"),
        reverse("vendor:conversation", args=[conversation.pk]),
        reverse("vendor:conversation-thread", args=[conversation.pk]),
    ]
    if photo is not None:
        pages.append(reverse("vendor:conversation-attachment", args=[photo.pk]))
    return pages


# Who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, conversation, photo):
    for url in [*_pages(conversation, photo), reverse("vendor:conversation-reply", args=[conversation.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_a_customer_gets_the_login_page_even_for_their_own_conversation(client, customer, conversation, photo):
    client.force_login(customer)

    for url in _pages(conversation, photo):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_another_shops_staff_get_404_for_this_shops_conversation_and_photo(client, conversation, photo):
    client.force_login(factories.VendorFactory().owner)

    for url in _pages(conversation, photo)[2:]:
        assert client.get(url).status_code == 404, url
    reply = client.post(reverse("vendor:conversation-reply", args=[conversation.pk]), {"body": "Hi"})
    assert reply.status_code == 404
    assert not conversation.messages.filter(body="Hi").exists()
    assert "Allergies" not in client.get(reverse("vendor:messages")).content.decode()


def test_the_shops_staff_see_every_page(staff_client, conversation, photo):
    for url in _pages(conversation, photo):
        assert staff_client.get(url).status_code == 200, url


# The list ------------------------------------------------------------------------------------


def test_the_list_shows_customer_order_last_message_and_unread_count(staff_client, conversation, customer):
    services.conversation_send_message(conversation=conversation, sender=customer, body="Hello?")

    page = staff_client.get(reverse("vendor:messages")).content.decode()

    assert customer.full_name in page and customer.email not in page
    assert "Order ZR-MSG001" in page and "Allergies" in page
    assert "Hello?" in page
    assert '2<span class="visually-hidden"> unread</span>' in page
    assert 'hx-trigger="zora:changed:conversations from:body, zora:changed:messages from:body"' in page


def test_the_search_box_narrows_the_list(staff_client, conversation, vendor):
    services.conversation_start(customer=factories.UserFactory(full_name="Kim Other"), vendor=vendor, body="Hi")

    matching = staff_client.get(reverse("vendor:messages-list"), {"q": "sourdough"}, **HTMX).content.decode()
    nothing = staff_client.get(reverse("vendor:messages-list"), {"q": "croissant"}, **HTMX).content.decode()

    assert conversation.customer.full_name in matching and "Kim Other" not in matching
    assert "No conversation matches “croissant”." in nothing


def test_an_empty_shop_says_so(staff_client):
    assert "No conversations yet." in staff_client.get(reverse("vendor:messages")).content.decode()


# The thread ----------------------------------------------------------------------------------


def test_opening_a_conversation_marks_the_customers_messages_read(staff_client, conversation):
    response = staff_client.get(reverse("vendor:conversation", args=[conversation.pk]))

    assert response.status_code == 200
    assert not conversation.messages.filter(read_at__isnull=True).exists()
    assert response.context["conversations"][0].unread == 0


def test_a_live_refresh_in_a_hidden_tab_leaves_messages_unread(staff_client, conversation):
    url = reverse("vendor:conversation-thread", args=[conversation.pk])

    staff_client.get(url, {"visible": "0"}, **HTMX)
    assert conversation.messages.filter(read_at__isnull=True).count() == 1
    staff_client.get(url, {"visible": "1"}, **HTMX)
    assert not conversation.messages.filter(read_at__isnull=True).exists()


def test_the_thread_shows_bubbles_photos_and_seen_receipts(staff_client, conversation, customer, clerk, photo):
    reply = services.conversation_send_message(conversation=conversation, sender=clerk, body="Yes, it is.")
    services.conversation_mark_read(conversation=conversation, reader=customer)
    reply.refresh_from_db()

    thread = staff_client.get(reverse("vendor:conversation-thread", args=[conversation.pk]), **HTMX).content.decode()

    assert thread.count('class="bubble bubble-theirs"') == 2 and thread.count('class="bubble bubble-ours"') == 1
    assert f"Seen {reply.read_at.astimezone().strftime('%H:%M')}" in thread
    photo_url = reverse("vendor:conversation-attachment", args=[photo.pk])
    assert f'href="{photo_url}"' in thread and f'src="{photo_url}?size=thumbnail"' in thread
    assert "<form" not in thread


def test_the_reply_form_is_outside_the_live_thread(staff_client, conversation):
    page = staff_client.get(reverse("vendor:conversation", args=[conversation.pk])).content.decode()

    thread_start = page.index('id="thread"')
    assert page.index('id="reply-form"') > page.index("</ol>", thread_start)
    assert "{% csrf_token %}" not in page and "csrfmiddlewaretoken" in page


# Replying ------------------------------------------------------------------------------------


def test_a_reply_is_sent_and_the_page_redirects(staff_client, conversation, clerk):
    url = reverse("vendor:conversation-reply", args=[conversation.pk])

    response = staff_client.post(url, {"body": "Yes, it is.", "attachments": factories.image_upload()})

    assert response.status_code == 302 and response.url == reverse("vendor:conversation", args=[conversation.pk])
    message = conversation.messages.get(sender=clerk)
    assert (message.body, message.attachments.count()) == ("Yes, it is.", 1)
    assert [str(m) for m in staff_client.get(response.url).context["messages"]] == ["Message sent."]


def test_an_htmx_reply_returns_an_empty_form_and_asks_the_thread_to_refresh(staff_client, conversation, clerk):
    url = reverse("vendor:conversation-reply", args=[conversation.pk])

    response = staff_client.post(url, {"body": "On its way"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "zora:message-sent"
    assert "On its way" not in response.content.decode()
    assert conversation.messages.filter(sender=clerk, body="On its way").exists()


def test_a_photo_alone_is_a_reply(staff_client, conversation, clerk):
    url = reverse("vendor:conversation-reply", args=[conversation.pk])

    staff_client.post(url, {"body": "", "attachments": factories.image_upload("label.jpg", "JPEG")})

    assert conversation.messages.get(sender=clerk).attachments.get().content_type == "image/jpeg"


@pytest.mark.parametrize("htmx", [False, True])
def test_an_empty_reply_is_refused_on_the_reply_field(staff_client, conversation, htmx):
    url = reverse("vendor:conversation-reply", args=[conversation.pk])

    response = staff_client.post(url, {"body": "   "}, **(HTMX if htmx else {}))

    assert response.status_code == (422 if htmx else 200)
    assert '<p class="field-error" role="alert">Write a message or attach an image.</p>' in response.content.decode()
    assert Message.objects.count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_file_that_is_not_an_image_is_refused_with_the_rule(staff_client, conversation, htmx):
    url = reverse("vendor:conversation-reply", args=[conversation.pk])

    response = staff_client.post(
        url, {"body": "Our licence", "attachments": factories.pdf_upload()}, **(HTMX if htmx else {})
    )

    assert response.status_code == (422 if htmx else 200)
    page = response.content.decode()
    rule = "attachments must be a JPEG, PNG, WebP or GIF image; this file is a PDF document."
    assert f'<p class="field-error" role="alert">{rule}</p>' in page
    assert "Our licence</textarea>" in page, "what was typed is kept"
    assert Message.objects.count() == 1


def test_a_reply_longer_than_allowed_is_refused_by_the_form(staff_client, conversation):
    url = reverse("vendor:conversation-reply", args=[conversation.pk])

    response = staff_client.post(url, {"body": "x" * 5001})

    assert "body" in response.context["form"].errors
    assert Message.objects.count() == 1


def test_replying_needs_a_post(staff_client, conversation):
    assert staff_client.get(reverse("vendor:conversation-reply", args=[conversation.pk])).status_code == 405


# Photos --------------------------------------------------------------------------------------


def test_a_photo_is_served_privately_and_never_sniffed(staff_client, photo, settings):
    url = reverse("vendor:conversation-attachment", args=[photo.pk])

    original = staff_client.get(url)
    thumbnail = staff_client.get(url, {"size": "thumbnail"})

    assert (original.status_code, original["Content-Type"]) == (200, "image/png")
    assert original["X-Content-Type-Options"] == "nosniff"
    assert original["Cache-Control"] == "private, max-age=86400"
    assert "sandbox" in original["Content-Security-Policy"]
    assert original["Content-Disposition"].startswith("inline")
    assert b"".join(original.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert thumbnail["Content-Type"] == "image/webp"
    assert staff_client.get(settings.MEDIA_URL + photo.file.name).status_code == 404


def test_a_photo_of_another_shops_conversation_is_404(staff_client):
    elsewhere = services.conversation_start(
        customer=factories.UserFactory(), vendor=factories.VendorFactory(), body="Hi"
    )
    message = services.conversation_send_message(
        conversation=elsewhere, sender=elsewhere.customer, attachments=[factories.image_upload()]
    )

    response = staff_client.get(reverse("vendor:conversation-attachment", args=[message.attachments.get().pk]))

    assert response.status_code == 404
