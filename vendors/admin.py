from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_base import (
    ReadOnlyAdmin,
    ReadOnlyTabularInline,
    ReasonActionForm,
    ServiceCreatedAdmin,
    StatusHistoryAdmin,
    action_reason,
    changed_fields,
    request_meta,
    service_action,
)
from vendors import services
from vendors.models import (
    ApplicationDocument,
    HolidayClosure,
    OpeningHours,
    Vendor,
    VendorApplication,
    VendorApplicationStatusHistory,
    VendorPause,
    VendorStaff,
)


class VendorStaffInline(admin.TabularInline):
    model = VendorStaff
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)


class OpeningHoursInline(ReadOnlyTabularInline):
    """Set by the shop on its status page, the whole week at once."""

    model = OpeningHours
    fields = ("weekday", "opens_at", "closes_at")
    show_change_link = False


class HolidayClosureInline(ReadOnlyTabularInline):
    model = HolidayClosure
    fields = ("starts_on", "ends_on", "reason")
    show_change_link = False


@admin.register(Vendor)
class VendorAdmin(ServiceCreatedAdmin):
    """Vendors are created by approving an application; activation goes through the service."""

    action_form = ReasonActionForm
    list_display = ("name", "owner", "opening_status", "is_active", "rating_avg", "rating_count", "created_at")
    list_filter = ("is_active", "opening_status")
    search_fields = ("name", "slug", "address", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "slug",
        "is_active",
        "busy_extra_minutes",
        "paused_until",
        "pause_reason",
        "rating_avg",
        "rating_count",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "slug", "owner", "description", "logo", "is_active")}),
        ("Location", {"fields": ("address", "lat", "lng", "delivery_radius_km")}),
        ("Status", {"fields": ("opening_status", "busy_extra_minutes", "paused_until", "pause_reason")}),
        ("Ratings", {"fields": ("rating_avg", "rating_count")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [VendorStaffInline, OpeningHoursInline, HolidayClosureInline]
    actions = [
        service_action(
            "activate_vendors",
            "Activate selected vendors",
            lambda request, vendor: services.vendor_set_active(
                actor=request.user, vendor=vendor, active=True, request_meta=request_meta(request)
            ),
            "Activated",
        ),
        service_action(
            "deactivate_vendors",
            "Deactivate selected vendors (give a reason)",
            lambda request, vendor: services.vendor_set_active(
                actor=request.user,
                vendor=vendor,
                active=False,
                reason=action_reason(request),
                request_meta=request_meta(request),
            ),
            "Deactivated",
        ),
    ]

    def save_model(self, request, obj, form, change):
        fields = changed_fields(form, services.VENDOR_EDITABLE_FIELDS)
        if fields:
            services.vendor_update(actor=request.user, vendor=obj, request_meta=request_meta(request), **fields)
        if "opening_status" in form.changed_data:
            # Busy with the default margin, or paused until someone opens the shop again.
            services.vendor_set_status(
                actor=request.user,
                vendor=obj,
                opening_status=form.cleaned_data["opening_status"],
                request_meta=request_meta(request),
            )

    def save_formset(self, request, form, formset, change):
        """Staff joins and leaves through the services; a role change is a plain save."""
        if formset.model is not VendorStaff:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.vendor_staff_remove(actor=request.user, membership=membership)
        for membership in memberships:
            if membership.pk is None:
                services.vendor_staff_add(
                    actor=request.user, vendor=form.instance, user=membership.user, role=membership.role
                )
            else:
                membership.save()


@admin.register(VendorStaff)
class VendorStaffAdmin(ReadOnlyAdmin):
    list_display = ("user", "vendor", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "vendor__name")
    list_select_related = ("user", "vendor")


@admin.register(VendorPause)
class VendorPauseAdmin(ReadOnlyAdmin):
    """Written by the shop status services; the dashboard's health figures are summed from these."""

    list_display = ("vendor", "started_at", "ended_at", "unattended")
    list_filter = ("unattended",)
    search_fields = ("vendor__name",)
    list_select_related = ("vendor",)


class ApplicationStatusHistoryInline(ReadOnlyTabularInline):
    model = VendorApplicationStatusHistory
    fields = ("created_at", "from_status", "to_status", "changed_by", "reason")


class ApplicationDocumentInline(ReadOnlyTabularInline):
    """Uploaded files, downloaded through the checked view: the private storage has no URL."""

    model = ApplicationDocument
    fields = ("name", "content_type", "size", "uploaded_at", "download")
    show_change_link = False

    @admin.display(description="File")
    def download(self, document):
        return format_html('<a href="{}">Download</a>', reverse("vendor:application-document", args=[document.pk]))


def review_action(name, description, service, done, *, needs_reason=False):
    """An action moving applications with one of the review services (which log and notify)."""

    def move(request, application):
        reason = {"reason": action_reason(request)} if needs_reason else {}
        return service(actor=request.user, application=application, request_meta=request_meta(request), **reason)

    return service_action(name, description, move, done)


@admin.register(VendorApplication)
class VendorApplicationAdmin(ServiceCreatedAdmin):
    """The review workflow: every status change is an action backed by a service."""

    action_form = ReasonActionForm
    list_display = ("business_name", "applicant", "business_type", "status", "reviewer", "created_at")
    list_filter = ("status", "business_type")
    search_fields = ("business_name", "contact_name", "contact_email", "company_number", "applicant__email")
    date_hierarchy = "created_at"
    list_select_related = ("applicant", "reviewer")
    readonly_fields = ("applicant", "status", "reviewer", "reason", "vendor", "documents", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("business_name", "business_type", "company_number", "description")}),
        ("Contact", {"fields": ("applicant", "contact_name", "contact_email", "contact_phone")}),
        ("Location", {"fields": ("address", "lat", "lng")}),
        ("Review", {"fields": ("status", "reviewer", "reason", "vendor", "documents")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [ApplicationStatusHistoryInline, ApplicationDocumentInline]
    actions = [
        review_action("start_review", "Start review", services.application_start_review, "Under review"),
        review_action(
            "request_documents",
            "Request documents (give a reason)",
            services.application_request_documents,
            "Documents requested",
            needs_reason=True,
        ),
        review_action("approve", "Approve: create the vendor", services.application_approve, "Approved"),
        review_action("reject", "Reject (give a reason)", services.application_reject, "Rejected", needs_reason=True),
    ]


@admin.register(VendorApplicationStatusHistory)
class VendorApplicationStatusHistoryAdmin(StatusHistoryAdmin):
    subject_field = "application"
    search_fields = ("application__business_name", "reason")
