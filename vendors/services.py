"""Writes for vendor applications, vendors and their staff."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.text import slugify

from accounts.models import AdminActivityLog, Notification, User
from accounts.services import (
    activity_log_record,
    notification_create,
    notification_create_for_vendor_staff,
    require_platform_admin,
    validate_choice,
    validate_coordinate,
    validate_email_address,
    validate_optional_text,
    validate_required_text,
)
from catalog.models import Review
from zora.errors import Conflict, InvalidInput, NotFound, RuleViolation
from zora.uploads import clean_document, clean_image, private_storage, public_storage
from zora.versions import ensure_unchanged

from .access import user_manages_vendor, user_owns_vendor
from .models import (
    ApplicationDocument,
    HolidayClosure,
    OpeningHours,
    Vendor,
    VendorApplication,
    VendorApplicationStatusHistory,
    VendorPause,
    VendorPortalPresence,
    VendorStaff,
)
from .schedule import WEEKDAY_NAMES, Opening, first_overlap, local_date
from .selectors import documents_requested_at, vendor_portal_last_seen, vendor_schedule

Status = VendorApplication.Status
OpeningStatus = Vendor.OpeningStatus
RATING_PLACES = Decimal("0.01")
VENDOR_PORTAL_URL = "/vendor/"
SHOP_STATUS_URL = "/vendor/shop/status/"
# The shop's public face and delivery area: its owners (and platform admins) change them.
VENDOR_EDITABLE_FIELDS = ("name", "description", "address", "lat", "lng", "delivery_radius_km", "logo")
DEFAULT_BUSY_EXTRA_MINUTES = 15
BUSY_EXTRA_MINUTES_RANGE = (5, 120)
# Longer than this is a holiday closure, which customers see coming.
LONGEST_PAUSE = timedelta(days=30)
PAUSE_REASON_MAX_LENGTH = 200
MAX_OPENINGS_PER_DAY = 6
LONGEST_HOLIDAY_DAYS = 366
# A shop seen again within this long of its last sighting is not written again.
SIGHTING_RESOLUTION = timedelta(seconds=60)
UNATTENDED_PAUSE_REASON = "Paused automatically: no portal was open for {minutes} minutes"
MAX_APPLICATION_DOCUMENTS = 20
# What the review team reads: PDFs and photos of paperwork (by the extension the content was detected as).
DOCUMENT_CONTENT_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}

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


def _lock_for_move(
    application: VendorApplication, to_status: str, *, by_applicant: bool, seen_version: str | None = None
) -> VendorApplication:
    """Locks the row so two admins cannot move one application at once, refuses a move decided on
    a state that has changed since (`seen_version`), and checks the table."""
    locked = VendorApplication.objects.select_for_update().get(pk=application.pk)
    ensure_unchanged(entity=locked, seen_version=seen_version)
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
def application_start_review(
    *, actor: User, application: VendorApplication, request_meta=None, seen_version: str | None = None
) -> VendorApplication:
    require_platform_admin(actor)
    locked = _lock_for_move(application, Status.UNDER_REVIEW, by_applicant=False, seen_version=seen_version)
    return _admin_move(actor=actor, application=locked, to_status=Status.UNDER_REVIEW, request_meta=request_meta)


def _admin_move_with_reason(
    *, actor: User, application: VendorApplication, to_status: str, reason: str, request_meta=None, seen_version=None
) -> VendorApplication:
    """Asking for documents and rejecting both owe the applicant a reason."""
    require_platform_admin(actor)
    reason = validate_required_text(reason, field="reason")
    locked = _lock_for_move(application, to_status, by_applicant=False, seen_version=seen_version)
    return _admin_move(actor=actor, application=locked, to_status=to_status, reason=reason, request_meta=request_meta)


@transaction.atomic
def application_request_documents(
    *, actor: User, application: VendorApplication, reason: str, request_meta=None, seen_version: str | None = None
) -> VendorApplication:
    return _admin_move_with_reason(
        actor=actor,
        application=application,
        to_status=Status.DOCUMENTS_REQUIRED,
        reason=reason,
        request_meta=request_meta,
        seen_version=seen_version,
    )


def _require_applicant(applicant: User, application: VendorApplication) -> None:
    if application.applicant_id != applicant.pk:
        raise NotFound("Application not found.", field="application")


def _uploaded_since_request(application: VendorApplication):
    """The files that answer the team's latest request for documents."""
    requested_at = documents_requested_at(application=application)
    uploads = application.uploaded_documents.all()
    return uploads if requested_at is None else uploads.filter(uploaded_at__gt=requested_at)


