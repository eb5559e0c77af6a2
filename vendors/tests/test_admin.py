"""Django admin of shops: a status change goes through the service; uploaded documents are reached through the
checked view."""

import pytest
from django.urls import reverse

from accounts.models import AdminActivityLog
from tests import factories
from vendors import services
from vendors.models import VendorApplication

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def inline_management(prefix):
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}


def test_changing_the_status_in_the_form_goes_through_the_service(admin_client, vendor):
    form = {
        "name": vendor.name,
        "description": "",
        "address": vendor.address,
        "lat": str(vendor.lat),
        "lng": str(vendor.lng),
        "delivery_radius_km": "5.00",
        "opening_status": "busy",
        **inline_management("staff"),
        **inline_management("opening_hours"),
        **inline_management("holiday_closures"),
    }

    response = admin_client.post(reverse("admin:vendors_vendor_change", args=[vendor.pk]), form)

    assert response.status_code == 302, response.content.decode()
    vendor.refresh_from_db()
    assert (vendor.opening_status, vendor.busy_extra_minutes) == ("busy", 15)
    assert AdminActivityLog.objects.filter(action="vendor.status_changed").exists()


def test_an_applications_uploads_link_to_the_checked_download(admin_client, admin_user):
    application = factories.VendorApplicationFactory(status=VendorApplication.Status.UNDER_REVIEW)
    services.application_request_documents(actor=admin_user, application=application, reason="Proof of address")
    document = services.application_document_upload(
        applicant=application.applicant, application=application, upload=factories.pdf_upload()
    )

    page = admin_client.get(reverse("admin:vendors_vendorapplication_change", args=[application.pk]))

    assert page.status_code == 200
    assert reverse("vendor:application-document", args=[document.pk]) in page.content.decode()
