"""The writer's driver for Zora itself: every change through the services, as the API would make it.

Each change runs inside one outer transaction whose first after-commit hook
stamps the time, so the stamp is taken right after the commit and before the
relay (another after-commit hook) publishes the change.
"""

import time
import uuid
import warnings
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from bench.members import Population
from catalog.models import Product
from catalog.services import product_update
from orders.models import Order
from orders.services import cart_add_item, order_checkout, order_transition

# The peer's observers warn about savepoints, which the services' nested atomic blocks use.
warnings.filterwarnings("ignore", module="djangochannelsrestframework")


class _CommitStamp:
    def __init__(self):
        self.at = None

    def __call__(self):
        self.at = time.time()


def _committed(change) -> tuple[object, float]:
    stamp = _CommitStamp()
    with transaction.atomic():
        transaction.on_commit(stamp)
        result = change()
    return result, stamp.at


def _order_record(order: Order, committed_at: float) -> dict:
    return {
        "id": order.pk,
        "status": order.status,
        "customer_id": order.customer_id,
        "vendor_id": order.vendor_id,
        "committed_at": committed_at,
    }


class ServicesDriver:
    def __init__(self, population: Population):
        self.population = population
        user_ids = [member.user_id for member in population.members]
        self.users = User.objects.in_bulk(user_ids)
        self.owner_by_vendor = {}
        for member in population.staff:
            self.owner_by_vendor.setdefault(member.vendor_id, self.users[member.user_id])
        self.products = Product.objects.in_bulk([pk for ids in population.products.values() for pk in ids])

    def create(self, *, customer, vendor_id) -> dict:
        user = self.users[customer.user_id]
        product = self.products[self.population.products[vendor_id][0]]

        def checkout():
            cart_add_item(user=user, product=product, quantity=1)
            return order_checkout(customer=user, idempotency_key=uuid.uuid4().hex, delivery_address="1 Bench Street")

        orders, committed_at = _committed(checkout)
        return _order_record(orders[0], committed_at)

    def advance(self, *, order, to_status) -> dict:
        actor = self.owner_by_vendor[order["vendor_id"]]
        instance = Order.objects.get(pk=order["id"])
        moved, committed_at = _committed(
            lambda: order_transition(actor=actor, order=instance, to_status=to_status, expected_status=order["status"])
        )
        return _order_record(moved, committed_at)

    def touch_product(self) -> float:
        """A public change every socket may see: the first product's price moves by a penny."""
        product = next(iter(self.products.values()))
        owner = self.owner_by_vendor[product.vendor_id]
        new_price = product.price + Decimal("0.01")
        _, committed_at = _committed(lambda: product_update(actor=owner, product=product, price=new_price))
        return committed_at
