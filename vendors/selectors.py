"""Reads for vendors, their staff and vendor applications."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.services import validate_choice
from zora.errors import NotFound

from .models import (
    ApplicationDocument,
    HolidayClosure,
    Vendor,
    VendorApplication,
    VendorApplicationStatusHistory,
    VendorPause,
    VendorPortalPresence,
)
from .schedule import Opening, Schedule, describe_moment, local_date, local_midnight


def application_for_user(*, user: User) -> VendorApplication | None:
    """The user's latest application, with its history in order, for the applicant's status page."""
    return (
        VendorApplication.objects.filter(applicant=user)
        .select_related("vendor", "reviewer")
        .prefetch_related(
            Prefetch(
                "status_history",
                queryset=VendorApplicationStatusHistory.objects.select_related("changed_by"),
            ),
            "uploaded_documents",
        )
        .order_by("-created_at", "-id")
        .first()
    )


def application_list(*, status: str | None = None) -> QuerySet[VendorApplication]:
    applications = VendorApplication.objects.select_related("applicant", "reviewer", "vendor")
    if status:
        applications = applications.filter(status=status)
    return applications


def application_status_counts() -> dict[str, int]:
    """How many applications are in each status (every status present, zero or not), for the queue's tabs."""
    counts = dict.fromkeys(VendorApplication.Status.values, 0)
    rows = VendorApplication.objects.order_by().values_list("status").annotate(count=Count("id"))
    counts.update(dict(rows))
    return counts


def application_queue(*, status: str | None = None) -> QuerySet[VendorApplication]:
    """The review queue: open applications longest-waiting first, decided ones latest first."""
    applications = application_list(status=status)
    if status in VendorApplication.OPEN_STATUSES:
        return applications.order_by("created_at", "id")
    return applications.order_by("-updated_at", "-id")


def application_details() -> QuerySet[VendorApplication]:
    """Applications with what their review page shows: people, shop, history with who moved it, files."""
    return VendorApplication.objects.select_related("applicant", "reviewer", "vendor").prefetch_related(
        Prefetch("status_history", queryset=VendorApplicationStatusHistory.objects.select_related("changed_by")),
        "uploaded_documents",
    )


def application_admin_moves(*, application: VendorApplication) -> list[str]:
    """The statuses a platform admin may move the application to now (the applicant's own move excluded)."""
    return [
        status
        for status in VendorApplication.Status.values
        if status in VendorApplication.TRANSITIONS[application.status]
        and (application.status, status) not in VendorApplication.APPLICANT_MOVES
    ]


def documents_requested_at(*, application: VendorApplication) -> datetime | None:
    """When the team last asked for documents: what the applicant uploaded since answers that request."""
    return (
        application.status_history.filter(to_status=VendorApplication.Status.DOCUMENTS_REQUIRED)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )


def application_document_for(*, user: User, document_id) -> ApplicationDocument:
    """A document for its applicant and the platform team; for anyone else it does not exist."""
    document = None
    if user.is_authenticated:
        documents = ApplicationDocument.objects.select_related("application")
        if not user.is_staff:
            documents = documents.filter(application__applicant=user)
        document = documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound("No such document.", field="document")
    return document


# Opening hours and "open now" ------------------------------------------------------------------


@dataclass(frozen=True)
class OpenState:
    """Whether a shop takes orders at a moment; if not, why (for customers) and when it opens next."""

    is_open: bool
    reason: str = ""
    opens_next: datetime | None = None


def vendors_with_schedule(vendors: QuerySet[Vendor]) -> QuerySet[Vendor]:
    """`vendors` with what `vendor_open_state` reads prefetched: two queries for a whole page."""
    recent = local_date(timezone.now()) - timedelta(days=1)
    return vendors.prefetch_related(
        "opening_hours", Prefetch("holiday_closures", queryset=HolidayClosure.objects.filter(ends_on__gte=recent))
    )


def vendor_schedule(*, vendor: Vendor) -> Schedule:
    return Schedule(
        (Opening(hours.weekday, hours.opens_at, hours.closes_at) for hours in vendor.opening_hours.all()),
        ((closure.starts_on, closure.ends_on) for closure in vendor.holiday_closures.all()),
    )


def vendor_is_paused(vendor: Vendor, *, at: datetime) -> bool:
    """Paused by hand: closed, with no end or an end still ahead (a due end counts as over before
    the sweep gets to it)."""
    return vendor.opening_status == Vendor.OpeningStatus.CLOSED and (
        vendor.paused_until is None or vendor.paused_until > at
    )


