"""What the fault tests share: clients that behave as real ones do through an outage, and the audit
that runs once it is over.

A real client does not give up when a request fails or its socket drops: the
mobile app retries a checkout with the same Idempotency-Key, and realtime-js
reconnects and (here) resumes with `since`. So the shoppers and subscribers
below retry until a deadline, and the tests judge the end state: every
subscriber holds exactly the events it is owed, in seq order, once, and the
books (order totals, stock) add up.
"""

import itertools
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from urllib.parse import urlencode

import requests
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

from catalog.models import Product, StockMovement
from orders.models import Checkout, Order
from realtime.models import Event
from realtime.selectors import high_water_seq
from tests.live.api import TIMEOUT
from tests.live.outbox import owed_events, wait_until_numbered
from tests.live.servers import LiveServer

# How long a client keeps retrying through an outage before the test calls the server dead.
RETRY_FOR = 60.0
RETRY_PAUSE = 0.2
CHANNEL = "faults"


class Unavailable(Exception):
    """A request a client would retry: the server or a service behind it is down."""


def _is_retryable(response: requests.Response) -> bool:
    return response.status_code >= 500 or response.status_code == 429


@dataclass
class Retries:
    """What clients met on their way through a fault, for the report."""

    failures: Counter = field(default_factory=Counter)

    def __call__(self, attempt: Callable[[], requests.Response], *, what: str) -> requests.Response:
        deadline = time.monotonic() + RETRY_FOR
        while True:
            try:
                response = attempt()
                if not _is_retryable(response):
                    return response
                reason = str(response.status_code)
            except requests.RequestException as exc:
                reason = type(exc).__name__
            self.failures[reason] += 1
            assert time.monotonic() < deadline, f"{what} kept failing for {RETRY_FOR}s: {dict(self.failures)}"
            time.sleep(RETRY_PAUSE)


class Shopper:
    """A customer checking out through the API as the app does: each checkout has its own
    Idempotency-Key, resent with every retry, so a response lost in a fault costs nothing twice.
    Each attempt goes to the next server that is still running, as behind a load balancer."""

    def __init__(self, actor, retries: Retries, servers: list[LiveServer]):
        self.actor = actor
        self.retries = retries
        self.servers = servers
        self._turn = itertools.count()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {actor.apikey}"
        self.checkouts: dict[str, list[dict]] = {}  # Idempotency-Key -> the orders it placed

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        running = [server for server in self.servers if server.running]
        server = running[next(self._turn) % len(running)]
        return self.session.request(method, f"{server.base_url}/api/v1{path}", timeout=TIMEOUT, **kwargs)

    def checkout(self, lines: list[tuple[int, int]]) -> list[dict]:
        self._fill_cart(lines)
        key = uuid.uuid4().hex
        send = partial(self._send, "POST", "/orders/checkout", json={}, headers={"Idempotency-Key": key})
        response = self.retries(send, what=f"{self.actor.name}'s checkout")
        assert response.status_code == 201, f"checkout answered {response.status_code}: {response.text[:500]}"
        self.checkouts[key] = response.json()["orders"]
        return self.checkouts[key]

    def _fill_cart(self, lines: list[tuple[int, int]]) -> None:
        """Sets each line's quantity, reading the cart first, so a retried add never adds twice."""
        for product_id, quantity in lines:
            while True:
                cart = self.retries(partial(self._send, "GET", "/cart"), what="reading the cart").json()
                held = {item["product"]["id"]: item for item in cart["items"]}
                if product_id not in held:
                    send = partial(
                        self._send, "POST", "/cart/items", json={"product": product_id, "quantity": quantity}
                    )
                elif held[product_id]["quantity"] != quantity:
                    path = f"/cart/items/{held[product_id]['id']}"
                    send = partial(self._send, "PATCH", path, json={"quantity": quantity})
                else:
                    break
                response = self.retries(send, what="filling the cart")
                assert response.status_code in (200, 201), f"cart answered {response.status_code}: {response.text}"


