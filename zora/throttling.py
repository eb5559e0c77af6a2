"""Rate limits: sign-in and sign-up per address and per email, and every write per user.

Kept apart from zora.api because DRF reads these while defining its own views.
"""

import hashlib

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate per request, so a settings override (or a test) takes effect."""

    @property
    def THROTTLE_RATES(self):
        return api_settings.DEFAULT_THROTTLE_RATES


class AuthIPRateThrottle(_SettingsRateThrottle):
    """Sign-in and sign-up attempts per client address."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return f"throttle_auth_ip_{self.get_ident(request)}"


class AuthEmailRateThrottle(_SettingsRateThrottle):
    """Sign-in and sign-up attempts per email, so spreading guesses over many addresses does not help."""

    scope = "auth"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return f"throttle_auth_email_{digest}"


class WriteRateThrottle(_SettingsRateThrottle):
    """Every unsafe request, per user (or per address when anonymous)."""

    scope = "writes"

    def get_cache_key(self, request, view):
        if request.method in SAFE_METHODS:
            return None
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return f"throttle_writes_{ident}"
