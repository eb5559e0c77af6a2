"""Support threads, customer ↔ shop chat, and vendor applications."""

from support.models import Conversation, EmailThread
from tests import factories
from tests.api.conftest import assert_error
from vendors.models import VendorApplication


def test_customer_writes_to_support_and_follows_up(customer_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    created = customer_api.post(
        "/api/v1/support/threads",
        {"subject": "Late delivery", "body": "Where is it?", "order": order.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    thread = created.json()
    assert (thread["order"]["number"], thread["message_count"]) == (order.number, 1)
    assert "assignee" not in thread and "unread_count" not in thread

    follow_up = customer_api.post(
        f"/api/v1/support/threads/{thread['id']}/messages", {"body": "Any news?"}, format="json"
    )
    assert follow_up.status_code == 201
    messages = customer_api.get(f"/api/v1/support/threads/{thread['id']}/messages").json()["results"]
    assert [(m["direction"], m["body"]) for m in messages] == [("inbound", "Where is it?"), ("inbound", "Any news?")]
    assert [t["id"] for t in customer_api.get("/api/v1/support/threads").json()["results"]] == [thread["id"]]


def test_support_validation_and_privacy(customer_api, other_customer_api, customer, other_customer, vendor):
    assert_error(
        customer_api.post("/api/v1/support/threads", {"subject": "", "body": ""}, format="json"),
        400,
        fields=["subject", "body"],
    )
    their_order = factories.OrderFactory(customer=other_customer, vendor=vendor)
    assert_error(
        customer_api.post(
            "/api/v1/support/threads", {"subject": "Hi", "body": "x", "order": their_order.pk}, format="json"
        ),
        404,
    )
    thread = factories.EmailThreadFactory(customer=customer)
    assert other_customer_api.get("/api/v1/support/threads").json()["count"] == 0
    assert_error(other_customer_api.get(f"/api/v1/support/threads/{thread.pk}/messages"), 404)
    assert_error(
        other_customer_api.post(f"/api/v1/support/threads/{thread.pk}/messages", {"body": "hi"}, format="json"), 404
    )
    assert not EmailThread.objects.filter(customer=other_customer).exists()


def test_customer_and_shop_chat_with_read_receipts(customer_api, vendor_api, customer, vendor):
    order = factories.OrderFactory(customer=customer, vendor=vendor)
    started = customer_api.post(
        "/api/v1/conversations",
        {"vendor": vendor.pk, "order": order.pk, "subject": "Allergies", "body": "Nuts?"},
        format="json",
    )
    assert started.status_code == 201, started.content
    conversation = started.json()
    assert conversation["order"]["id"] == order.pk and conversation["unread"] == 0
    again = customer_api.post("/api/v1/conversations", {"vendor": vendor.pk, "order": order.pk}, format="json")
    assert again.json()["id"] == conversation["id"]

    shop_view = vendor_api.get("/api/v1/conversations?side=vendor").json()["results"]
    assert [(c["id"], c["unread"]) for c in shop_view] == [(conversation["id"], 1)]
    assert customer.email not in str(shop_view)
    reply = vendor_api.post(f"/api/v1/conversations/{conversation['id']}/messages", {"body": "No nuts."}, format="json")
    assert reply.status_code == 201 and reply.json()["mine"] is True
    assert vendor_api.post(f"/api/v1/conversations/{conversation['id']}/read").json() == {"marked": 1}

    thread = customer_api.get(f"/api/v1/conversations/{conversation['id']}/messages").json()["results"]
    assert [(m["body"], m["mine"]) for m in thread] == [("Nuts?", True), ("No nuts.", False)]
    assert thread[0]["read_at"] is not None
    assert customer_api.get("/api/v1/conversations").json()["results"][0]["unread"] == 1
    assert customer_api.post(f"/api/v1/conversations/{conversation['id']}/read").json() == {"marked": 1}


def test_outsiders_cannot_see_or_join_a_conversation(other_customer_api, other_vendor_api, customer, vendor):
    conversation = factories.ConversationFactory(customer=customer, vendor=vendor)
    for client in (other_customer_api, other_vendor_api):
        assert_error(client.get(f"/api/v1/conversations/{conversation.pk}/messages"), 404)
        assert_error(
            client.post(f"/api/v1/conversations/{conversation.pk}/messages", {"body": "hi"}, format="json"), 404
        )
        assert_error(client.post(f"/api/v1/conversations/{conversation.pk}/read"), 404)
    assert other_vendor_api.get("/api/v1/conversations?side=vendor").json()["count"] == 0
    assert not conversation.messages.exists()


def test_conversation_validation(customer_api, other_customer, vendor):
    assert_error(customer_api.post("/api/v1/conversations", {"vendor": "shop"}, format="json"), 400, fields=["vendor"])
    assert_error(customer_api.post("/api/v1/conversations", {"vendor": 10**9}, format="json"), 404)
    their_order = factories.OrderFactory(customer=other_customer, vendor=vendor)
    assert_error(
        customer_api.post("/api/v1/conversations", {"vendor": vendor.pk, "order": their_order.pk}, format="json"), 404
    )
    assert_error(customer_api.get("/api/v1/conversations?side=admin"), 400, fields=["side"])
    assert not Conversation.objects.exists()


APPLICATION = {
    "business_name": "Corner Bakery",
    "business_type": "limited_company",
    "company_number": "01234567",
    "contact_name": "Bea Baker",
    "contact_email": "bea@example.test",
    "address": "7 Baker Street, London",
    "lat": "51.52",
    "lng": "-0.157",
    "documents": [{"name": "Certificate", "url": "https://example.test/cert.pdf"}],
}


def test_apply_to_open_a_shop_and_follow_the_application(customer_api):
    assert_error(customer_api.get("/api/v1/vendor-applications/mine"), 404)
    submitted = customer_api.post("/api/v1/vendor-applications", APPLICATION, format="json")
    assert submitted.status_code == 201, submitted.content
    mine = customer_api.get("/api/v1/vendor-applications/mine").json()
    assert (mine["id"], mine["status"], mine["vendor"]) == (submitted.json()["id"], "pending", None)
    assert [step["to_status"] for step in mine["status_history"]] == ["pending"]
    assert "reviewer" not in mine
    assert_error(customer_api.post("/api/v1/vendor-applications", APPLICATION, format="json"), 409, "application_open")


def test_application_validation_and_privacy(customer_api, other_customer_api):
    bad = customer_api.post(
        "/api/v1/vendor-applications",
        {
            **APPLICATION,
            "business_type": "empire",
            "contact_email": "nope",
            "documents": [{"name": "x", "url": "ftp:/"}],
        },
        format="json",
    )
    assert_error(bad, 400, fields=["business_type", "contact_email", "documents.0.url"])
    no_number = customer_api.post("/api/v1/vendor-applications", {**APPLICATION, "company_number": ""}, format="json")
    assert assert_error(no_number, 400)["field"] == "company_number"
    customer_api.post("/api/v1/vendor-applications", APPLICATION, format="json")
    assert_error(other_customer_api.get("/api/v1/vendor-applications/mine"), 404)
    assert VendorApplication.objects.count() == 1


def test_chat_never_shows_an_email_address_even_without_a_name(client_for, vendor):
    nameless = factories.UserFactory(full_name="")
    conversation = client_for(nameless).post(
        "/api/v1/conversations", {"vendor": vendor.pk, "body": "Hi"}, format="json"
    )
    assert conversation.json()["customer"]["name"] == nameless.email.split("@")[0]
    assert nameless.email not in str(client_for(vendor.owner).get("/api/v1/conversations?side=vendor").json())