class Subscriber:
    """A client of the change stream that keeps every change it got and, whenever its socket is
    gone, reconnects (retrying while the server refuses) and resumes with `since` = the last
    seq it saw."""

    def __init__(self, sockets, actor, bindings: list[dict], *, since: int, name: str | None = None):
        self._sockets = sockets
        self.actor = actor
        self.bindings = bindings
        self.name = name or actor.name
        self.baseline = since
        self.received: list[dict] = []
        self.socket = None
        self.server: LiveServer | None = None
        self.reconnects = 0
        self.resumed_with: list[tuple[int, int]] = []  # (since, changes received on that connection)

    @property
    def position(self) -> int:
        return self.received[-1]["seq"] if self.received else self.baseline

    def connect(self, server: LiveServer, *, timeout: float = RETRY_FOR) -> float:
        """(Re)connects to `server` and joins with `since`; returns how long it took."""
        self.take(quiet_for=0)
        if self.socket is not None:
            self.socket.close()
            self.reconnects += 1
        started = time.monotonic()
        deadline, problem = started + timeout, "no attempt"
        while time.monotonic() < deadline:
            socket = None
            try:
                socket = self._sockets.open(
                    f"{self.name} #{self.reconnects + 1}", websocket_url=server.websocket_url, apikey=self.actor.apikey
                )
                socket.join(CHANNEL, postgres_changes=self.bindings, since=self.position)
                self.socket, self.server = socket, server
                self.resumed_with.append((self.position, 0))
                return time.monotonic() - started
            except (OSError, WebSocketException, AssertionError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                if socket is not None:
                    socket.close()
                time.sleep(RETRY_PAUSE)
        raise AssertionError(f"{self.name} could not reconnect to {server.name} within {timeout}s: {problem}")

    def take(self, quiet_for: float) -> int:
        """Keeps what the socket has received; returns how many changes that was."""
        if self.socket is None:
            return 0
        changes = self.socket.remaining_changes(quiet_for)
        self.received += changes
        since, count = self.resumed_with[-1]
        self.resumed_with[-1] = (since, count + len(changes))
        return len(changes)

    def collect(self, owed: list[int], *, timeout: float, fallback: LiveServer | None = None) -> None:
        """Receives until it holds as many changes as it is owed (reconnecting when its socket
        closes, to `fallback` if its server died), then whatever else comes: a duplicate or an
        unowed change must show."""
        deadline = time.monotonic() + timeout
        while len(self.received) < len(owed) and time.monotonic() < deadline:
            if self.socket.closed.is_set():
                self.take(quiet_for=0)
                server = self.server if self.server.running else fallback
                self.connect(server, timeout=max(deadline - time.monotonic(), 1.0))
            self.take(quiet_for=0.2)
        self.take(quiet_for=0.5)

    def shortfall(self, owed: list[int]) -> str | None:
        """None when it received exactly `owed`, in order, once; else what went wrong."""
        seqs = [change["seq"] for change in self.received]
        if seqs == owed:
            return None
        missed, unowed = sorted(set(owed) - set(seqs)), sorted(set(seqs) - set(owed))
        repeated = sorted(seq for seq, times in Counter(seqs).items() if times > 1)
        return (
            f"{self.name}: {len(seqs)} changes for {len(owed)} owed; missed {missed[:20]}, "
            f"not owed {unowed[:20]}, repeated {repeated[:20]}, in order: {seqs == sorted(seqs)}"
        )

    @property
    def replayed(self) -> int:
        """Changes received on connections after the first: what `since` replayed, and the live ones after it."""
        return sum(count for _since, count in self.resumed_with[1:])


def subscribe_everyone(sockets, placements: dict, *, since: int | None = None) -> list[Subscriber]:
    """`placements`: {(actor, name): (server, bindings)}; every subscriber resumes from one baseline."""
    baseline = high_water_seq() if since is None else since
    subscribers = []
    for (actor, name), (server, bindings) in placements.items():
        subscriber = Subscriber(sockets, actor, bindings, since=baseline, name=name)
        subscriber.connect(server)
        subscribers.append(subscriber)
    return subscribers


def assert_every_subscriber_got_what_it_is_owed(
    subscribers: list[Subscriber], *, timeout: float = 60.0, fallback: LiveServer | None = None
) -> int:
    """Waits for the relay, then for each subscriber's changes; returns the number of events checked."""
    wait_until_numbered(timeout=30)
    shortfalls, checked = [], 0
    deadline = time.monotonic() + timeout
    for subscriber in subscribers:
        owed = [event.seq for event in owed_events(subscriber.actor, subscriber.bindings, after=subscriber.baseline)]
        assert owed, f"nothing was owed to {subscriber.name}: the scenario proves nothing for it"
        subscriber.collect(owed, timeout=max(deadline - time.monotonic(), 2.0), fallback=fallback)
        checked += len(owed)
        if problem := subscriber.shortfall(owed):
            shortfalls.append(problem)
    assert not shortfalls, "\n".join(shortfalls)
    seqs = list(Event.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the stream's seqs have a gap or a repeat"
    return checked


def assert_the_books_balance(initial_stock: dict[int, int], shoppers: list[Shopper]) -> int:
    """Every order's figures add up, stock is what was sold from it, and each checkout placed its
    orders once; returns the number of orders checked."""
    orders = list(Order.objects.prefetch_related("items"))
    for order in orders:
        lines = list(order.items.all())
        assert all(line.line_total == line.unit_price * line.quantity for line in lines), order.number
        assert order.subtotal == sum((line.line_total for line in lines), Decimal("0.00")), order.number
        assert order.total == order.subtotal + order.delivery_fee, order.number
    sold = Counter()
    for order in orders:
        if order.status != Order.Status.CANCELLED:
            for line in order.items.all():
                sold[line.product_id] += line.quantity
    for product in Product.objects.filter(pk__in=initial_stock):
        expected = initial_stock[product.pk] - sold[product.pk]
        assert product.stock == expected, f"{product.name} has {product.stock} in stock, {expected} expected"
        moved = sum(StockMovement.objects.filter(product=product).values_list("delta", flat=True))
        assert product.stock == initial_stock[product.pk] + moved, f"stock movements of {product.name}"
    placed = {key: orders for shopper in shoppers for key, orders in shopper.checkouts.items()}
    assert Checkout.objects.count() == len(placed), "a checkout was recorded that no client knows of, or twice"
    assert len(orders) == sum(len(orders) for orders in placed.values()), "orders were placed twice"
    for key, answered in placed.items():
        stored = Checkout.objects.get(idempotency_key=key).orders.order_by("id")
        assert [order.pk for order in stored] == [order["id"] for order in answered], key
    return len(orders)


def health(server: LiveServer, timeout: float = 10.0) -> tuple[int | None, dict, float]:
    """/healthz: (status code, checks, seconds it took to answer); None when it did not answer."""
    started = time.monotonic()
    try:
        response = requests.get(f"{server.base_url}/healthz", timeout=timeout)
    except requests.RequestException as exc:
        return None, {"error": str(exc)}, time.monotonic() - started
    return response.status_code, response.json().get("checks", {}), time.monotonic() - started


def wait_until_healthy(servers: list[LiveServer], *, timeout: float = RETRY_FOR) -> float:
    """Seconds until every server's /healthz says 200."""
    started = time.monotonic()
    for server in servers:
        while health(server, timeout=5)[0] != 200:
            assert time.monotonic() - started < timeout, f"{server.name} still unhealthy after {timeout}s"
            time.sleep(0.1)
    return time.monotonic() - started


def assert_steadily_healthy(servers: list[LiveServer], *, times: int = 10) -> None:
    """Once healthy, every /healthz in a row is: no dead database connection is left in a pool
    for the next request to draw."""
    for server in servers:
        answers = [health(server, timeout=5)[:2] for _ in range(times)]
        failed = [answer for answer in answers if answer[0] != 200]
        assert not failed, f"{server.name} answered {len(failed)} of {times} /healthz after recovering: {failed[0]}"


class Background:
    """Runs `work()` on a thread; `result()` re-raises what it raised there."""

    def __init__(self, work: Callable[[], object], name: str):
        self._result = self._error = None
        self._thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        self._thread.start()

    def _run(self, work):
        from django.db import connection

        try:
            self._result = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self._error = exc
        finally:
            connection.close()

    def result(self, timeout: float = RETRY_FOR * 2):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"{self._thread.name} did not finish within {timeout}s"
        if self._error is not None:
            raise self._error
        return self._result


def wait_for(condition, *, timeout: float, what: str, every: float = 0.05):
    """Polls `condition()` until it returns something truthy, which is returned; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(every)
    return result


def report(fault: str, **figures) -> None:
    """One line per run with the figures the reliability notes quote (shown with `pytest -s`)."""
    print(f"\n[fault] {fault}: " + ", ".join(f"{name}={value}" for name, value in figures.items()))


class StalledSocket:
    """A client that joins, then stops reading: its receive buffer is small and never emptied, so
    the server's writes to it back up, as they do to a phone whose app froze or lost its network."""

    RECEIVE_BUFFER = 16 * 1024

    def __init__(self, server: LiveServer, actor, bindings: list[dict]):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RECEIVE_BUFFER)
        raw.connect(("127.0.0.1", server.port))
        query = urlencode({"apikey": actor.apikey, "vsn": "1.0.0"})
        # max_queue: the client library stops reading from the socket once a few frames wait unread.
        self._exit_stack = ExitStack()
        self.connection = self._exit_stack.enter_context(
            connect(f"{server.websocket_url}?{query}", sock=raw, max_queue=4, max_size=None)
        )
        config = {"postgres_changes": bindings, "broadcast": {"self": False}, "presence": {"enabled": False}}
        frame = {"topic": f"realtime:{CHANNEL}", "event": "phx_join", "payload": {"config": config}, "ref": "1"}
        self.connection.send(json.dumps(frame))
        reply = json.loads(self.connection.recv(timeout=10))
        assert reply["event"] == "phx_reply" and reply["payload"]["status"] == "ok", reply
        self.closed_by_server = False

    def wake_up(self, timeout: float = 10.0) -> list[dict]:
        """Reads what the server still sent it, until the socket ends or goes quiet; returns the changes."""
        changes = []
        try:
            while True:
                message = json.loads(self.connection.recv(timeout=timeout))
                if message["event"] == "postgres_changes":
                    changes.append(message["payload"]["data"])
        except ConnectionClosed:
            self.closed_by_server = True
        except TimeoutError:
            pass
        return changes

    def close(self):
        self._exit_stack.close()
