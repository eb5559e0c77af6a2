import pytest

from accounts.models import AdminActivityLog, Notification
from tests import factories
from vendors import access, selectors, services
from vendors.models import Vendor, VendorApplication, VendorApplicationStatusHistory, VendorStaff
from zora.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db

Status = VendorApplication.Status
DOCUMENTS = [{"name": "Food hygiene certificate", "url": "https://files.example.test/hygiene.pdf"}]

ACTIONS = {
    "start_review": lambda application, admin: services.application_start_review(actor=admin, application=application),
    "request_documents": lambda application, admin: services.application_request_documents(
        actor=admin, application=application, reason="Proof of address"
    ),
    "resubmit_documents": lambda application, admin: services.application_resubmit_documents(
        applicant=application.applicant, application=application, documents=DOCUMENTS
    ),
    "approve": lambda application, admin: services.application_approve(actor=admin, application=application),
    "reject": lambda application, admin: services.application_reject(
        actor=admin, application=application, reason="Outside our area"
    ),
}
# Every legal move, written out by hand: (action, from) → to. Every other pair must be refused.
LEGAL_MOVES = {
    ("start_review", Status.PENDING): Status.UNDER_REVIEW,
    ("request_documents", Status.UNDER_REVIEW): Status.DOCUMENTS_REQUIRED,
    ("resubmit_documents", Status.DOCUMENTS_REQUIRED): Status.UNDER_REVIEW,
    ("approve", Status.UNDER_REVIEW): Status.APPROVED,
    ("reject", Status.UNDER_REVIEW): Status.REJECTED,
}
ADMIN_ACTIONS = ["start_review", "request_documents", "approve", "reject"]


def submit(applicant, **overrides):
    fields = {
        "business_name": "Corner Bakery",
        "business_type": "sole_trader",
        "contact_name": "Bea Baker",
        "contact_email": "Bea@Example.test",
        "address": "4 Mill Lane, London",
        "lat": "51.51",
        "lng": "-0.13",
        "description": "Sourdough and pastries.",
        "documents": DOCUMENTS,
        **overrides,
    }
    return services.application_submit(applicant=applicant, **fields)


# Submission ------------------------------------------------------------------------------------


def test_submit_writes_history_and_notifies_the_applicant(customer):
    application = submit(customer)

    assert application.status == Status.PENDING
    assert application.contact_email == "bea@example.test"
    history = application.status_history.get()
    assert (history.from_status, history.to_status, history.changed_by) == ("", Status.PENDING, customer)
    notification = Notification.objects.get(user=customer)
    assert notification.type == Notification.Type.APPLICATION
    assert notification.data == {"application_id": application.pk, "status": Status.PENDING}


def test_limited_company_needs_a_company_number(customer, nothing_written):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        submit(customer, business_type="limited_company", company_number=" ")

    assert refusal.value.field == "company_number"
    assert submit(customer, business_type="limited_company", company_number="09876543").company_number == "09876543"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"business_type": "charity"}, "business_type"),
        ({"business_name": ""}, "business_name"),
        ({"contact_name": " "}, "contact_name"),
        ({"contact_email": "bea-at-example"}, "contact_email"),
        ({"address": ""}, "address"),
        ({"lat": "95"}, "lat"),
        ({"lng": "west"}, "lng"),
        ({"documents": [{"name": "Licence"}]}, "documents"),
        ({"documents": "licence.pdf"}, "documents"),
    ],
)
def test_submit_refuses_bad_fields(customer, nothing_written, overrides, field):
    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        submit(customer, **overrides)

    assert refusal.value.field == field


def test_only_one_open_application_at_a_time(customer, admin_user, nothing_written):
    application = submit(customer)
    services.application_start_review(actor=admin_user, application=application)

    with nothing_written(), pytest.raises(Conflict) as refusal:
        submit(customer, business_name="Second Shop")
    assert refusal.value.code == "application_open"

    services.application_reject(actor=admin_user, application=application, reason="Incomplete")
    assert submit(customer, business_name="Second Shop").status == Status.PENDING


def test_vendor_staff_cannot_apply(vendor_owner, nothing_written):
    with nothing_written(), pytest.raises(Conflict) as refusal:
        submit(vendor_owner)

    assert refusal.value.code == "already_vendor_staff"


# The transition table --------------------------------------------------------------------------


@pytest.mark.parametrize("from_status", Status.values)
@pytest.mark.parametrize("action", ACTIONS)
def test_transition_table(action, from_status, admin_user, nothing_written):
    application = factories.VendorApplicationFactory(status=from_status)
    to_status = LEGAL_MOVES.get((action, from_status))

    if to_status is None:
        with nothing_written(), pytest.raises(Conflict) as refusal:
            ACTIONS[action](application, admin_user)
        assert refusal.value.code == "illegal_transition"
        assert refusal.value.details["from_status"] == from_status
        assert from_status in refusal.value.message
        return

    ACTIONS[action](application, admin_user)

    application.refresh_from_db()
    assert application.status == to_status
    history = application.status_history.get()
    assert (history.from_status, history.to_status) == (from_status, to_status)
    notification = Notification.objects.get(user=application.applicant)
    assert notification.type == Notification.Type.APPLICATION
    assert notification.data["status"] == to_status


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_admin_actions_are_hidden_from_everyone_else(action, nothing_written):
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW)

    with nothing_written(), pytest.raises(NotFound):
        ACTIONS[action](application, application.applicant)


