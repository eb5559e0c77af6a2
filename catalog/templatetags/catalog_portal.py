"""Small display helpers for the catalogue's portal pages."""

from decimal import ROUND_HALF_UP, Decimal

from django import template

from catalog.models import OutOfStockFor

register = template.Library()


@register.filter
def stars(rating) -> str:
    """A rating (or an average, to the nearest star) as text, e.g. ★★★★☆; pages add "4 out of 5" for screen readers."""
    whole = min(5, max(0, int(Decimal(rating).quantize(Decimal(1), rounding=ROUND_HALF_UP))))
    return "★" * whole + "☆" * (5 - whole)


@register.filter
def signed(number: int) -> str:
    """+5, −3: a stock movement's direction at a glance."""
    return f"+{number}" if number > 0 else f"−{-number}" if number < 0 else "0"


@register.simple_tag
def out_of_stock_choices():
    """The "out of stock until" durations, for the form that any page may include."""
    return OutOfStockFor.choices
