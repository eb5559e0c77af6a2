"""Pieces of the shop's order desk: deadlines the page's script keeps ticking, and lateness."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from orders.models import Order

register = template.Library()

# Accepted orders that are late when their estimated ready time has passed.
IN_THE_KITCHEN = {Order.Status.CONFIRMED, Order.Status.PREPARING}


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


@register.simple_tag
def countdown(deadline):
    """A `<time>` showing the time left as rendered; the portal script ticks it every second
    and, once the deadline has passed, counts up in red."""
    left = round((deadline - timezone.now()).total_seconds())
    text = f"{_clock(left)} left" if left >= 0 else f"late {_clock(-left)}"
    stamp = deadline.isoformat()
    return format_html(
        '<time class="countdown{}" datetime="{}" data-deadline="{}">{}</time>',
        " late" if left < 0 else "",
        stamp,
        stamp,
        text,
    )


@register.filter
def running_late(order: Order) -> bool:
    """Waiting past its acceptance deadline, or still in the kitchen past the time the customer was given."""
    now = timezone.now()
    if order.status == Order.Status.PENDING:
        return order.accept_by is not None and order.accept_by <= now
    return order.status in IN_THE_KITCHEN and order.estimated_ready_at is not None and order.estimated_ready_at <= now
