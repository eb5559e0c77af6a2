"""Races through the real doors: many clients hitting two daphne processes on one PostgreSQL at
the same instant, so the row locks, unique indexes and version checks are what keeps the data
whole, not the order requests happen to arrive in.

Every burst starts its requests together behind a barrier and alternates them between the two
processes; what the database holds afterwards is checked row by row, the event outbox with it.
"""

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.test import Client

from accounts.models import AdminActivityLog, Notification
from catalog.models import InventoryAlert, Product, StockMovement
from catalog.services import product_adjust_stock
from orders.models import CartItem, Checkout, Order, OrderItem, OrderStatusHistory
from realtime.models import Event
from tests import factories
from tests.live.api import ApiClient
from tests.live.outbox import wait_until_numbered
from tests.live.plugin import token_for
from tests.reliability.profile import scale
from vendors.models import Vendor, VendorApplicationStatusHistory, VendorStaff
from vendors.services import application_start_review

pytest_plugins = ["tests.live.plugin"]
pytestmark = [pytest.mark.reliability, pytest.mark.live, pytest.mark.django_db(transaction=True)]

# A burst queues on one product row behind two single-threaded processes: give it time.
BURST_TIMEOUT = 120
ORDER_LIFE = ["confirmed", "preparing", "ready", "out_for_delivery", "delivered"]


def all_at_once(calls):
    """Runs every call in its own thread, released together; their results in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def two_servers(daphne_servers):
    # Bursts of writes by one user are what these tests are made of; the rate limit is not under test.
    return [daphne_servers.start(f"daphne-{index}", THROTTLE_WRITES="100000/min") for index in (1, 2)]


def _clients(servers, apikey) -> list[ApiClient]:
    return [ApiClient(server, apikey) for server in servers]


def _events(table: str, type_: str, since_id: int) -> int:
    return Event.objects.filter(id__gt=since_id, table=table, type=type_).count()


def _assert_outbox_whole(since_id: int):
    """Every event of the burst was numbered, and the numbers run without a gap."""
    wait_until_numbered()
    seqs = list(Event.objects.filter(id__gt=since_id).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "the burst's events are not numbered without gaps"


def _last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


# 1. Many buyers, few units ---------------------------------------------------------------------


def _sell_out(servers, vendor, *, buyers: int, units: int):
    product = factories.ProductFactory(vendor=vendor, price=Decimal("2.40"), stock=units, low_stock_threshold=5)
    customers = factories.UserFactory.create_batch(buyers, password=None)
    shoppers = [ApiClient(servers[index % 2], token_for(customer)) for index, customer in enumerate(customers)]
    added = all_at_once([lambda c=c: c.send("POST", "/cart/items", json={"product": product.pk}) for c in shoppers])
    assert Counter(response.status_code for response in added) == {201: buyers}
    first_event = _last_event_id()

    answers = all_at_once(
        [lambda c=c: c.send("POST", "/orders/checkout", json={}, timeout=BURST_TIMEOUT) for c in shoppers]
    )

    assert Counter(answer.status_code for answer in answers) == {201: units, 409: buyers - units}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"] == {
                "code": "insufficient_stock",
                "message": f"Only 0 of {product.name} left.",
                "field": "quantity",
                "details": {"product_id": product.pk, "available": 0, "requested": 1},
            }
    winners = {customer.pk for customer, answer in zip(customers, answers, strict=True) if answer.status_code == 201}
    placed = [order for answer in answers if answer.status_code == 201 for order in answer.json()["orders"]]
    assert sorted(order["customer"]["id"] for order in placed) == sorted(winners)
    return product, customers, winners, first_event


def _assert_sold_exactly(product, customers, winners, first_event, *, units: int):
    product.refresh_from_db()
    assert product.stock == 0
    sales = list(StockMovement.objects.filter(product=product, reason="sale").order_by("stock_before"))
    # Each unit left the shelf once: the sales saw every stock level from `units` down to 1, once each.
    assert [(m.stock_before, m.delta, m.stock_after) for m in sales] == [(n, -1, n - 1) for n in range(1, units + 1)]
    orders = Order.objects.filter(items__product=product)
    assert orders.count() == units
    assert set(orders.values_list("customer_id", flat=True)) == winners
    assert OrderItem.objects.filter(product=product).count() == units
    assert not OrderItem.objects.filter(order__in=orders).exclude(product=product, quantity=1).exists()
    assert OrderStatusHistory.objects.filter(order__in=orders).count() == units, "one history row per order"
    # A refused checkout leaves nothing: no checkout row, no order, and the buyer keeps the cart line.
    assert Checkout.objects.filter(customer__in=customers).count() == units
    assert not Checkout.objects.filter(customer__in=customers, orders=None).exists()
    carts = set(CartItem.objects.filter(product=product).values_list("user_id", flat=True))
    assert carts == {customer.pk for customer in customers} - winners
    order_ids = list(orders.values_list("id", flat=True))
    owner_told = Notification.objects.filter(user=product.vendor.owner, type="order", data__order_id__in=order_ids)
    assert owner_told.count() == units
    unresolved = InventoryAlert.objects.filter(product=product).exclude(status="resolved")
    assert sorted(unresolved.values_list("type", "severity")) == [("low_stock", "emergency"), ("stockout", "emergency")]
    _assert_outbox_whole(first_event)
    assert _events("orders", "INSERT", first_event) == units
    assert _events("order_items", "INSERT", first_event) == units
    assert _events("cart_items", "DELETE", first_event) == units
    assert _events("products", "UPDATE", first_event) == units


def test_buyers_racing_for_the_last_units_buy_exactly_the_stock(two_servers):
    vendor = factories.VendorFactory(owner__password=None)
    buyers, units, rounds = scale(200, 400), scale(50, 120), scale(1, 3)
    for _ in range(rounds):
        product, customers, winners, first_event = _sell_out(two_servers, vendor, buyers=buyers, units=units)
        _assert_sold_exactly(product, customers, winners, first_event, units=units)


# 2. One tap, many retries ---------------------------------------------------------------------


def _retried(devices, key: str, retries: int) -> list[requests.Response]:
    """One tap's checkout sent `retries` times at once, alternating between the processes."""
    headers = {"Idempotency-Key": key}
    return all_at_once(
        [
            lambda device=devices[index % 2]: device.send("POST", "/orders/checkout", json={}, headers=headers)
            for index in range(retries)
        ]
    )


