"""The writer: creates orders and moves them through their statuses at a fixed rate.

Run by bench/run.py. Every change is one committed transaction; the wall-clock
time right after its commit (before any after-commit work, such as the relay
publishing it) is recorded with the order and status it produced, which is
also what each delivered event names, so a receiver's latency is
receive time − commit time on the same machine clock.

Drivers: `services` writes through Zora's services (for Zora and for the peer,
whose observers hang on the same models' signals); `ceiling` sends the same
kind of payloads to the bare broadcast server instead of writing anything.
"""

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections import deque
from contextlib import ExitStack

from websockets.sync.client import connect

from bench.members import Population

# Each order goes pending → … → delivered: one creation and five moves.
LIFECYCLE = ["pending", "confirmed", "preparing", "ready", "out_for_delivery", "delivered"]
ORDERS_IN_FLIGHT = 8
WARM_UP_PAUSE = 0.5


class Storm:
    """Decides the next change: open a new order while few are in flight, else move one along.

    Writer `shard` of `shards` orders for every shards-th customer only, so
    concurrent writers never check out the same cart.
    """

    def __init__(self, population: Population, *, shard: int = 0, shards: int = 1):
        self.random = random.Random(5 + shard)
        self.customers = population.customers[shard::shards]
        self.vendor_ids = sorted(population.products)
        self.in_flight: deque = deque()

    def next_change(self, driver) -> dict:
        if len(self.in_flight) < ORDERS_IN_FLIGHT:
            customer = self.random.choice(self.customers)
            vendor_id = self.random.choice(self.vendor_ids)
            change = driver.create(customer=customer, vendor_id=vendor_id)
            self.in_flight.append(change)
            return change
        order = self.in_flight.popleft()
        change = driver.advance(order=order, to_status=LIFECYCLE[LIFECYCLE.index(order["status"]) + 1])
        if change["status"] != LIFECYCLE[-1]:
            self.in_flight.append(change)
        return change


class CeilingDriver:
    """Sends Zora-shaped change frames to the bare server with their audience; writes nothing."""

    def __init__(self, connection, *, shard: int = 0, shards: int = 1):
        self.connection = connection
        self.order_ids = itertools.count(1 + shard, shards)
        self.notification_ids = itertools.count(1 + shard, shards)

    def _publish(self, audience: list[str], table: str, record: dict) -> None:
        frame = {
            "topic": "realtime:bench",
            "event": "postgres_changes",
            "payload": {"ids": [1], "data": {"schema": "public", "table": table, "type": "UPDATE", "record": record}},
            "ref": None,
        }
        self.connection.send(json.dumps({"audience": audience, "frame": json.dumps(frame)}))

    def _order_changed(self, order: dict) -> float:
        """Zora's audiences: the order to its customer, shop and the platform team; a status
        change also notifies the customer (the shop's new-order notices go to staff, who
        do not follow notifications in this scenario)."""
        audience = [f"user.{order['customer_id']}", f"vendor.{order['vendor_id']}", "staff"]
        self._publish(audience, "orders", order)
        if order["status"] != "pending":
            notification = {
                "id": next(self.notification_ids),
                "user_id": order["customer_id"],
                "type": "order",
                "title": f"Your order {order['number']} is {order['status']}",
                "body": "",
                "action_url": "",
                "data": {"order_id": order["id"], "number": order["number"], "status": order["status"]},
                "read_at": None,
                "created_at": "2025-01-01T00:00:00+00:00",
            }
            self._publish([f"user.{order['customer_id']}"], "notifications", notification)
        return time.time()

    def create(self, *, customer, vendor_id) -> dict:
        order_id = next(self.order_ids)
        order = {
            "id": order_id,
            "number": f"ZR-{order_id:08d}",
            "customer_id": customer.user_id,
            "vendor_id": vendor_id,
            "status": "pending",
            "subtotal": "4.50",
            "delivery_fee": "2.99",
            "total": "7.49",
            "delivery_address": "1 Bench Street",
            "delivery_lat": None,
            "delivery_lng": None,
            "notes": "",
            "cancel_reason": "",
            "created_at": "2025-01-01T00:00:00+00:00",
            "updated_at": "2025-01-01T00:00:00+00:00",
        }
        committed_at = self._order_changed(order)
        return {**order, "committed_at": committed_at}

    def touch_product(self) -> float:
        self._publish(["public"], "products", {"id": 1, "price": "4.51", "stock": 100, "is_active": True})
        return time.time()

    def advance(self, *, order, to_status) -> dict:
        moved = {key: value for key, value in order.items() if key != "committed_at"}
        moved["status"] = to_status
        committed_at = self._order_changed(moved)
        return {**moved, "committed_at": committed_at}


def run_storm(driver, storm: Storm, *, rate: float, changes: int) -> dict:
    # The first orders are opened before the clock starts and left out of the figures: they warm
    # this process's connections and caches, as a server's earlier requests would have.
    for _ in range(ORDERS_IN_FLIGHT):
        storm.next_change(driver)
    time.sleep(WARM_UP_PAUSE)
    records = []
    started = time.time()
    for index in range(changes):
        due = started + index / rate
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        change = storm.next_change(driver)
        records.append(
            [change["id"], change["status"], change["customer_id"], change["vendor_id"], change["committed_at"]]
        )
    elapsed = time.time() - started
    return {"changes": records, "elapsed": elapsed, "achieved_rate": changes / elapsed if elapsed else 0.0}


def _services_driver(population: Population):
    import django

    django.setup()
    from bench.services_driver import ServicesDriver

    return ServicesDriver(population)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", required=True)
    parser.add_argument("--driver", choices=["services", "ceiling"], default="services")
    parser.add_argument("--ceiling-url", default="")
    parser.add_argument("--action", choices=["storm", "product"], default="storm")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--shard", type=int, default=0, help="this writer's index among --shards concurrent ones")
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    shard = {"shard": arguments.shard, "shards": arguments.shards}
    with open(arguments.population) as population_file:
        population = Population.from_json(json.load(population_file))
    with ExitStack() as stack:
        if arguments.driver == "ceiling":
            driver = CeilingDriver(stack.enter_context(connect(arguments.ceiling_url, max_size=2**22)), **shard)
        else:
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zora.settings")
            driver = _services_driver(population)
        if arguments.action == "product":
            result = {"committed_at": driver.touch_product()}
        else:
            storm = Storm(population, **shard)
            result = run_storm(driver, storm, rate=arguments.rate, changes=arguments.changes)
    with open(arguments.out, "w") as out_file:
        json.dump(result, out_file)
    sys.stdout.write("done\n")


if __name__ == "__main__":
    main()