@dataclass(frozen=True)
class PausedTime:
    """How long a shop was paused within a window, by its team and automatically (no portal open)."""

    by_team: timedelta
    unattended: timedelta

    @property
    def total(self) -> timedelta:
        return self.by_team + self.unattended


def vendor_paused_time(*, vendor: Vendor, since: datetime, now: datetime | None = None) -> PausedTime:
    """Each pause clipped to [since, now]; one still running ends now, or at its due end if that passed."""
    now = now or timezone.now()
    totals = {True: timedelta(), False: timedelta()}
    pauses = (
        VendorPause.objects.filter(vendor=vendor, started_at__lt=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
        .select_related("vendor")  # the running pause's due end as stored now, not as the caller last read it
    )
    for pause in pauses:
        due = pause.vendor.paused_until
        end = pause.ended_at or (min(now, due) if due else now)
        start = max(pause.started_at, since)
        if end > start:
            totals[pause.unattended] += end - start
    return PausedTime(by_team=totals[False], unattended=totals[True])


def vendor_open_state(*, vendor: Vendor, at: datetime | None = None) -> OpenState:
    """Open means active, not paused, inside the weekly hours (none set: always) and not on a holiday."""
    now = at or timezone.now()
    if not vendor.is_active:
        return OpenState(False, "Not trading on Zora at the moment")
    schedule = vendor_schedule(vendor=vendor)
    if vendor_is_paused(vendor, at=now):
        if vendor.paused_until is None:
            return OpenState(False, "Paused by the shop")
        until = describe_moment(vendor.paused_until, now=now)
        return OpenState(False, f"Paused until {until}", schedule.next_open(vendor.paused_until))
    opens_next = schedule.next_open(now)
    if opens_next == now:
        return OpenState(True)
    closed = "Closed for a holiday" if schedule.holiday_end(local_date(now)) else "Closed"
    if opens_next is None:
        return OpenState(False, closed)
    return OpenState(False, f"{closed} until {describe_moment(opens_next, now=now)}", opens_next)


def vendor_is_open_now(*, vendor: Vendor, at: datetime | None = None) -> bool:
    return vendor_open_state(vendor=vendor, at=at).is_open


def holiday_closures_ahead(*, vendor: Vendor, at: datetime | None = None) -> QuerySet[HolidayClosure]:
    """The closures not yet over, for the shop's own list."""
    return vendor.holiday_closures.filter(ends_on__gte=local_date(at or timezone.now()))


# Portal presence --------------------------------------------------------------------------------


def vendor_portal_last_seen(*, vendor: Vendor) -> datetime | None:
    """When a portal tab of the shop was last seen connected (to the minute), None if never."""
    return VendorPortalPresence.objects.filter(vendor=vendor).values_list("last_seen_at", flat=True).first()


def vendors_unattended(*, since: datetime) -> QuerySet[Vendor]:
    """Shops taking orders whose portal was last seen at or before `since`. A shop that never opened
    the portal is left alone: nothing says anyone there relies on it."""
    return Vendor.objects.filter(
        is_active=True,
        opening_status__in=[Vendor.OpeningStatus.OPEN, Vendor.OpeningStatus.BUSY],
        portal_presence__last_seen_at__lte=since,
    )


# The platform team's list of shops --------------------------------------------------------------

ADMIN_VENDOR_STATES = {
    "": Q(),
    "active": Q(is_active=True),
    "suspended": Q(is_active=False),
    "open": Q(is_active=True, opening_status=Vendor.OpeningStatus.OPEN),
    "busy": Q(is_active=True, opening_status=Vendor.OpeningStatus.BUSY),
    "paused": Q(is_active=True, opening_status=Vendor.OpeningStatus.CLOSED),
}


def vendor_search_for_admin(*, search: str = "", state: str = "", now: datetime | None = None) -> QuerySet[Vendor]:
    """Every shop by name, with how many orders it took since local midnight (`orders_today`)."""
    validate_choice(state, [(name, name) for name in ADMIN_VENDOR_STATES], field="state")
    midnight = local_midnight(local_date(now or timezone.now()))
    vendors = Vendor.objects.filter(ADMIN_VENDOR_STATES[state]).select_related("owner", "portal_presence")
    search = search.strip()
    if search:
        vendors = vendors.filter(Q(name__icontains=search) | Q(owner__email__icontains=search))
    return vendors.annotate(orders_today=Count("orders", filter=Q(orders__created_at__gte=midnight))).order_by(
        "name", "id"
    )