def test_twenty_retries_of_one_idempotency_key_have_one_effect_and_one_answer(two_servers, cast):
    retries = 20
    for round_ in range(scale(3, 15)):
        customer = factories.UserFactory(password=None)
        devices = _clients(two_servers, token_for(customer))
        for product in (cast.product_a, cast.product_b):
            devices[0].post("/cart/items", {"product": product.pk, "quantity": 2})
        stock_before = {p.pk: p.stock for p in Product.objects.filter(pk__in=[cast.product_a.pk, cast.product_b.pk])}
        first_event = _last_event_id()

        answers = _retried(devices, f"place-order-{round_}", retries)

        assert {answer.status_code for answer in answers} == {201}, [answer.text[:300] for answer in answers]
        assert len({answer.text for answer in answers}) == 1, "every retry answers exactly as the first attempt"
        orders = answers[0].json()["orders"]
        assert sorted(order["vendor"]["id"] for order in orders) == sorted([cast.vendor_a.pk, cast.vendor_b.pk])
        assert Checkout.objects.filter(customer=customer).count() == 1
        assert Order.objects.filter(customer=customer).count() == 2
        assert not CartItem.objects.filter(user=customer).exists()
        for product in Product.objects.filter(pk__in=stock_before):
            assert product.stock == stock_before[product.pk] - 2
        _assert_outbox_whole(first_event)
        assert _events("orders", "INSERT", first_event) == 2
        assert _events("cart_items", "DELETE", first_event) == 2

    # A tap whose checkout is refused is refused alike every time, and leaves nothing behind.
    customer = factories.UserFactory(password=None)
    devices = _clients(two_servers, token_for(customer))
    devices[0].post("/cart/items", {"product": cast.product_a.pk, "quantity": 3})
    product_adjust_stock(actor=cast.staff_a.user, product=cast.product_a, stock=2, reason="correction")

    answers = _retried(devices, "refused-tap", retries)

    assert {answer.status_code for answer in answers} == {409}
    assert len({answer.text for answer in answers}) == 1
    assert answers[0].json()["error"]["code"] == "insufficient_stock"
    assert not Checkout.objects.filter(customer=customer).exists()
    assert CartItem.objects.get(user=customer).quantity == 3


# 3. Two devices of one shop -------------------------------------------------------------------


def _order_for(cast, servers) -> dict:
    customer = factories.UserFactory(password=None)
    [order] = ApiClient(servers[0], token_for(customer)).checkout((cast.product_a.pk, 1))
    return order


def _both_move(devices, order_id: int, moves: list[dict]) -> list[requests.Response]:
    path = f"/vendor/orders/{order_id}/transition"
    return all_at_once(
        [lambda d=device, m=move: d.send("POST", path, json=m) for device, move in zip(devices, moves, strict=True)]
    )


def _one_won(answers: list[requests.Response]) -> requests.Response:
    assert sorted(answer.status_code for answer in answers) == [200, 409], [answer.text[:300] for answer in answers]
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert loser.json()["error"]["code"] == "stale_status"
    assert loser.json()["error"]["field"] == "expected_status"
    return next(answer for answer in answers if answer.status_code == 200)


