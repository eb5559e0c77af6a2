"""API load: concurrent clients walking the mobile app's busiest paths over HTTP.

Run by bench/run.py. Customers browse the catalog, open a product, add it to
the cart and check out; vendor staff confirm the pending orders of their shop.
Every request's latency is recorded per operation with its outcome.
"""

import argparse
import asyncio
import json
import random
import time
import uuid

import httpx

from bench.members import Member, Population


class Recorder:
    def __init__(self):
        self.latencies: dict[str, list[float]] = {}
        self.failures: dict[str, int] = {}

    async def call(self, operation: str, request) -> httpx.Response:
        started = time.perf_counter()
        response = await request
        self.latencies.setdefault(operation, []).append(time.perf_counter() - started)
        if response.status_code >= 400:
            self.failures[operation] = self.failures.get(operation, 0) + 1
        return response


async def _customer(client: httpx.AsyncClient, recorder: Recorder, member: Member, product_ids, deadline, rng):
    headers = {"Authorization": f"Bearer {member.token}"}
    while time.time() < deadline:
        await recorder.call("catalog list", client.get("/api/v1/products", headers=headers))
        product_id = rng.choice(product_ids)
        await recorder.call("product detail", client.get(f"/api/v1/products/{product_id}", headers=headers))
        await recorder.call(
            "add to cart",
            client.post("/api/v1/cart/items", json={"product": product_id, "quantity": 1}, headers=headers),
        )
        await recorder.call(
            "checkout",
            client.post(
                "/api/v1/orders/checkout",
                json={"delivery_address": "1 Bench Street"},
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            ),
        )


async def _vendor(client: httpx.AsyncClient, recorder: Recorder, member: Member, deadline):
    headers = {"Authorization": f"Bearer {member.token}"}
    while time.time() < deadline:
        page = await recorder.call(
            "vendor order list", client.get("/api/v1/vendor/orders?status=pending", headers=headers)
        )
        pending = page.json().get("results", []) if page.status_code == 200 else []
        if not pending:
            await asyncio.sleep(0.05)
        for order in pending[:5]:
            await recorder.call(
                "status transition",
                client.post(
                    f"/api/v1/vendor/orders/{order['id']}/transition",
                    json={"status": "confirmed", "expected_status": "pending"},
                    headers=headers,
                ),
            )


async def main(population: Population, base_urls: list[str], clients: int, duration: float) -> dict:
    rng = random.Random(5)
    recorder = Recorder()
    product_ids = [pk for ids in population.products.values() for pk in ids]
    vendor_clients = max(1, clients // 5)
    owners = {member.vendor_id: member for member in reversed(population.staff)}
    vendors = list(owners.values())[:vendor_clients]
    customers = population.customers[: clients - len(vendors)]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    http_clients = [httpx.AsyncClient(base_url=url, limits=limits, timeout=60) for url in base_urls]
    started = time.time()
    deadline = started + duration
    tasks = [
        _customer(http_clients[index % len(http_clients)], recorder, member, product_ids, deadline, rng)
        for index, member in enumerate(customers)
    ] + [
        _vendor(http_clients[index % len(http_clients)], recorder, member, deadline)
        for index, member in enumerate(vendors)
    ]
    await asyncio.gather(*tasks)
    elapsed = time.time() - started
    for client in http_clients:
        await client.aclose()
    return {"elapsed": elapsed, "clients": len(tasks), "latencies": recorder.latencies, "failures": recorder.failures}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", required=True)
    parser.add_argument("--base-url", action="append", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    with open(arguments.population) as population_file:
        loaded = Population.from_json(json.load(population_file))
    result = asyncio.run(main(loaded, arguments.base_url, arguments.clients, arguments.duration))
    with open(arguments.out, "w") as out_file:
        json.dump(result, out_file)