@transaction.atomic
def application_resubmit_documents(
    *, applicant: User, application: VendorApplication, documents=None
) -> VendorApplication:
    """Sends the application back to review with new links (`documents`), new uploads, or both."""
    _require_applicant(applicant, application)
    documents = _clean_documents(documents)
    locked = _lock_for_move(application, Status.UNDER_REVIEW, by_applicant=True)
    if not documents and not _uploaded_since_request(locked).exists():
        raise InvalidInput("Upload or link at least one document first.", code="required", field="documents")
    from_status = locked.status
    locked.documents = [*locked.documents, *documents]
    locked.status = Status.UNDER_REVIEW
    locked.save()
    _record_move(locked, from_status, changed_by=applicant)
    return locked


def _own_application_locked(applicant: User, application: VendorApplication) -> VendorApplication:
    _require_applicant(applicant, application)
    locked = VendorApplication.objects.select_for_update().get(pk=application.pk)
    if locked.status != Status.DOCUMENTS_REQUIRED:
        raise RuleViolation(
            "Documents can be changed only while the team is asking for them.",
            code="documents_not_requested",
            field="application",
            status=locked.status,
        )
    return locked


def _download_name(client_name: str, extension: str) -> str:
    """The applicant's own name for the file, with the extension of what it really is."""
    stem = PurePosixPath((client_name or "").replace("\\", "/")).stem
    stem = "".join(char for char in stem if char.isprintable()).strip()[:150] or "document"
    return f"{stem}{extension}"


@transaction.atomic
def application_document_upload(*, applicant: User, application: VendorApplication, upload) -> ApplicationDocument:
    """Keeps an uploaded PDF, PNG or JPEG with the application, in private storage."""
    _require_applicant(applicant, application)
    cleaned = clean_document(upload, field="file")
    extension = PurePosixPath(cleaned.name).suffix
    if extension not in DOCUMENT_CONTENT_TYPES:
        raise InvalidInput("file must be a PDF, PNG or JPEG.", code="unsupported_file_type", field="file")
    locked = _own_application_locked(applicant, application)
    if locked.uploaded_documents.count() >= MAX_APPLICATION_DOCUMENTS:
        raise RuleViolation(
            f"An application holds at most {MAX_APPLICATION_DOCUMENTS} files; remove one first.",
            code="too_many_documents",
            field="file",
        )
    return ApplicationDocument.objects.create(
        application=locked,
        file=cleaned,
        name=_download_name(upload.name, extension),
        content_type=DOCUMENT_CONTENT_TYPES[extension],
        size=cleaned.size,
    )


@transaction.atomic
def application_document_remove(*, applicant: User, document: ApplicationDocument) -> None:
    """Takes back a file not yet sent; what the team already reviewed stays on the record."""
    locked = _own_application_locked(applicant, document.application)
    if not _uploaded_since_request(locked).filter(pk=document.pk).exists():
        raise RuleViolation(
            "This document was already sent to the team and stays with the application.",
            code="document_already_sent",
            field="document",
        )
    stored_name = document.file.name
    document.delete()
    transaction.on_commit(lambda: private_storage().delete(stored_name))


def _unique_vendor_slug(name: str) -> str:
    base = slugify(name)[:150] or "vendor"
    slug, suffix = base, 1
    while Vendor.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base}-{suffix}"
    return slug