def test_two_devices_of_one_shop_moving_one_order_one_wins_each_time(two_servers, cast):
    """The owner's tablet and a clerk's phone, on different processes, both act on what they saw."""
    devices = [
        ApiClient(two_servers[0], token_for(cast.vendor_a.owner)),
        ApiClient(two_servers[1], cast.staff_a.apikey),
    ]
    for _ in range(scale(3, 20)):
        # The same move from both: one moves the order, the other is told it moved.
        order = _order_for(cast, two_servers)
        current = "pending"
        for status in ORDER_LIFE:
            move = {"status": status, "expected_status": current}
            assert _one_won(_both_move(devices, order["id"], [move, move])).json()["status"] == status
            current = status
        history = OrderStatusHistory.objects.filter(order_id=order["id"]).order_by("id")
        assert [(row.from_status, row.to_status) for row in history] == list(
            zip(["", "pending", *ORDER_LIFE[:-1]], ["pending", *ORDER_LIFE], strict=True)
        )
        told = Notification.objects.filter(user_id=order["customer"]["id"], data__order_id=order["id"])
        assert told.count() == len(ORDER_LIFE), "the customer hears of each move once"

        # Different moves: a cancel racing a confirm; the stock comes back only if the cancel won.
        order = _order_for(cast, two_servers)
        stock_after_sale = Product.objects.get(pk=cast.product_a.pk).stock
        moves = [
            {"status": "cancelled", "expected_status": "pending"},
            {"status": "confirmed", "expected_status": "pending"},
        ]

        status = _one_won(_both_move(devices, order["id"], moves)).json()["status"]

        assert OrderStatusHistory.objects.filter(order_id=order["id"]).count() == 2
        restocked = Product.objects.get(pk=cast.product_a.pk).stock - stock_after_sale
        assert restocked == (1 if status == "cancelled" else 0)
        assert StockMovement.objects.filter(note=f"Order {order['number']}", reason="cancellation").count() == restocked


# 4. Two admins on one application -------------------------------------------------------------

SEEN_VERSION = re.compile(r'name="seen_version" value="([^"]+)"')


class DashboardSession:
    """A signed-in admin's browser tab on one server: the session cookie, the CSRF token, htmx's header."""

    def __init__(self, server, admin):
        signed_in = Client()
        signed_in.force_login(admin)
        self.base_url = server.base_url
        self.http = requests.Session()
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, signed_in.cookies[settings.SESSION_COOKIE_NAME].value)

    def seen_version(self, application) -> str:
        page = self.http.get(f"{self.base_url}/dashboard/applications/{application.pk}/", timeout=15)
        assert page.status_code == 200, page.text[:500]
        return SEEN_VERSION.search(page.text)[1]

    def act(self, application, action: str, seen_version: str, **fields) -> requests.Response:
        return self.http.post(
            f"{self.base_url}/dashboard/applications/{application.pk}/{action}/",
            data={"seen_version": seen_version, **fields},
            headers={"HX-Request": "true", "X-CSRFToken": self.http.cookies[settings.CSRF_COOKIE_NAME]},
            timeout=BURST_TIMEOUT,
        )


@pytest.fixture
def two_admins(two_servers):
    admins = [factories.AdminFactory(full_name=name, password=None) for name in ("Ada Lovell", "Grace Hopman")]
    return [DashboardSession(server, admin) for server, admin in zip(two_servers, admins, strict=True)], admins


def _race_on(sessions, application, actions):
    """Both admins load the page (so both saw the same version), then act at the same instant."""
    versions = [session.seen_version(application) for session in sessions]
    assert versions[0] == versions[1]
    return all_at_once(
        [
            lambda s=session, a=action, v=version: s.act(application, a[0], v, **a[1])
            for session, action, version in zip(sessions, actions, versions, strict=True)
        ]
    )


def _winner_and_loser(answers, admins) -> tuple[int, requests.Response]:
    assert sorted(answer.status_code for answer in answers) == [200, 409], [a.text[:300] for a in answers]
    winner = next(index for index, answer in enumerate(answers) if answer.status_code == 200)
    loser = answers[1 - winner]
    assert admins[winner].full_name in loser.text and "nothing was changed" in loser.text
    return winner, loser


APPROVE = ("approve", {})
REJECT = ("reject", {"reason_code": "outside_area"})


def test_two_admins_acting_on_one_application_at_once_one_decides(two_admins):
    """Both saw the same version; the second to act is refused with who decided, nothing is doubled."""
    sessions, admins = two_admins
    for round_ in range(scale(4, 30)):
        application = factories.VendorApplicationFactory(applicant__password=None)
        application_start_review(actor=admins[0], application=application)
        decisions = [APPROVE, APPROVE] if round_ % 2 == 0 else [APPROVE, REJECT]

        winner, _ = _winner_and_loser(_race_on(sessions, application, decisions), admins)

        application.refresh_from_db()
        decided = {"approve": "approved", "reject": "rejected"}[decisions[winner][0]]
        assert (application.status, application.reviewer) == (decided, admins[winner])
        shops = Vendor.objects.filter(owner=application.applicant)
        assert shops.count() == (1 if decided == "approved" else 0)
        assert application.vendor_id == (shops.get().pk if decided == "approved" else None)
        assert VendorStaff.objects.filter(user=application.applicant, role="owner").count() == shops.count()
        history = VendorApplicationStatusHistory.objects.filter(application=application)
        assert list(history.exclude(to_status__in=["pending", "under_review"]).values_list("to_status", flat=True)) == [
            decided
        ]
        logged = AdminActivityLog.objects.filter(entity_id=str(application.pk), action=f"application.{decided}")
        assert list(logged.values_list("admin", flat=True)) == [admins[winner].pk]
