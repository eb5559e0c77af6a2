"""The platform team's application pages: the queue, one application's page, and each review action."""

import dataclasses
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import AdminActivityLog, Notification
from tests import factories
from vendors import services
from vendors.models import Vendor, VendorApplication, VendorStaff
from vendors.portal import dashboard_views
from zora.errors import InvalidInput
from zora.versions import version_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = VendorApplication.Status


@pytest.fixture
def ada():
    return factories.AdminFactory(full_name="Ada Lovell")


@pytest.fixture
def ben(client):
    admin = factories.AdminFactory(full_name="Ben Ode")
    client.force_login(admin)
    return admin


@pytest.fixture
def application():
    return services.application_submit(
        applicant=factories.UserFactory(),
        business_name="Canal Cakes",
        business_type=VendorApplication.BusinessType.SOLE_TRADER,
        contact_name="Cara Canal",
        contact_email="cara@example.test",
        address="3 Station Road, London",
    )


@pytest.fixture
def in_review(application, ada):
    return services.application_start_review(actor=ada, application=application)


def act(client, application, action, data=None, *, htmx=True, seen=None):
    application.refresh_from_db()
    fields = {"seen_version": version_of(application) if seen is None else seen, **(data or {})}
    url = reverse("dashboard:application-act", args=[application.pk, action])
    return client.post(url, fields, **(HTMX if htmx else {}))


def page(client, application) -> str:
    response = client.get(reverse("dashboard:application", args=[application.pk]))
    assert response.status_code == 200
    return response.content.decode()


# Who gets in ---------------------------------------------------------------------------------


def _pages(application):
    return [
        reverse("dashboard:applications"),
        reverse("dashboard:applications-queue"),
        reverse("dashboard:application", args=[application.pk]),
        reverse("dashboard:application-live", args=[application.pk]),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, application):
    for url in [*_pages(application), reverse("dashboard:application-act", args=[application.pk, "approve"])]:
        response = client.get(url) if not url.endswith("/approve/") else client.post(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


def test_customers_shop_staff_and_the_applicant_get_the_sign_in_page(client, application, customer, vendor):
    for someone in (customer, vendor.owner, application.applicant):
        client.force_login(someone)
        for url in _pages(application):
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith("/accounts/login/"), (someone, url)
        response = act(client, application, "start-review")
        assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.PENDING


def test_admins_get_every_page_and_an_unknown_application_or_action_is_404(client, ben, application):
    for url in _pages(application):
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("dashboard:application", args=[application.pk + 1000])).status_code == 404
    assert act(client, application, "bulk-approve").status_code == 404
    assert client.get(reverse("dashboard:application-act", args=[application.pk, "approve"])).status_code == 405


# The queue ------------------------------------------------------------------------------------


def test_the_queue_shows_one_status_at_a_time_with_counts_oldest_waiting_first(client, ben):
    older = factories.VendorApplicationFactory(business_name="Old Bakery")
    newer = factories.VendorApplicationFactory(business_name="New Deli")
    VendorApplication.objects.filter(pk=older.pk).update(created_at=newer.created_at - timedelta(days=2))
    factories.VendorApplicationFactory(business_name="Done Grocer", status=Status.APPROVED)
    html = client.get(reverse("dashboard:applications")).content.decode()
    assert html.index("Old Bakery") < html.index("New Deli") and "Done Grocer" not in html
    tabs = {"Pending": 2, "Under review": 0, "Documents required": 0, "Approved": 1, "Rejected": 0, "All": 3}
    for label, count in tabs.items():
        assert re.search(rf'{label} <span class="badge[^"]*">{count}</span>', html), label
    approved = client.get(reverse("dashboard:applications-queue"), {"status": "approved"}).content.decode()
    assert "Done Grocer" in approved and "Old Bakery" not in approved and "<html" not in approved
    everything = client.get(reverse("dashboard:applications"), {"status": "all"}).content.decode()
    assert all(name in everything for name in ("Old Bakery", "New Deli", "Done Grocer"))
    assert "Old Bakery" in client.get(reverse("dashboard:applications"), {"status": "nonsense"}).content.decode()


