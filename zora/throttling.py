"""Rate limits: sign-in and sign-up per address and per email, and every write per user.

Kept apart from zora.api because DRF reads these while defining its own views.

The counts live in the cache, which is Redis in production, and Redis holds
nothing that cannot be lost. So when it is unreachable a write is let
through uncounted rather than refused: a limit on abuse must not turn a Redis
outage into a failure of every checkout. Sign-in and sign-up are the
exception: their limits are what stops password guessing, so without them
those requests are refused as temporarily unavailable (503) instead.
"""

import hashlib
import logging

from redis import RedisError
from rest_framework.exceptions import APIException
from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_address(request) -> str:
    """Where a request came from: the socket's address or, behind API_NUM_PROXIES trusted proxies, the
    address the nearest of them recorded in X-Forwarded-For (behind a proxy every socket is the proxy's)."""
    return BaseThrottle().get_ident(request) or ""


logger = logging.getLogger(__name__)
# Seconds a client is told to wait when a limit cannot be counted.
UNCOUNTED_RETRY_AFTER = 5


class CountsUnavailable(APIException):
    status_code = 503
    default_code = "unavailable"
    default_detail = "Sign-in is unavailable for a moment; retry shortly."


class _SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate per request, so a settings override (or a test) takes effect."""

    # Whether a request goes through when the cache holding the counts cannot be reached.
    lets_through_uncounted = True

    @property
    def THROTTLE_RATES(self):
        return api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            if self.lets_through_uncounted:
                logger.warning("rate limit %r not counted, the cache is unreachable: %s", self.scope, error)
                return True
            exc = CountsUnavailable()
            exc.wait = UNCOUNTED_RETRY_AFTER
            raise exc from error


class AuthIPRateThrottle(_SettingsRateThrottle):
    """Sign-in and sign-up attempts per client address."""

    scope = "auth"
    lets_through_uncounted = False

    def get_cache_key(self, request, view):
        return f"throttle_auth_ip_{self.get_ident(request)}"


class AuthEmailRateThrottle(_SettingsRateThrottle):
    """Sign-in and sign-up attempts per email, so spreading guesses over many addresses does not help."""

    scope = "auth"
    lets_through_uncounted = False

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
