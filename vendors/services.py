"""Writes for vendor applications, vendors and their staff."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Avg, Count
from django.utils.text import slugify

from accounts.models import AdminActivityLog, Notification, User
from accounts.services import (
    activity_log_record,
    notification_create,
    require_platform_admin,
    validate_choice,
    validate_coordinate,
    validate_email_address,
    validate_optional_text,
    validate_required_text,
)
from catalog.models import Review
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation

from .access import user_manages_vendor, user_owns_vendor
from .models import Vendor, VendorApplication, VendorApplicationStatusHistory, VendorStaff

Status = VendorApplication.Status
RATING_PLACES = Decimal("0.01")
VENDOR_PORTAL_URL = "/vendor/"
VENDOR_EDITABLE_FIELDS = ("name", "description", "address", "lat", "lng", "delivery_radius_km", "opening_status")

# What the applicant is told after each move of their application.
APPLICATION_NOTICES = {
    Status.PENDING: ("Application received", "We received your application for {name} and will review it soon."),
    Status.UNDER_REVIEW: ("Application under review", "Our team is reviewing your application for {name}."),
    Status.DOCUMENTS_REQUIRED: ("Documents required", "We need more documents for {name}: {reason}"),
    Status.APPROVED: ("Application approved", "{name} is approved: your vendor portal is open."),
    Status.REJECTED: ("Application rejected", "Your application for {name} was rejected: {reason}"),
}


# Applications ---------------------------------------------------------------------------------


def _clean_documents(documents) -> list[dict]:
    if documents is None:
        return []
    if not isinstance(documents, list):
        raise InvalidInput("documents must be a list of {name, url}.", code="invalid_documents", field="documents")
    url_validator = URLValidator(schemes=["https", "http"])
    cleaned = []
    for document in documents:
        name = document.get("name", "") if isinstance(document, dict) else ""
        url = document.get("url", "") if isinstance(document, dict) else ""
        try:
            if not isinstance(name, str) or not name.strip():
                raise ValidationError("no name")
            url_validator(url)
        except ValidationError:
            raise InvalidInput(
                "Each document needs a name and a web address.", code="invalid_documents", field="documents"
            ) from None
        cleaned.append({"name": name.strip(), "url": url})
    return cleaned


def _refuse_if_vendor_staff(user: User) -> None:
    if VendorStaff.objects.filter(user=user).exists():
        raise Conflict("This user already works for a vendor.", code="already_vendor_staff", field="user")


def _lock_for_move(application: VendorApplication, to_status: str, *, by_applicant: bool) -> VendorApplication:
    """Locks the row so two admins cannot move one application at once, and checks the table."""
    locked = VendorApplication.objects.select_for_update().get(pk=application.pk)
    from_status = locked.status
    legal = to_status in VendorApplication.TRANSITIONS[from_status] and (
        ((from_status, to_status) in VendorApplication.APPLICANT_MOVES) == by_applicant
    )
    if not legal:
        raise Conflict(
            f"An application cannot move from {from_status} to {to_status}.",
            code="illegal_transition",
            field="status",
            from_status=from_status,
            to_status=to_status,
        )
    return locked


def _record_move(application: VendorApplication, from_status: str, *, changed_by: User, reason: str = "") -> None:
    VendorApplicationStatusHistory.objects.create(
        application=application,
        from_status=from_status,
        to_status=application.status,
        changed_by=changed_by,
        reason=reason,
    )
    title, body = APPLICATION_NOTICES[application.status]
    notification_create(
        user=application.applicant,
        type=Notification.Type.APPLICATION,
        title=title,
        body=body.format(name=application.business_name, reason=reason),
        action_url=VENDOR_PORTAL_URL,
        data={"application_id": application.pk, "status": application.status},
    )


def _admin_move(
    *, actor: User, application: VendorApplication, to_status: str, reason: str = "", request_meta=None, vendor=None
) -> VendorApplication:
    from_status = application.status
    application.status = to_status
    application.reviewer = actor
    if reason:
        application.reason = reason
    if vendor is not None:
        application.vendor = vendor
    application.save()
    _record_move(application, from_status, changed_by=actor, reason=reason)
    activity_log_record(
        admin=actor,
        action=f"application.{to_status}",
        category=AdminActivityLog.Category.VENDOR,
        entity=application,
        details={"from_status": from_status, "to_status": to_status, "reason": reason},
        request_meta=request_meta,
    )
    return application


@transaction.atomic
def application_submit(
    *,
    applicant: User,
    business_name: str,
    business_type: str,
    contact_name: str,
    contact_email: str,
    address: str,
    company_number: str = "",
    contact_phone: str = "",
    lat=None,
    lng=None,
    description: str = "",
    documents=None,
) -> VendorApplication:
    business_name = validate_required_text(business_name, field="business_name", max_length=150)
    validate_choice(business_type, VendorApplication.BusinessType.choices, field="business_type")
    company_number = validate_optional_text(company_number, field="company_number", max_length=20)
    if business_type == VendorApplication.BusinessType.LIMITED_COMPANY and not company_number:
        raise InvalidInput("A limited company needs its company number.", code="required", field="company_number")
    contact_name = validate_required_text(contact_name, field="contact_name", max_length=150)
    contact_email = validate_email_address(contact_email, field="contact_email")
    contact_phone = validate_optional_text(contact_phone, field="contact_phone", max_length=32)
    address = validate_required_text(address, field="address")
    lat = validate_coordinate(lat, field="lat", limit=90)
    lng = validate_coordinate(lng, field="lng", limit=180)
    documents = _clean_documents(documents)

    # Locking the applicant serialises two submissions racing past the open-application check.
    User.objects.select_for_update().get(pk=applicant.pk)
    _refuse_if_vendor_staff(applicant)
    if applicant.vendor_applications.filter(status__in=VendorApplication.OPEN_STATUSES).exists():
        raise Conflict("You already have an application in progress.", code="application_open", field="applicant")
    application = VendorApplication.objects.create(
        applicant=applicant,
        business_name=business_name,
        business_type=business_type,
        company_number=company_number,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        address=address,
        lat=lat,
        lng=lng,
        description=(description or "").strip(),
        documents=documents,
    )
    _record_move(application, "", changed_by=applicant)
    return application


@transaction.atomic
def application_start_review(*, actor: User, application: VendorApplication, request_meta=None) -> VendorApplication:
    require_platform_admin(actor)
    locked = _lock_for_move(application, Status.UNDER_REVIEW, by_applicant=False)
    return _admin_move(actor=actor, application=locked, to_status=Status.UNDER_REVIEW, request_meta=request_meta)


def _admin_move_with_reason(
    *, actor: User, application: VendorApplication, to_status: str, reason: str, request_meta=None
) -> VendorApplication:
    """Asking for documents and rejecting both owe the applicant a reason."""
    require_platform_admin(actor)
    reason = validate_required_text(reason, field="reason")
    locked = _lock_for_move(application, to_status, by_applicant=False)
    return _admin_move(actor=actor, application=locked, to_status=to_status, reason=reason, request_meta=request_meta)


@transaction.atomic
def application_request_documents(
    *, actor: User, application: VendorApplication, reason: str, request_meta=None
) -> VendorApplication:
    return _admin_move_with_reason(
        actor=actor,
        application=application,
        to_status=Status.DOCUMENTS_REQUIRED,
        reason=reason,
        request_meta=request_meta,
    )


@transaction.atomic
def application_resubmit_documents(*, applicant: User, application: VendorApplication, documents) -> VendorApplication:
    if application.applicant_id != applicant.pk:
        raise NotFound("Application not found.", field="application")
    documents = _clean_documents(documents)
    if not documents:
        raise InvalidInput("Send at least one document.", code="required", field="documents")
    locked = _lock_for_move(application, Status.UNDER_REVIEW, by_applicant=True)
    from_status = locked.status
    locked.documents = [*locked.documents, *documents]
    locked.status = Status.UNDER_REVIEW
    locked.save()
    _record_move(locked, from_status, changed_by=applicant)
    return locked


def _unique_vendor_slug(name: str) -> str:
    base = slugify(name)[:150] or "vendor"
    slug, suffix = base, 1
    while Vendor.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    return slug


@transaction.atomic
def application_approve(*, actor: User, application: VendorApplication, request_meta=None) -> Vendor:
    """Opens the shop: the Vendor, its owner membership, the history row, the notice and the log
    all commit together or not at all."""
    require_platform_admin(actor)
    locked = _lock_for_move(application, Status.APPROVED, by_applicant=False)
    _refuse_if_vendor_staff(locked.applicant)
    vendor = Vendor.objects.create(
        owner=locked.applicant,
        name=locked.business_name,
        slug=_unique_vendor_slug(locked.business_name),
        description=locked.description,
        address=locked.address,
        lat=locked.lat,
        lng=locked.lng,
    )
    VendorStaff.objects.create(vendor=vendor, user=locked.applicant, role=VendorStaff.Role.OWNER)
    _admin_move(actor=actor, application=locked, to_status=Status.APPROVED, request_meta=request_meta, vendor=vendor)
    return vendor


@transaction.atomic
def application_reject(
    *, actor: User, application: VendorApplication, reason: str, request_meta=None
) -> VendorApplication:
    return _admin_move_with_reason(
        actor=actor, application=application, to_status=Status.REJECTED, reason=reason, request_meta=request_meta
    )


# Vendors and staff ----------------------------------------------------------------------------


def _require_vendor_manager(actor: User, vendor: Vendor) -> None:
    """Only the vendor's owners and platform admins manage its team; everyone else gets a 404."""
    if not user_owns_vendor(user=actor, vendor=vendor):
        raise NotFound("Vendor not found.", field="vendor")


