"""The guard on every admin dashboard page."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login


def platform_admin_view(view):
    """Lets in signed-in platform admins (`is_staff`); everyone else gets the sign-in page and why."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_staff:
            messages.error(request, "The dashboard is for the Zora platform team. Sign in with an admin account.")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded
