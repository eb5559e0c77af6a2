"""Sign-in throttling for the portals.

Failures are counted per account and address together, so an attacker who
knows someone's email cannot lock them out from elsewhere, plus a looser
count per address alone, so one address cannot spray many accounts.
A successful sign-in clears its account-and-address count.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(*parts: str) -> str:
    return "login_failures:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _keys(email: str, address: str) -> tuple[str, str]:
    return _key("pair", email.strip().lower(), address), _key("address", address)


def login_locked_out(*, email: str, address: str) -> bool:
    pair, per_address = _keys(email, address)
    return (cache.get(pair) or 0) >= settings.LOGIN_FAILURES_PER_ACCOUNT or (
        cache.get(per_address) or 0
    ) >= settings.LOGIN_FAILURES_PER_ADDRESS


def login_failed(*, email: str, address: str) -> None:
    for key in _keys(email, address):
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_succeeded(*, email: str, address: str) -> None:
    cache.delete(_keys(email, address)[0])
