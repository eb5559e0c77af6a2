"""Who may act for which shop: the one answer every door asks.

Services, API views, portal views and the socket's audience groups all ask
here, so "may this user manage this shop" cannot drift between them. A
platform admin manages every shop; otherwise only the shop's own team does,
and a deactivated shop's team has no portal and reads none of its rows.
"""

from vendors.models import Vendor, VendorStaff
from zora.errors import NotFound


def user_manages_vendor(*, user, vendor: Vendor) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return VendorStaff.objects.filter(user=user, vendor=vendor, vendor__is_active=True).exists()


def user_owns_vendor(*, user, vendor: Vendor) -> bool:
    """Owners (and platform admins) manage the team; staff run the day."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return VendorStaff.objects.filter(
        user=user, vendor=vendor, vendor__is_active=True, role=VendorStaff.Role.OWNER
    ).exists()


def user_vendor(*, user) -> Vendor | None:
    """The active shop the user works for; a deactivated shop's portal stays shut."""
    if user is None or not user.is_authenticated or not user.is_active or getattr(user, "is_suspended", False):
        return None
    return Vendor.objects.filter(staff__user=user, is_active=True).first()


def active_vendor_ids(*, user) -> list[int]:
    """The shops whose private rows this user reads (the socket's `vendor.<id>` groups)."""
    return list(VendorStaff.objects.filter(user=user, vendor__is_active=True).values_list("vendor_id", flat=True))


def staff_vendor(user) -> Vendor:
    """The shop this user works for. Everyone else gets a 404 that says why."""
    vendor = user_vendor(user=user)
    if vendor is None:
        raise NotFound("You are not staff of an active shop.", code="not_shop_staff")
    return vendor