def test_the_queue_refreshes_live(client, ben):
    html = client.get(reverse("dashboard:applications"), {"status": "rejected"}).content.decode()
    assert 'hx-trigger="zora:changed:vendor_applications from:body"' in html
    assert f'hx-get="{reverse("dashboard:applications-queue")}?status=rejected"' in html
    assert re.search(r'data-realtime-tables="[^"]*\bvendor_applications\b', html)


# One application ------------------------------------------------------------------------------


def test_the_page_shows_the_business_the_documents_the_history_and_who_else_is_here(client, ben, in_review, ada):
    services.application_request_documents(actor=ada, application=in_review, reason="Proof of address please")
    document = services.application_document_upload(
        applicant=in_review.applicant, application=in_review, upload=factories.pdf_upload("Lease.pdf")
    )
    services.application_resubmit_documents(applicant=in_review.applicant, application=in_review)
    html = page(client, in_review)
    assert "Canal Cakes" in html and "Cara Canal" in html and "3 Station Road, London" in html
    document_url = reverse("vendor:application-document", args=[document.pk])
    assert f'href="{document_url}">Lease.pdf</a>' in html and "new since the request" in html
    assert client.get(document_url).status_code == 200
    assert "Ada Lovell</strong>\n            moved it to documents required" in html
    assert "Proof of address please" in html
    assert "submitted the application" in html
    assert f'data-presence-topic="realtime:dashboard:vendors.vendorapplication:{in_review.pk}"' in html
    assert 'data-presence-name="Ben Ode"' in html and f'data-presence-user-id="{ben.pk}"' in html
    assert 'aria-live="polite"' in html
    assert f'hx-get="{reverse("dashboard:application-live", args=[in_review.pk])}"' in html
    assert f"?entity_type=vendors.vendorapplication&amp;entity_id={in_review.pk}" in html


def test_only_the_legal_moves_are_offered(client, ben, application, ada):
    def buttons():
        live = client.get(reverse("dashboard:application-live", args=[application.pk])).content.decode()
        return [action.label for action in dashboard_views.ACTIONS if f"/{action.slug}/" in live], live

    assert buttons()[0] == ["Start review"]
    services.application_start_review(actor=ada, application=application)
    assert buttons()[0] == ["Request documents", "Approve", "Reject"]
    services.application_request_documents(actor=ada, application=application, reason="ID")
    offered, live = buttons()
    assert offered == [] and "Waiting for the applicant" in live
    services.application_resubmit_documents(
        applicant=application.applicant, application=application, documents=[{"name": "ID", "url": "https://x.test"}]
    )
    services.application_reject(actor=ada, application=application, reason="No")
    offered, live = buttons()
    assert offered == [] and "Nothing left to decide" in live


# Actions --------------------------------------------------------------------------------------


def test_start_review_moves_it_logs_it_and_toasts(client, ben, application):
    response = act(client, application, "start-review")
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["zora:toast"]["message"] == "Review of Canal Cakes started."
    application.refresh_from_db()
    assert (application.status, application.reviewer) == (Status.UNDER_REVIEW, ben)
    assert AdminActivityLog.objects.filter(admin=ben, action="application.under_review").exists()
    assert "Request documents" in response.content.decode()


def test_without_htmx_an_action_redirects_back_with_a_message(client, ben, application):
    response = act(client, application, "start-review", htmx=False)
    assert response.status_code == 302 and response.url == reverse("dashboard:application", args=[application.pk])
    assert "Review of Canal Cakes started." in client.get(response.url).content.decode()


def test_request_documents_sends_the_edited_message(client, ben, in_review):
    html = page(client, in_review)
    assert "Food hygiene certificate" in html and 'data-fills="request-documents-reason"' in html
    response = act(client, in_review, "request-documents", {"template": "food_hygiene", "reason": "Level 2, please."})
    assert response.status_code == 200
    in_review.refresh_from_db()
    assert (in_review.status, in_review.reason) == (Status.DOCUMENTS_REQUIRED, "Level 2, please.")
    notice = Notification.objects.filter(user=in_review.applicant).latest("id")
    assert "Level 2, please." in notice.body


def test_request_documents_without_scripts_sends_the_chosen_template(client, ben, in_review):
    assert act(client, in_review, "request-documents", {"template": "proof_of_address"}).status_code == 200
    in_review.refresh_from_db()
    assert in_review.reason.startswith("Please upload a proof of address for Canal Cakes")