def _log_vendor_action(actor: User, vendor: Vendor, action: str, details: dict, request_meta=None) -> None:
    if actor.is_staff:
        activity_log_record(
            admin=actor,
            action=action,
            category=AdminActivityLog.Category.VENDOR,
            entity=vendor,
            details=details,
            request_meta=request_meta,
        )


def _clean_radius(value) -> Decimal:
    try:
        radius = Decimal(str(value)).quantize(RATING_PLACES)
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            "delivery_radius_km must be a number.", code="invalid_number", field="delivery_radius_km"
        ) from None
    if radius <= 0 or radius >= 10_000:
        raise InvalidInput(
            "delivery_radius_km must be greater than 0 and below 10000.",
            code="out_of_range",
            field="delivery_radius_km",
        )
    return radius


@transaction.atomic
def vendor_update(*, actor: User, vendor: Vendor, request_meta=None, **fields) -> Vendor:
    unknown = sorted(set(fields) - set(VENDOR_EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be changed here.", code="unknown_field", field=unknown[0])
    if not user_manages_vendor(user=actor, vendor=vendor):
        raise NotFound("Vendor not found.", field="vendor")
    cleaners = {
        "name": lambda value: validate_required_text(value, field="name", max_length=150),
        "description": lambda value: (value or "").strip(),
        "address": lambda value: (value or "").strip(),
        "lat": lambda value: validate_coordinate(value, field="lat", limit=90),
        "lng": lambda value: validate_coordinate(value, field="lng", limit=180),
        "delivery_radius_km": _clean_radius,
        "opening_status": lambda value: validate_choice(value, Vendor.OpeningStatus.choices, field="opening_status"),
    }
    cleaned = {name: cleaners[name](value) for name, value in fields.items()}
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    for name, value in cleaned.items():
        setattr(vendor, name, value)
    vendor.save()
    details = {name: str(value) for name, value in cleaned.items()}
    _log_vendor_action(actor, vendor, "vendor.updated", details, request_meta)
    return vendor


@transaction.atomic
def vendor_set_active(*, actor: User, vendor: Vendor, active: bool, reason: str = "", request_meta=None) -> Vendor:
    require_platform_admin(actor)
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    if vendor.is_active != active:
        vendor.is_active = active
        vendor.save(update_fields=["is_active", "updated_at"])
        notification_create(
            user=vendor.owner,
            type=Notification.Type.SYSTEM,
            title=f"{vendor.name} was {'reactivated' if active else 'deactivated'}",
            body=reason,
            action_url=VENDOR_PORTAL_URL,
            data={"vendor_id": vendor.pk, "is_active": active},
        )
    _log_vendor_action(
        actor, vendor, "vendor.activated" if active else "vendor.deactivated", {"reason": reason}, request_meta
    )
    return vendor


@transaction.atomic
def vendor_staff_add(*, actor: User, vendor: Vendor, user: User, role: str = VendorStaff.Role.STAFF) -> VendorStaff:
    _require_vendor_manager(actor, vendor)
    validate_choice(role, VendorStaff.Role.choices, field="role")
    User.objects.select_for_update().get(pk=user.pk)
    _refuse_if_vendor_staff(user)
    membership = VendorStaff.objects.create(vendor=vendor, user=user, role=role)
    notification_create(
        user=user,
        type=Notification.Type.SYSTEM,
        title=f"You joined {vendor.name}",
        action_url=VENDOR_PORTAL_URL,
        data={"vendor_id": vendor.pk, "role": role},
    )
    _log_vendor_action(actor, vendor, "vendor.staff_added", {"user_id": user.pk, "role": role})
    return membership


@transaction.atomic
def vendor_staff_remove(*, actor: User, membership: VendorStaff) -> None:
    vendor = membership.vendor
    _require_vendor_manager(actor, vendor)
    if membership.user_id == vendor.owner_id:
        raise RuleViolation(
            "The vendor's owner cannot be removed from its team.", code="owner_membership", field="membership"
        )
    details = {"user_id": membership.user_id, "role": membership.role}
    membership.delete()
    _log_vendor_action(actor, vendor, "vendor.staff_removed", details)


@transaction.atomic
def vendor_rating_refresh(*, vendor: Vendor) -> Vendor:
    """Vendor reviews are the ones without a product; the row lock keeps two new reviews from
    overwriting each other's aggregate."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    stats = Review.objects.filter(vendor=vendor, product__isnull=True).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    average = stats["average"] or 0
    vendor.rating_avg = Decimal(str(average)).quantize(RATING_PLACES, rounding=ROUND_HALF_UP)
    vendor.rating_count = stats["count"]
    vendor.save(update_fields=["rating_avg", "rating_count", "updated_at"])
    return vendor
