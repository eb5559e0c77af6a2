"""The applicant's page (a user with an application and no shop yet) and the private document download."""

import pytest
from django.urls import reverse

from tests import factories
from vendors import services
from vendors.models import ApplicationDocument, VendorApplication

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = VendorApplication.Status
PAGES = ["application", "application-status"]


@pytest.fixture
def application(admin_user):
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW, business_name="Canal Cakes")
    services.application_request_documents(actor=admin_user, application=application, reason="Proof of address")
    return application


@pytest.fixture
def applicant_client(client, application):
    client.force_login(application.applicant)
    return client


@pytest.fixture
def document(application):
    return services.application_document_upload(
        applicant=application.applicant, application=application, upload=factories.pdf_upload("Lease.pdf")
    )


def upload(client, file, htmx=True):
    return client.post(reverse("vendor:application-document-upload"), {"file": file}, **(HTMX if htmx else {}))


# Who gets in ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for name in PAGES:
        response = client.get(reverse(f"vendor:{name}"))
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), name


def test_a_user_without_an_application_gets_the_login_page_saying_why(client, customer):
    client.force_login(customer)
    response = client.get(reverse("vendor:application"), follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "no shop and no application" in response.content.decode()


def test_shop_staff_go_to_their_portal_and_an_htmx_refresh_is_told_to_load_it(client, vendor):
    factories.VendorApplicationFactory(applicant=vendor.owner, status=Status.APPROVED, vendor=vendor)
    client.force_login(vendor.owner)

    assert client.get(reverse("vendor:application")).url == reverse("vendor:dashboard")
    response = client.get(reverse("vendor:application-status"), **HTMX)
    assert response["HX-Redirect"] == "/vendor/"


def test_the_applicant_sees_status_reason_history_live(applicant_client):
    page = applicant_client.get(reverse("vendor:application")).content.decode()

    assert "Canal Cakes" in page and "Proof of address" in page
    assert '<ol class="timeline">' in page and "Documents Required: Proof of address" in page
    assert 'hx-trigger="zora:changed:vendor_applications from:body"' in page
    assert "vendor_applications" in page.split('data-realtime-tables="')[1].split('"')[0]
    assert 'e.detail.record.status === "approved"' in page and 'location.assign("/vendor/")' in page
    assert 'href="/vendor/application/"' in page, "the reduced sidebar of a user without a shop"
    assert 'enctype="multipart/form-data"' in page and ">Resubmit</button>" in page


def test_no_upload_form_unless_documents_are_required(client):
    pending = factories.VendorApplicationFactory()
    client.force_login(pending.applicant)
    page = client.get(reverse("vendor:application-status")).content.decode()
    assert "We received your application" in page
    assert "Resubmit" not in page and "Upload" not in page


# Documents and resubmitting --------------------------------------------------------------------


def test_uploading_a_document_then_resubmitting(applicant_client, application):
    response = upload(applicant_client, factories.pdf_upload("Lease.pdf"))

    assert response.status_code == 200
    assert "Lease.pdf" in response.content.decode()
    assert "zora:toast" in response["HX-Trigger"]

    response = applicant_client.post(reverse("vendor:application-resubmit"))
    assert response.status_code == 302 and response.url == reverse("vendor:application")
    application.refresh_from_db()
    assert application.status == Status.UNDER_REVIEW
    assert "reviewing your application again" in applicant_client.get(response.url).content.decode()


def test_an_upload_that_is_not_a_document_is_refused_on_the_field(applicant_client):
    fake = factories.image_upload("scan.gif", "GIF")
    response = upload(applicant_client, fake)

    assert response.status_code == 422
    assert "file must be a PDF, PNG or JPEG." in response.content.decode()
    assert not ApplicationDocument.objects.exists()


def test_an_upload_without_a_file_says_so(applicant_client):
    response = applicant_client.post(reverse("vendor:application-document-upload"), {})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_resubmitting_without_a_document_is_refused_with_the_reason(applicant_client, application):
    response = applicant_client.post(reverse("vendor:application-resubmit"), **HTMX)

    assert response.status_code == 422
    assert "Upload or link at least one document first." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.DOCUMENTS_REQUIRED


def test_an_unsent_document_is_removed(applicant_client, document):
    response = applicant_client.post(reverse("vendor:application-document-remove", args=[document.pk]), **HTMX)
    assert response.status_code == 200
    assert not ApplicationDocument.objects.exists()


def test_another_applicants_document_cannot_be_removed(client, document):
    other = factories.VendorApplicationFactory()
    client.force_login(other.applicant)
    assert client.post(reverse("vendor:application-document-remove", args=[document.pk])).status_code == 404
    assert ApplicationDocument.objects.filter(pk=document.pk).exists()


# The private download --------------------------------------------------------------------------


def test_the_applicant_and_admins_download_a_document_as_an_attachment(client, document, admin_user):
    for user in (document.application.applicant, admin_user):
        client.force_login(user)
        response = client.get(reverse("vendor:application-document", args=[document.pk]))

        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="Lease.pdf"'
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == factories.PDF_BYTES


def test_everyone_else_gets_404_for_a_document(client, document, customer, vendor):
    url = reverse("vendor:application-document", args=[document.pk])
    assert client.get(url).status_code == 404
    for stranger in (customer, vendor.owner, factories.VendorApplicationFactory().applicant):
        client.force_login(stranger)
        assert client.get(url).status_code == 404
    assert not document.file.url.startswith(reverse("vendor:application")), "no public URL reaches the file"
