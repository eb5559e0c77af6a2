from decimal import Decimal

from django.conf import settings
from django.db import models

from zora.uploads import RandomName, private_storage, public_storage


class Vendor(models.Model):
    """A shop. Created only by approving a vendor application.

    `opening_status` is what the shop's team set by hand: open, busy (orders
    take `busy_extra_minutes` longer) or closed, which the portal calls
    paused: until `paused_until`, or until someone opens it again when that
    is empty. Whether the shop takes orders right now also depends on its
    opening hours and holiday closures (`selectors.vendor_open_state`).
    """

    class OpeningStatus(models.TextChoices):
        OPEN = "open"
        BUSY = "busy"
        CLOSED = "closed", "Paused"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_vendors")
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160, unique=True)
    description = models.TextField(blank=True)
    address = models.TextField(blank=True)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    delivery_radius_km = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("5.00"))
    opening_status = models.CharField(max_length=10, choices=OpeningStatus.choices, default=OpeningStatus.OPEN)
    busy_extra_minutes = models.PositiveSmallIntegerField(default=0, help_text="Added to prep times while busy.")
    paused_until = models.DateTimeField(null=True, blank=True, help_text="When a pause ends by itself.")
    pause_reason = models.CharField(
        max_length=200, blank=True, help_text="For the shop's team, never shown to customers."
    )
    logo = models.ImageField(upload_to=RandomName("vendors/logos"), storage=public_storage, blank=True)
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    rating_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(delivery_radius_km__gt=0), name="vendor_radius_positive"),
            models.CheckConstraint(
                condition=models.Q(rating_avg__gte=0, rating_avg__lte=5), name="vendor_rating_range"
            ),
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True) | models.Q(lat__gte=-90, lat__lte=90), name="vendor_lat_range"
            ),
            models.CheckConstraint(
                condition=models.Q(lng__isnull=True) | models.Q(lng__gte=-180, lng__lte=180), name="vendor_lng_range"
            ),
            models.CheckConstraint(
                condition=models.Q(opening_status="busy") | models.Q(busy_extra_minutes=0),
                name="vendor_extra_minutes_only_when_busy",
            ),
            models.CheckConstraint(
                condition=models.Q(opening_status="closed") | models.Q(paused_until__isnull=True, pause_reason=""),
                name="vendor_pause_only_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "name"]), models.Index(fields=["opening_status", "paused_until"])]

    def __str__(self):
        return self.name

    @property
    def logo_url(self) -> str | None:
        """Site-relative, as the `vendors` table publishes it."""
        return self.logo.url if self.logo else None


class OpeningHours(models.Model):
    """One opening of the weekly hours; a day may have several. A closing time at or before the
    opening time is on the next day (a takeaway open 18:00-02:00)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="opening_hours_weekday_range"),
            models.CheckConstraint(condition=~models.Q(opens_at=models.F("closes_at")), name="opening_hours_not_empty"),
            models.UniqueConstraint(fields=["vendor", "weekday", "opens_at"], name="opening_hours_one_per_start"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class HolidayClosure(models.Model):
    """Whole days (both ends included) on which the shop is closed whatever its weekly hours say."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="holiday_closures")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="holiday_closure_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["vendor", "ends_on"])]

    def __str__(self):
        return f"{self.vendor}: closed {self.starts_on} to {self.ends_on}"


class VendorPortalPresence(models.Model):
    """When a portal tab of the shop was last seen connected: presence only knows who is there now.

    Not published and written at most once a minute per shop, so keeping it
    costs the event stream nothing.
    """

    vendor = models.OneToOneField(Vendor, on_delete=models.CASCADE, primary_key=True, related_name="portal_presence")
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "vendor portal presence"

    def __str__(self):
        return f"{self.vendor}: portal last seen {self.last_seen_at:%Y-%m-%d %H:%M}"


class VendorPause(models.Model):
    """One stretch of time a shop was paused: by its team, or automatically because no portal tab
    was open (`unattended`). Health figures sum these; the Vendor row only knows the current state."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the shop is still paused.")
    unattended = models.BooleanField(default=False, help_text="Paused by the heartbeat, not by the team.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["vendor", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor"], condition=models.Q(ended_at__isnull=True), name="vendor_one_open_pause"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="vendor_pause_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.vendor}: paused {self.started_at:%Y-%m-%d %H:%M}"


class VendorStaff(models.Model):
    """Membership of a user in a vendor's team. A user works for at most one vendor."""

    class Role(models.TextChoices):
        OWNER = "owner"
        STAFF = "staff"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="staff")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_membership")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "vendor staff"

    def __str__(self):
        return f"{self.user} ({self.role} of {self.vendor})"


class VendorApplication(models.Model):
    class BusinessType(models.TextChoices):
        SOLE_TRADER = "sole_trader"
        LIMITED_COMPANY = "limited_company"
        PARTNERSHIP = "partnership"
        OTHER = "other"

    class Status(models.TextChoices):
        PENDING = "pending"
        UNDER_REVIEW = "under_review"
        DOCUMENTS_REQUIRED = "documents_required"
        APPROVED = "approved"
        REJECTED = "rejected"

    # The one explicit transition table: every legal move of an application.
    TRANSITIONS = {
        Status.PENDING: {Status.UNDER_REVIEW},
        Status.UNDER_REVIEW: {Status.DOCUMENTS_REQUIRED, Status.APPROVED, Status.REJECTED},
        Status.DOCUMENTS_REQUIRED: {Status.UNDER_REVIEW},
        Status.APPROVED: set(),
        Status.REJECTED: set(),
    }
    # The moves the applicant makes (sending the requested documents); platform admins make all others.
    APPLICANT_MOVES = {(Status.DOCUMENTS_REQUIRED, Status.UNDER_REVIEW)}
    OPEN_STATUSES = {Status.PENDING, Status.UNDER_REVIEW, Status.DOCUMENTS_REQUIRED}

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_applications"
    )
    business_name = models.CharField(max_length=150)
    business_type = models.CharField(max_length=20, choices=BusinessType.choices)
    company_number = models.CharField(max_length=20, blank=True)
    contact_name = models.CharField(max_length=150)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=32, blank=True)
    address = models.TextField()
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    description = models.TextField(blank=True)
    documents = models.JSONField(default=list, blank=True, help_text="List of {name, url} the applicant supplied.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviewed_applications"
    )
    reason = models.TextField(blank=True, help_text="Why documents are required or why it was rejected.")
    vendor = models.OneToOneField(Vendor, on_delete=models.SET_NULL, null=True, blank=True, related_name="application")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(business_type="limited_company") | ~models.Q(company_number=""),
                name="application_company_number_for_limited",
            ),
        ]

    def __str__(self):
        return f"{self.business_name} ({self.status})"


class VendorApplicationStatusHistory(models.Model):
    application = models.ForeignKey(VendorApplication, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=20, choices=VendorApplication.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=VendorApplication.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "vendor application status history"

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class ApplicationDocument(models.Model):
    """A file the applicant uploaded: kept in private storage and served only to them and the platform team."""

    application = models.ForeignKey(VendorApplication, on_delete=models.CASCADE, related_name="uploaded_documents")
    file = models.FileField(upload_to=RandomName("applications"), storage=private_storage)
    name = models.CharField(max_length=200, help_text="The file name the applicant gave, for downloads.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name
