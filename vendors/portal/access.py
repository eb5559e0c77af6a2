"""The guard on every vendor portal page, built on vendors/access.py."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from vendors.access import user_vendor
from vendors.models import VendorApplication, VendorStaff

APPLICATION_URL_NAME = "vendor:application"


def vendor_portal_view(view):
    """Lets in the staff of an active shop, with `request.vendor` and `request.vendor_membership` set.

    Applicants without a shop go to their application's page; everyone else
    gets the login page with a message that says why, so a customer who
    followed a link learns they need a shop account.
    """

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        vendor = user_vendor(user=user)
        if vendor is None:
            if VendorApplication.objects.filter(applicant=user).exists():
                return redirect(APPLICATION_URL_NAME)
            messages.error(request, "This account is not staff of an active shop. Sign in with your shop account.")
            return redirect_to_login(request.get_full_path())
        request.vendor = vendor
        request.vendor_membership = VendorStaff.objects.get(user=user, vendor=vendor)
        return view(request, *args, **kwargs)

    return guarded
