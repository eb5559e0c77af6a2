from decimal import Decimal

from django.conf import settings
from django.db import models


class Vendor(models.Model):
    """A shop. Created only by approving a vendor application."""

    class OpeningStatus(models.TextChoices):
        OPEN = "open"
        BUSY = "busy"
        CLOSED = "closed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_vendors")
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=160, unique=True)
    description = models.TextField(blank=True)
    address = models.TextField(blank=True)
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    delivery_radius_km = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("5.00"))
    opening_status = models.CharField(max_length=10, choices=OpeningStatus.choices, default=OpeningStatus.OPEN)
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
        ]
        indexes = [models.Index(fields=["is_active", "name"])]

    def __str__(self):
        return self.name


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
