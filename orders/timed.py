"""The acceptance deadline of pending orders: a reminder to the shop, a warning to the
platform team, and at the deadline the order rejected for the shop.

Each sweep finds the orders due; the service it calls re-checks each one under a
`skip_locked` lock, so every step happens once however many processes sweep.
"""

from orders import selectors, services
from zora.scheduling import timed_change


def _apply(due, service, now) -> int:
    return sum(service(order=order, now=now) for order in list(due.only("pk")))


@timed_change(every=2)
def expire_unaccepted_orders(now) -> int:
    return _apply(selectors.orders_past_acceptance_deadline(now=now), services.order_acceptance_expire, now)


@timed_change(every=3)
def escalate_unaccepted_orders(now) -> int:
    return _apply(selectors.orders_due_acceptance_escalation(now=now), services.order_acceptance_escalate, now)


@timed_change(every=3)
def remind_unaccepted_orders(now) -> int:
    return _apply(selectors.orders_due_acceptance_reminder(now=now), services.order_acceptance_remind, now)
