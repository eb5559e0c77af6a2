"""Stock that comes back by itself: products held "out of stock until" a time that has come.

The sweep only finds them; `product_stock_restore_due` re-checks each under a `skip_locked` lock,
so each restore happens once however many processes sweep.
"""

from catalog import selectors, services
from zora.scheduling import timed_change


@timed_change(every=15)
def restore_stock_held_out(now) -> int:
    due = selectors.products_due_stock_restore(now=now).only("pk")
    return sum(services.product_stock_restore_due(product=product, now=now) for product in list(due))
