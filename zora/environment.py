"""Settings read from the environment, refused at start-up when they cannot be used.

A mistyped variable must stop the process as it starts, naming the variable and
what it takes, not surface at the first request as a bare KeyError, or never.
django-environ's casts guess instead: `DEBUG=ture` reads as off,
`REDIS_SOCKET_TIMEOUT=1e3` as 13 seconds, `DATABASE_POOL_SIZE=ten` fails with
a ValueError that names no variable, and a value starting with `$` is taken as
the name of another variable (one in fifty of Django's generated SECRET_KEYs
starts with one). So plain values are read here, strictly; django-environ still
parses the URLs (zora/settings.py).

An empty variable counts as unset: that is what `VAR=` in an env file means.
"""

import math
import os
import re
from collections.abc import Collection
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def misconfigured(name: str, expected: str, *, value: str | None = None) -> ImproperlyConfigured:
    """The start-up refusal: the variable, what it was (left out for secrets) and what it must be."""
    shown = "" if value is None else f"={value!r}"
    return ImproperlyConfigured(f"{name}{shown} is not valid: {name} must be {expected}.")


def is_set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def _value(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def text(name: str, default: str = "") -> str:
    """The value as given (only an empty one falls back to the default)."""
    return os.environ.get(name) or default


def flag(name: str, default: bool) -> bool:
    value = _value(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise misconfigured(name, "true or false (also 1/0, yes/no, on/off)", value=value)


def integer(name: str, default: int, *, minimum: int = 0) -> int:
    value = _value(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise misconfigured(name, f"a whole number of at least {minimum}", value=value)
    return number


def number(name: str, default: float, *, above: float = 0.0) -> float:
    """A finite decimal number strictly greater than `above` (durations, mostly)."""
    value = _value(name)
    if value is None:
        return default
    try:
        parsed = float(value)
    except ValueError:
        parsed = math.nan
    if not math.isfinite(parsed) or parsed <= above:
        raise misconfigured(name, f"a number greater than {above:g}", value=value)
    return parsed


def money(name: str, default: str) -> str:
    """An amount in pounds with at most two decimals, kept as text for Decimal to read."""
    value = _value(name)
    if value is None:
        return default
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        raise misconfigured(name, "an amount such as 2.99 (zero or more, at most two decimals)", value=value)
    return value


def choice(name: str, default: str, choices: Collection[str]) -> str:
    value = _value(name)
    if value is None:
        return default
    if value not in choices:
        raise misconfigured(name, "one of " + ", ".join(choices), value=value)
    return value


def items(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks around and between the commas are dropped."""
    value = _value(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def rate(name: str, default: str) -> str:
    """A rate limit as Django REST framework reads it: a count per second, minute, hour or day."""
    value = _value(name)
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise misconfigured(name, "a count per period such as 10/min (periods: s, min, hour, day)", value=value)
    return value