@transaction.atomic
def application_approve(
    *, actor: User, application: VendorApplication, request_meta=None, seen_version: str | None = None
) -> Vendor:
    """Opens the shop: the Vendor, its owner membership, the history row, the notice and the log
    all commit together or not at all."""
    require_platform_admin(actor)
    locked = _lock_for_move(application, Status.APPROVED, by_applicant=False, seen_version=seen_version)
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
    *, actor: User, application: VendorApplication, reason: str, request_meta=None, seen_version: str | None = None
) -> VendorApplication:
    return _admin_move_with_reason(
        actor=actor,
        application=application,
        to_status=Status.REJECTED,
        reason=reason,
        request_meta=request_meta,
        seen_version=seen_version,
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


def _clean_logo(value):
    """A fresh copy of the uploaded image (checked by content, metadata stripped), or "" to remove it."""
    return clean_image(value, field="logo") if value else ""


def _require_vendor_owner(actor: User, vendor: Vendor) -> None:
    if user_owns_vendor(user=actor, vendor=vendor):
        return
    if user_manages_vendor(user=actor, vendor=vendor):
        raise RuleViolation("Only the shop's owner can change its profile.", code="owner_only", field="vendor")
    raise NotFound("Vendor not found.", field="vendor")


@transaction.atomic
def vendor_update(*, actor: User, vendor: Vendor, request_meta=None, **fields) -> Vendor:
    """The shop's profile; `logo` takes an uploaded image, or None to remove it."""
    unknown = sorted(set(fields) - set(VENDOR_EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be changed here.", code="unknown_field", field=unknown[0])
    _require_vendor_owner(actor, vendor)
    cleaners = {
        "name": lambda value: validate_required_text(value, field="name", max_length=150),
        "description": lambda value: (value or "").strip(),
        "address": lambda value: (value or "").strip(),
        "lat": lambda value: validate_coordinate(value, field="lat", limit=90),
        "lng": lambda value: validate_coordinate(value, field="lng", limit=180),
        "delivery_radius_km": _clean_radius,
        "logo": _clean_logo,
    }
    cleaned = {name: cleaners[name](value) for name, value in fields.items()}
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    replaced_logo = vendor.logo.name if "logo" in cleaned else ""
    for name, value in cleaned.items():
        setattr(vendor, name, value)
    vendor.save()
    if replaced_logo and replaced_logo != vendor.logo.name:
        transaction.on_commit(lambda: public_storage().delete(replaced_logo))
    details = {name: vendor.logo.name if name == "logo" else str(value) for name, value in cleaned.items()}
    _log_vendor_action(actor, vendor, "vendor.updated", details, request_meta)
    return vendor


# Shop status: open, busy, paused --------------------------------------------------------------


def _parsed(parse, value):
    """Django's parsers return None for a malformed value but raise for a well-formed impossible one."""
    try:
        return parse(str(value or ""))
    except ValueError:
        return None


def _clean_pause_end(value, *, now: datetime) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else _parsed(parse_datetime, value)
    if moment is None:
        raise InvalidInput("paused_until must be a date and time.", code="invalid_datetime", field="paused_until")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment <= now:
        raise InvalidInput("paused_until must be in the future.", code="in_the_past", field="paused_until")
    if moment > now + LONGEST_PAUSE:
        raise InvalidInput(
            f"A pause lasts at most {LONGEST_PAUSE.days} days; for longer, add a holiday closure.",
            code="pause_too_long",
            field="paused_until",
        )
    return moment


def _clean_busy_minutes(value) -> int:
    low, high = BUSY_EXTRA_MINUTES_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"busy_extra_minutes must be a whole number of minutes from {low} to {high}.",
            code="out_of_range",
            field="busy_extra_minutes",
        )
    return value


def _apply_opening_status(
    vendor: Vendor,
    opening_status: str,
    *,
    busy_extra_minutes=0,
    paused_until=None,
    pause_reason="",
    unattended=False,
    now: datetime | None = None,
) -> None:
    """The one place the four status columns change, so they always agree (and the constraints hold),
    and where a pause's start and end are recorded for the shop's health figures. `vendor` is locked."""
    now = now or timezone.now()
    was_paused = vendor.opening_status == OpeningStatus.CLOSED
    if was_paused and opening_status != OpeningStatus.CLOSED:
        ended = min(now, vendor.paused_until) if vendor.paused_until else now
        VendorPause.objects.filter(vendor=vendor, ended_at__isnull=True).update(ended_at=ended)
    elif opening_status == OpeningStatus.CLOSED and not was_paused:
        VendorPause.objects.create(vendor=vendor, started_at=now, unattended=unattended)
    vendor.opening_status = opening_status
    vendor.busy_extra_minutes = busy_extra_minutes
    vendor.paused_until = paused_until
    vendor.pause_reason = pause_reason


@transaction.atomic
def vendor_set_status(
    *,
    actor: User,
    vendor: Vendor,
    opening_status: str,
    busy_extra_minutes=None,
    paused_until=None,
    pause_reason: str = "",
    request_meta=None,
) -> Vendor:
    """Open; busy, adding `busy_extra_minutes` to prep times; or closed (paused) until `paused_until`,
    or until someone opens it again when that is None. Any member of the team may do it."""
    if not user_manages_vendor(user=actor, vendor=vendor):
        raise NotFound("Vendor not found.", field="vendor")
    validate_choice(opening_status, OpeningStatus.choices, field="opening_status")
    if busy_extra_minutes is not None and opening_status != OpeningStatus.BUSY:
        raise InvalidInput("busy_extra_minutes applies only to busy.", code="not_busy", field="busy_extra_minutes")
    if (paused_until or pause_reason) and opening_status != OpeningStatus.CLOSED:
        field = "paused_until" if paused_until else "pause_reason"
        raise InvalidInput(f"{field} applies only to a paused shop.", code="not_paused", field=field)
    status = {}
    if opening_status == OpeningStatus.BUSY:
        extra = DEFAULT_BUSY_EXTRA_MINUTES if busy_extra_minutes is None else busy_extra_minutes
        status["busy_extra_minutes"] = _clean_busy_minutes(extra)
    elif opening_status == OpeningStatus.CLOSED:
        status["paused_until"] = _clean_pause_end(paused_until, now=timezone.now())
        status["pause_reason"] = validate_optional_text(
            pause_reason, field="pause_reason", max_length=PAUSE_REASON_MAX_LENGTH
        )
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _apply_opening_status(vendor, opening_status, **status)
    vendor.save()
    details = {"opening_status": opening_status, **{name: str(value) for name, value in status.items()}}
    _log_vendor_action(actor, vendor, "vendor.status_changed", details, request_meta)
    return vendor


@transaction.atomic
def vendor_resume_due(*, vendor_id: int, now: datetime) -> bool:
    """Ends a pause whose time has come; False when it is not due (any more) or another process has it."""
    vendor = (
        Vendor.objects.select_for_update(skip_locked=True)
        .filter(pk=vendor_id, opening_status=OpeningStatus.CLOSED, paused_until__lte=now)
        .first()
    )
    if vendor is None:
        return False
    _apply_opening_status(vendor, OpeningStatus.OPEN, now=now)
    vendor.save()
    return True


@transaction.atomic
def portal_sightings_record(*, vendor_ids: Iterable[int], now: datetime) -> int:
    """Notes that these shops have a portal tab open now. A shop noted less than a minute ago is
    not written again, so the sweep costs at most one write per shop per minute. The table is not
    published, so a bulk write emits no events and needs none."""
    vendor_ids = set(vendor_ids)
    if not vendor_ids:
        return 0
    updated = VendorPortalPresence.objects.filter(
        vendor_id__in=vendor_ids, last_seen_at__lte=now - SIGHTING_RESOLUTION
    ).update(last_seen_at=now)
    known = set(VendorPortalPresence.objects.filter(vendor_id__in=vendor_ids).values_list("vendor_id", flat=True))
    created = VendorPortalPresence.objects.bulk_create(
        [VendorPortalPresence(vendor_id=vendor_id, last_seen_at=now) for vendor_id in vendor_ids - known],
        ignore_conflicts=True,
    )
    return updated + len(created)


@transaction.atomic
def vendor_pause_unattended(*, vendor_id: int, now: datetime, watched_since: datetime) -> bool:
    """Pauses a shop taking orders that nobody could see: no portal tab for
    VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES of its opening hours. Time before the
    current opening began, or before this process started watching presence
    (`watched_since`), does not count. The shop stays paused until its team
    opens it again, and they are told why."""
    minutes = settings.VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES
    if not minutes:
        return False
    vendor = (
        Vendor.objects.select_for_update(skip_locked=True)
        .filter(pk=vendor_id, is_active=True, opening_status__in=[OpeningStatus.OPEN, OpeningStatus.BUSY])
        .first()
    )
    last_seen = None if vendor is None else vendor_portal_last_seen(vendor=vendor)
    if last_seen is None:
        return False
    opened_at = vendor_schedule(vendor=vendor).open_since(now)
    if opened_at is None:
        return False
    unattended_since = max(last_seen, watched_since, opened_at)
    if now - unattended_since < timedelta(minutes=minutes):
        return False
    reason = UNATTENDED_PAUSE_REASON.format(minutes=minutes)
    _apply_opening_status(vendor, OpeningStatus.CLOSED, pause_reason=reason, unattended=True, now=now)
    vendor.save()
    notification_create_for_vendor_staff(
        vendor=vendor,
        type=Notification.Type.SYSTEM,
        title=f"{vendor.name} stopped taking orders",
        body=f"{reason}. Open the shop again from its status page.",
        action_url=SHOP_STATUS_URL,
        data={"vendor_id": vendor.pk, "opening_status": vendor.opening_status},
    )
    return True


# Opening hours and holiday closures ------------------------------------------------------------


def _touch_vendor(vendor: Vendor) -> None:
    """Its hours changed: a `vendors` event tells the app and the portal pages to look again."""
    vendor.save(update_fields=["updated_at"])


def _clean_time(value, *, field: str, index: int) -> time:
    moment = value if isinstance(value, time) else _parsed(parse_time, value)
    if moment is None:
        raise InvalidInput(f"{field} must be a time such as 09:00.", code="invalid_time", field=field, index=index)
    return moment.replace(second=0, microsecond=0)


def _clean_opening(item: Mapping, index: int) -> Opening:
    weekday = item.get("weekday")
    if isinstance(weekday, bool) or weekday not in range(7):
        raise InvalidInput(
            "weekday must be 0 (Monday) to 6 (Sunday).", code="invalid_weekday", field="weekday", index=index
        )
    opens_at = _clean_time(item.get("opens_at"), field="opens_at", index=index)
    closes_at = _clean_time(item.get("closes_at"), field="closes_at", index=index)
    if opens_at == closes_at:
        raise InvalidInput(
            "closes_at must differ from opens_at (a closing time before the opening time means the next day).",
            code="empty_opening",
            field="closes_at",
            index=index,
        )
    return Opening(weekday, opens_at, closes_at)


@transaction.atomic
def opening_hours_set(*, actor: User, vendor: Vendor, openings: Iterable[Mapping]) -> list[OpeningHours]:
    """Replaces the whole week at once: a shop never has half of its new hours. Each opening is
    {weekday, opens_at, closes_at}; an empty week means no hours, so always open. Refusals carry
    the `index` of the opening at fault."""
    if not user_manages_vendor(user=actor, vendor=vendor):
        raise NotFound("Vendor not found.", field="vendor")
    cleaned = [_clean_opening(item, index) for index, item in enumerate(openings)]
    for index, opening in enumerate(cleaned):
        if sum(other.weekday == opening.weekday for other in cleaned[: index + 1]) > MAX_OPENINGS_PER_DAY:
            raise InvalidInput(
                f"{WEEKDAY_NAMES[opening.weekday]} has more than {MAX_OPENINGS_PER_DAY} openings.",
                code="too_many_openings",
                field="weekday",
                index=index,
            )
    overlap = first_overlap(cleaned)
    if overlap is not None:
        earlier, later = overlap
        raise InvalidInput(
            f"{cleaned[later].describe()} overlaps {cleaned[earlier].describe()}.",
            code="overlapping_hours",
            field="opens_at",
            index=later,
        )
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    vendor.opening_hours.all().delete()
    rows = OpeningHours.objects.bulk_create(
        OpeningHours(vendor=vendor, weekday=opening.weekday, opens_at=opening.opens_at, closes_at=opening.closes_at)
        for opening in cleaned
    )
    _touch_vendor(vendor)
    return sorted(rows, key=lambda row: (row.weekday, row.opens_at))


def _clean_date(value, *, field: str) -> date:
    day = value if isinstance(value, date) else _parsed(parse_date, value)
    if day is None or isinstance(day, datetime):
        raise InvalidInput(f"{field} must be a date such as 2025-12-25.", code="invalid_date", field=field)
    return day


def _day_month(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@transaction.atomic
def holiday_closure_add(*, actor: User, vendor: Vendor, starts_on, ends_on, reason: str = "") -> HolidayClosure:
    """Closes the shop on whole days, both ends included, whatever its weekly hours say."""
    if not user_manages_vendor(user=actor, vendor=vendor):
        raise NotFound("Vendor not found.", field="vendor")
    starts_on = _clean_date(starts_on, field="starts_on")
    ends_on = _clean_date(ends_on, field="ends_on")
    if ends_on < starts_on:
        raise InvalidInput("ends_on must be on or after starts_on.", code="ends_before_start", field="ends_on")
    if ends_on < local_date(timezone.now()):
        raise InvalidInput("This closure would already be over.", code="in_the_past", field="ends_on")
    if (ends_on - starts_on).days >= LONGEST_HOLIDAY_DAYS:
        raise InvalidInput(
            f"A closure lasts at most {LONGEST_HOLIDAY_DAYS} days.", code="closure_too_long", field="ends_on"
        )
    reason = validate_optional_text(reason, field="reason", max_length=200)
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    clash = vendor.holiday_closures.filter(starts_on__lte=ends_on, ends_on__gte=starts_on).first()
    if clash is not None:
        raise Conflict(
            f"It overlaps the closure from {_day_month(clash.starts_on)} to {_day_month(clash.ends_on)}.",
            code="overlapping_closure",
            field="starts_on",
            closure_id=clash.pk,
        )
    closure = HolidayClosure.objects.create(vendor=vendor, starts_on=starts_on, ends_on=ends_on, reason=reason)
    _touch_vendor(vendor)
    return closure


@transaction.atomic
def holiday_closure_remove(*, actor: User, closure: HolidayClosure) -> None:
    if not user_manages_vendor(user=actor, vendor=closure.vendor):
        raise NotFound("No such closure.", field="closure")
    vendor = Vendor.objects.select_for_update().get(pk=closure.vendor_id)
    closure.delete()
    _touch_vendor(vendor)


@transaction.atomic
def vendor_set_active(
    *, actor: User, vendor: Vendor, active: bool, reason: str = "", seen_version=None, request_meta=None
) -> Vendor:
    """Suspends or reactivates a shop: a suspended one takes no orders and its team's portal closes
    (their open sockets follow through the access events)."""
    require_platform_admin(actor)
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    ensure_unchanged(entity=vendor, seen_version=seen_version)
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
