"""Applicants answer "documents required" with uploads kept in private storage, then resubmit."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from vendors import selectors, services
from vendors.models import ApplicationDocument, VendorApplication
from zora.errors import InvalidInput, NotFound, RuleViolation

pytestmark = pytest.mark.django_db
Status = VendorApplication.Status


@pytest.fixture
def application(admin_user):
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW)
    services.application_request_documents(actor=admin_user, application=application, reason="Proof of address")
    return application


def upload(application, file):
    return services.application_document_upload(applicant=application.applicant, application=application, upload=file)


def test_a_pdf_is_kept_privately_under_a_random_name(application):
    document = upload(application, factories.pdf_upload("../../Lease agreement.pdf"))

    assert (document.name, document.content_type, document.size) == (
        "Lease agreement.pdf",
        "application/pdf",
        len(factories.PDF_BYTES),
    )
    stored = Path(document.file.path)
    assert stored.is_relative_to(settings.STORAGES["private"]["OPTIONS"]["location"])
    assert not stored.is_relative_to(settings.MEDIA_ROOT)
    assert stored.read_bytes() == factories.PDF_BYTES
    assert "Lease" not in document.file.name


def test_photos_of_paperwork_are_accepted_as_png_or_jpeg(application):
    png = upload(application, factories.image_upload("bill.png"))
    jpeg = upload(application, factories.image_upload("licence.jpeg", "JPEG"))

    assert (png.content_type, png.name) == ("image/png", "bill.png")
    assert (jpeg.content_type, jpeg.name) == ("image/jpeg", "licence.jpg")


@pytest.mark.parametrize(
    "file",
    [
        SimpleUploadedFile("notes.pdf", b"just some text", content_type="application/pdf"),
        SimpleUploadedFile("page.html", b"<html><script>alert(1)</script>", content_type="text/html"),
        factories.image_upload("anim.gif", "GIF"),
    ],
)
def test_anything_but_pdf_png_or_jpeg_is_refused_on_the_file_field(application, nothing_written, file):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        upload(application, file)
    assert refusal.value.field == "file"


def test_uploads_only_while_documents_are_required_and_only_by_the_applicant(application, customer, nothing_written):
    under_review = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW)
    with nothing_written():
        with pytest.raises(RuleViolation) as refusal:
            upload(under_review, factories.pdf_upload())
        assert refusal.value.code == "documents_not_requested"
        with pytest.raises(NotFound):
            services.application_document_upload(
                applicant=customer, application=application, upload=factories.pdf_upload()
            )


def test_resubmitting_with_uploads_alone_goes_back_to_review(application):
    upload(application, factories.pdf_upload())

    services.application_resubmit_documents(applicant=application.applicant, application=application)

    application.refresh_from_db()
    assert application.status == Status.UNDER_REVIEW
    assert application.documents == []


def test_resubmitting_needs_something_new_since_the_latest_request(application, admin_user, nothing_written):
    upload(application, factories.pdf_upload())
    services.application_resubmit_documents(applicant=application.applicant, application=application)
    services.application_request_documents(actor=admin_user, application=application, reason="A clearer copy")

    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        services.application_resubmit_documents(applicant=application.applicant, application=application)
    assert refusal.value.field == "documents"


def test_an_unsent_upload_can_be_taken_back_and_its_file_goes(application, django_capture_on_commit_callbacks):
    document = upload(application, factories.pdf_upload())
    stored = Path(document.file.path)

    with django_capture_on_commit_callbacks(execute=True):
        services.application_document_remove(applicant=application.applicant, document=document)

    assert not ApplicationDocument.objects.exists()
    assert not stored.exists()


def test_a_sent_document_stays_with_the_application(application, admin_user, nothing_written):
    document = upload(application, factories.pdf_upload())
    services.application_resubmit_documents(applicant=application.applicant, application=application)
    services.application_request_documents(actor=admin_user, application=application, reason="One more")

    with nothing_written(), pytest.raises(RuleViolation) as refusal:
        services.application_document_remove(applicant=application.applicant, document=document)
    assert refusal.value.code == "document_already_sent"


def test_a_document_is_for_its_applicant_and_the_platform_team_only(application, admin_user, customer):
    document = upload(application, factories.pdf_upload())

    assert selectors.application_document_for(user=application.applicant, document_id=document.pk) == document
    assert selectors.application_document_for(user=admin_user, document_id=document.pk) == document
    for stranger in (customer, factories.VendorFactory().owner, AnonymousUser()):
        with pytest.raises(NotFound):
            selectors.application_document_for(user=stranger, document_id=document.pk)
