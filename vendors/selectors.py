"""Reads for vendors, their staff and vendor applications."""

from django.db.models import Prefetch, QuerySet

from accounts.models import User

from .models import VendorApplication, VendorApplicationStatusHistory


def application_for_user(*, user: User) -> VendorApplication | None:
    """The user's latest application, with its history in order, for the applicant's status page."""
    return (
        VendorApplication.objects.filter(applicant=user)
        .select_related("vendor", "reviewer")
        .prefetch_related(
            Prefetch(
                "status_history",
                queryset=VendorApplicationStatusHistory.objects.select_related("changed_by"),
            )
        )
        .order_by("-created_at", "-id")
        .first()
    )


def application_list(*, status: str | None = None) -> QuerySet[VendorApplication]:
    applications = VendorApplication.objects.select_related("applicant", "reviewer", "vendor")
    if status:
        applications = applications.filter(status=status)
    return applications