def test_request_documents_needs_a_message(client, ben, in_review):
    response = act(client, in_review, "request-documents", {"template": "", "reason": "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert '<p class="field-error">Tell the applicant which documents to send.</p>' in html
    assert "<details open>" in html
    in_review.refresh_from_db()
    assert in_review.status == Status.UNDER_REVIEW


def test_approve_opens_the_shop_for_the_applicant(client, ben, in_review):
    response = act(client, in_review, "approve")
    assert response.status_code == 200
    in_review.refresh_from_db()
    shop = Vendor.objects.get(application=in_review)
    assert in_review.status == Status.APPROVED and shop.owner == in_review.applicant
    assert VendorStaff.objects.get(user=in_review.applicant).role == VendorStaff.Role.OWNER
    assert "Canal Cakes is approved" in json.loads(response["HX-Trigger"])["zora:toast"]["message"]
    assert "Nothing left to decide" in response.content.decode()


def test_reject_sends_the_reason_and_the_details(client, ben, in_review):
    response = act(client, in_review, "reject", {"reason_code": "outside_area", "details": "We start there in May."})
    assert response.status_code == 200
    in_review.refresh_from_db()
    assert in_review.status == Status.REJECTED
    assert in_review.reason == "The business is outside the area Zora delivers in. We start there in May."


def test_reject_needs_a_reason_and_details_for_another_one(client, ben, in_review):
    response = act(client, in_review, "reject", {"reason_code": ""})
    assert (
        response.status_code == 422
        and '<p class="field-error">This field is required.</p>' in response.content.decode()
    )
    response = act(client, in_review, "reject", {"reason_code": "other", "details": ""})
    assert "Say why, when the reason is another one." in response.content.decode()
    assert act(client, in_review, "reject", {"reason_code": "other", "details": "Fake address"}).status_code == 200
    in_review.refresh_from_db()
    assert (in_review.status, in_review.reason) == (Status.REJECTED, "Fake address")


def test_an_action_without_the_version_seen_is_refused(client, ben, in_review):
    response = client.post(reverse("dashboard:application-act", args=[in_review.pk, "approve"]), {}, **HTMX)
    assert response.status_code == 422
    in_review.refresh_from_db()
    assert in_review.status == Status.UNDER_REVIEW


def test_a_decision_on_a_stale_page_is_refused_with_who_decided_first(client, ben, in_review, ada):
    seen = version_of(in_review)
    services.application_reject(actor=ada, application=in_review, reason="Outside the area", seen_version=seen)
    response = act(client, in_review, "approve", seen=seen)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Ada Lovell rejected this" in html and "nothing was changed" in html
    assert 'role="alert"' in html and "Nothing left to decide: this application is rejected." in html
    in_review.refresh_from_db()
    assert in_review.status == Status.REJECTED and not Vendor.objects.filter(owner=in_review.applicant).exists()


def test_a_stale_page_without_htmx_gets_the_page_with_the_refusal(client, ben, in_review, ada):
    seen = version_of(in_review)
    services.application_approve(actor=ada, application=in_review)
    response = act(client, in_review, "reject", {"reason_code": "incomplete"}, htmx=False, seen=seen)
    assert response.status_code == 200 and "Ada Lovell approved this" in response.content.decode()


def test_a_move_the_application_no_longer_allows_is_refused(client, ben, application, vendor):
    response = act(client, application, "approve")
    assert response.status_code == 409 and "cannot move from pending to approved" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.PENDING


def test_approving_someone_who_already_works_for_a_shop_is_refused(client, ben, in_review, vendor):
    VendorStaff.objects.create(vendor=vendor, user=in_review.applicant)
    response = act(client, in_review, "approve")
    assert response.status_code == 409 and "already works for a vendor" in response.content.decode()


def test_a_refusal_on_a_field_is_shown_on_that_field(client, ben, in_review, monkeypatch):
    def refuse(**kwargs):
        raise InvalidInput("reason reads like spam.", code="spam", field="reason")

    request = dashboard_views.ACTIONS_BY_SLUG["request-documents"]
    monkeypatch.setitem(
        dashboard_views.ACTIONS_BY_SLUG, "request-documents", dataclasses.replace(request, service=refuse)
    )
    response = act(client, in_review, "request-documents", {"reason": "Buy now"})
    assert response.status_code == 422
    assert '<p class="field-error">reason reads like spam.</p>' in response.content.decode()
