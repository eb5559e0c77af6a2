"""Template filters for the shop health figures on the dashboard."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def hours_minutes(duration: timedelta) -> str:
    """A stretch of time as "3 h 20 min", "45 min" or "0 min": the unit a shop's pauses are read in."""
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
