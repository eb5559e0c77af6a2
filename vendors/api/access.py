"""Who may use the vendor side of the API."""

from vendors.models import Vendor
from vendors.selectors import user_vendor
from zora.errors import NotFound


def staff_vendor(user) -> Vendor:
    """The vendor this user works for. Everyone else gets a 404, so the vendor side stays invisible to them."""
    vendor = user_vendor(user=user)
    if vendor is None:
        raise NotFound("No such page.")
    return vendor