def test_admin_moves_name_the_reviewer_and_are_logged(admin_user):
    application = factories.VendorApplicationFactory()

    services.application_start_review(
        actor=admin_user, application=application, request_meta={"ip": "198.51.100.7", "user_agent": "Safari"}
    )

    application.refresh_from_db()
    assert application.reviewer == admin_user
    assert application.status_history.get().changed_by == admin_user
    entry = AdminActivityLog.objects.get()
    assert (entry.admin, entry.action, entry.category) == (admin_user, "application.under_review", "vendor")
    assert (entry.entity_type, entry.entity_id) == ("vendors.vendorapplication", str(application.pk))
    assert entry.details == {"from_status": "pending", "to_status": "under_review", "reason": ""}
    assert (entry.ip_address, entry.user_agent) == ("198.51.100.7", "Safari")


@pytest.mark.parametrize("action", ["request_documents", "reject"])
def test_reason_is_required(action, admin_user, nothing_written):
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW)
    service = getattr(services, f"application_{action}")

    with nothing_written(), pytest.raises(InvalidInput) as refusal:
        service(actor=admin_user, application=application, reason="  ")

    assert refusal.value.field == "reason"


def test_documents_round_trip(admin_user):
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW, documents=DOCUMENTS)

    services.application_request_documents(actor=admin_user, application=application, reason="Proof of address")
    application.refresh_from_db()
    assert application.reason == "Proof of address"
    assert Notification.objects.get(user=application.applicant).body.endswith("Proof of address")

    utility_bill = {"name": "Utility bill", "url": "https://files.example.test/bill.pdf"}
    services.application_resubmit_documents(
        applicant=application.applicant, application=application, documents=[utility_bill]
    )

    application.refresh_from_db()
    assert application.status == Status.UNDER_REVIEW
    assert application.documents == [*DOCUMENTS, utility_bill]
    assert [row.to_status for row in application.status_history.all()] == [
        Status.DOCUMENTS_REQUIRED,
        Status.UNDER_REVIEW,
    ]
    assert application.status_history.last().changed_by == application.applicant


def test_resubmit_needs_documents_and_the_applicant(customer, nothing_written):
    application = factories.VendorApplicationFactory(status=Status.DOCUMENTS_REQUIRED)

    with nothing_written():
        with pytest.raises(InvalidInput) as refusal:
            services.application_resubmit_documents(
                applicant=application.applicant, application=application, documents=[]
            )
        assert refusal.value.field == "documents"
        with pytest.raises(NotFound):
            services.application_resubmit_documents(applicant=customer, application=application, documents=DOCUMENTS)


# Approval --------------------------------------------------------------------------------------


def test_approval_opens_the_shop(admin_user):
    application = factories.VendorApplicationFactory(
        status=Status.UNDER_REVIEW,
        business_name="Corner Bakery",
        description="Sourdough",
        lat="51.520000",
        lng="-0.100000",
    )

    vendor = services.application_approve(actor=admin_user, application=application)

    vendor.refresh_from_db()
    application.refresh_from_db()
    assert (vendor.name, vendor.slug, vendor.owner) == ("Corner Bakery", "corner-bakery", application.applicant)
    assert (vendor.address, vendor.description) == (application.address, "Sourdough")
    assert (str(vendor.lat), str(vendor.lng)) == ("51.520000", "-0.100000")
    membership = VendorStaff.objects.get(user=application.applicant)
    assert (membership.vendor, membership.role) == (vendor, VendorStaff.Role.OWNER)
    assert (application.status, application.vendor, application.reviewer) == (Status.APPROVED, vendor, admin_user)
    assert application.status_history.get().to_status == Status.APPROVED
    notification = Notification.objects.get(user=application.applicant)
    assert (notification.type, notification.action_url) == (Notification.Type.APPLICATION, "/vendor/")
    assert AdminActivityLog.objects.get().action == "application.approved"
    assert access.user_vendor(user=application.applicant) == vendor


def test_approval_gives_a_clashing_name_a_numbered_slug(admin_user):
    factories.VendorFactory(name="Corner Bakery", slug="corner-bakery")
    factories.VendorFactory(name="Corner Bakery 2", slug="corner-bakery-2")
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW, business_name="Corner Bakery")

    assert services.application_approve(actor=admin_user, application=application).slug == "corner-bakery-3"


def test_approval_refuses_an_applicant_who_joined_another_vendor(admin_user, vendor, nothing_written):
    application = factories.VendorApplicationFactory(status=Status.UNDER_REVIEW)
    factories.VendorStaffFactory(vendor=vendor, user=application.applicant)

    with nothing_written(), pytest.raises(Conflict) as refusal:
        services.application_approve(actor=admin_user, application=application)

    assert refusal.value.code == "already_vendor_staff"
    application.refresh_from_db()
    assert application.status == Status.UNDER_REVIEW
    assert not Vendor.objects.filter(owner=application.applicant).exists()


def test_application_for_user_returns_the_latest_with_history(customer, admin_user):
    first = submit(customer)
    services.application_start_review(actor=admin_user, application=first)
    services.application_reject(actor=admin_user, application=first, reason="Incomplete")
    second = submit(customer, business_name="Second Try")

    found = selectors.application_for_user(user=customer)

    assert found == second
    assert [row.to_status for row in found.status_history.all()] == [Status.PENDING]
    assert VendorApplicationStatusHistory.objects.filter(application=first).count() == 3
    assert selectors.application_for_user(user=admin_user) is None
