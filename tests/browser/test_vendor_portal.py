"""The vendor portal in real Chromium against a real daphne, used the way a shop uses it.

Orders are placed the way customers place them: over the REST API with the
demo customer's token. The shop's side is only ever the browser.
"""

import re
import time

import pytest
import requests
from playwright.sync_api import expect

from accounts.management.commands.seed_demo import (
    ADMIN_EMAIL,
    APPLICANT_EMAIL,
    CUSTOMER_EMAIL,
    DEMO_PASSWORD,
    VENDOR_EMAIL,
)
from tests.browser.conftest import PHONE, screenshot
from tests.live.plugin import _server_env
from tests.live.servers import LiveServer

# `django_db` only so the test database is set up; the demo world is committed by the module's fixture.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

HTTP_TIMEOUT = 15


class App:
    """The mobile app of one person: the REST API with a bearer token."""

    def __init__(self, server, email):
        self.server = server
        response = requests.post(
            f"{server.base_url}/api/v1/auth/token",
            json={"email": email, "password": DEMO_PASSWORD},
            timeout=HTTP_TIMEOUT,
        )
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def call(self, method, path, expected=200, **kwargs):
        response = requests.request(
            method, f"{self.server.base_url}/api/v1{path}", headers=self.headers, timeout=HTTP_TIMEOUT, **kwargs
        )
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    def order_from(self, shop_name, quantity=1):
        """Empties the cart, adds the shop's first product in stock and checks out: the new order."""
        self.call("DELETE", "/cart", expected=204)
        shop = next(vendor for vendor in self.call("GET", "/vendors")["results"] if vendor["name"] == shop_name)
        products = self.call("GET", "/products", params={"vendor": shop["id"], "page_size": 50})["results"]
        product = next(product for product in products if product["stock"] >= quantity)
        self.call("POST", "/cart/items", expected=201, json={"product": product["id"], "quantity": quantity})
        return self.call("POST", "/orders/checkout", expected=201, json={})["orders"][0]


SHOP = "Hackney Bread Co."


@pytest.fixture(scope="module")
def customer_app(portal_server):
    return App(portal_server, CUSTOMER_EMAIL)


@pytest.fixture(scope="module")
def vendor_app(portal_server):
    """The shop's second device (a phone with the API), which moves orders behind the tablet's back."""
    return App(portal_server, VENDOR_EMAIL)


def _live(page):
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()


def _nav(page, label):
    """A sidebar link, whatever "new" badge it carries."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(f"^{label}"))


def _stat(page, label):
    return page.locator(".stat", has_text=label).locator(".stat-value")


def test_the_vendor_signs_in_and_the_dashboard_is_live(browsers):
    page = browsers.signed_in(VENDOR_EMAIL)
    expect(page.get_by_role("heading", name=f"Today at {SHOP}")).to_be_visible()
    _live(page)
    expect(_nav(page, "Orders")).to_be_visible()
    expect(page.get_by_text("Revenue, last 14 days")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Sound is off"))).to_be_visible()
    screenshot(page, "vendor-dashboard")

    phone = browsers.signed_in(VENDOR_EMAIL, viewport=PHONE)
    _live(phone)
    phone.get_by_role("button", name="Menu").click()
    expect(_nav(phone, "Orders")).to_be_visible()
    screenshot(phone, "vendor-dashboard-phone")


def test_a_new_order_appears_live_with_a_toast_and_moves_through_its_statuses(browsers, customer_app):
    page = browsers.signed_in(VENDOR_EMAIL)
    _live(page)
    waiting_before = int(_stat(page, "Waiting for you").inner_text())
    orders_before = int(_stat(page, "Orders today").inner_text())

    order = customer_app.order_from(SHOP)

    expect(page.get_by_role("status").filter(has_text=f"New order {order['number']}")).to_be_visible()
    expect(_stat(page, "Waiting for you")).to_have_text(str(waiting_before + 1))
    expect(_stat(page, "Orders today")).to_have_text(str(orders_before + 1))
    expect(page.locator("#dashboard-latest-orders").get_by_role("link", name=order["number"])).to_be_visible()

    _nav(page, "Orders").click()
    row = page.get_by_role("row").filter(has_text=order["number"])
    expect(row).to_be_visible()
    expect(row.get_by_text(re.compile(r"\d+:\d\d left"))).to_be_visible()
    screenshot(page, "vendor-orders")

    row.get_by_role("link", name=order["number"]).click()
    expect(page.get_by_role("heading", name=re.compile(order["number"]))).to_be_visible()
    screenshot(page, "vendor-order-detail")
    page.get_by_label("Ready in").select_option(label="20 min")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("[data-order-status]")).to_have_text(re.compile("Confirmed", re.I))
    _until(lambda: customer_app.call("GET", f"/orders/{order['id']}")["estimated_ready_at"] is not None)

    for button, status in (
        ("Start preparing", "preparing"),
        ("Mark ready", "ready"),
        ("Out for delivery", "out_for_delivery"),
        ("Mark delivered", "delivered"),
    ):
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator("[data-order-status]")).to_have_text(re.compile(status.replace("_", " "), re.I))
        _until(lambda wanted=status: customer_app.call("GET", f"/orders/{order['id']}")["status"] == wanted)
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text("Vera Okonkwo")


def _until(condition, timeout=10.0, describe=lambda: ""):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met in time {describe()}"
        time.sleep(0.2)


def test_two_tabs_stay_in_step_and_only_one_rings(browsers, customer_app):
    first = browsers.signed_in(VENDOR_EMAIL, landing=PENDING_ORDERS)
    # A second tab of the same browser: the same session, the same Web Locks.
    second = first.context.new_page()
    second.goto(PENDING_ORDERS)
    tabs = [first, second]
    for tab in tabs:
        _live(tab)
        tab.get_by_role("button", name=re.compile("Sound is off")).click()
        expect(tab.get_by_role("button", name="Sound on")).to_be_visible()

    order = customer_app.order_from(SHOP)
    for tab in tabs:
        expect(tab.get_by_role("row").filter(has_text=order["number"])).to_be_visible()
    alarms = lambda: sorted(tab.evaluate("document.body.dataset.alarm") for tab in tabs)  # noqa: E731
    _until(lambda: alarms() == ["ringing", "standby"], describe=alarms)
    ringing = next(tab for tab in tabs if tab.evaluate("document.body.dataset.alarm") == "ringing")
    other = next(tab for tab in tabs if tab is not ringing)
    expect(other.get_by_text("Alarm rings in another tab")).to_be_visible()

    # Accepting every waiting order in one tab silences the alarm in both, and the other tab follows.
    # (The tab that moved between pages needs a click again before it may play sound: "off".)
    for number in _pending_numbers(ringing):
        _accept_from_list(ringing, number)
    expect(other.get_by_role("row").filter(has_text=order["number"])).to_have_count(0)
    _until(lambda: "ringing" not in alarms() and "armed" in alarms(), describe=alarms)


PENDING_ORDERS = "/vendor/orders/?status=pending"


def _pending_numbers(page):
    return page.get_by_role("link", name=re.compile(r"^ZR-")).all_inner_texts()


def _accept_from_list(page, number):
    page.get_by_role("link", name=number).first.click()
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("[data-order-status]")).to_have_text(re.compile("Confirmed", re.I))
    page.goto(PENDING_ORDERS)


def test_a_stale_status_click_rolls_back_with_the_message(browsers, customer_app, vendor_app):
    order = customer_app.order_from(SHOP)
    page = browsers.signed_in(VENDOR_EMAIL, landing=f"/vendor/orders/{order['id']}/")
    _live(page)
    # The tablet's connection drops without it noticing; meanwhile the shop's phone accepts the order.
    page.evaluate("window.zoraRealtime.connect = () => {}; window.zoraRealtime.close()")
    vendor_app.call(
        "POST", f"/vendor/orders/{order['id']}/transition", json={"status": "confirmed", "expected_status": "pending"}
    )
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text(re.compile("already", re.I))).to_be_visible()
    expect(page.locator("[data-order-status]")).to_have_text(re.compile("Confirmed", re.I))
    expect(page.get_by_role("button", name="Start preparing")).to_be_visible()
    screenshot(page, "vendor-order-stale")


def test_orders_placed_while_the_server_was_down_all_appear_after_it_returns(browsers, portal_server, customer_app):
    own = LiveServer(env=_server_env(), name="restarted").start()
    try:
        context = browsers.chromium.new_context(base_url=own.base_url)
        browsers.contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/?next=/vendor/orders/")
        page.get_by_label("Email").fill(VENDOR_EMAIL)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        _live(page)

        own.stop()
        expect(page.get_by_role("status").filter(has_text="Reconnecting…")).to_be_visible()
        # Customers keep ordering through the other server process while this one is down.
        placed = [customer_app.order_from(SHOP) for _ in range(3)]
        own.start()
        returned_at = time.monotonic()
        _live(page)
        assert time.monotonic() - returned_at < 5.0
        for order in placed:
            expect(page.get_by_role("row").filter(has_text=order["number"])).to_be_visible()
    finally:
        own.close()


def test_the_applicants_page_turns_into_the_portal_when_approved(browsers):
    page = browsers.signed_in(APPLICANT_EMAIL, landing="/vendor/application/")
    expect(page.get_by_role("heading", name=re.compile("application", re.I))).to_be_visible()
    _live(page)
    screenshot(page, "vendor-application")

    # A platform admin approves it in Django admin, in another browser.
    admin = browsers.signed_in(ADMIN_EMAIL, landing="/dashboard/")
    admin.goto(f"/admin/vendors/vendorapplication/?q={APPLICANT_EMAIL}")
    for action in ("Start review", "Approve: create the vendor"):
        admin.get_by_role("checkbox", name="Select this object for an action").first.check()
        admin.get_by_label("Action:").select_option(label=action)
        admin.get_by_role("button", name="Go").click()
        expect(admin.get_by_text(re.compile(r"(Under review|Approved): 1\."))).to_be_visible()

    page.wait_for_url("**/vendor/")
    expect(page.get_by_role("heading", name=re.compile("^Today at"))).to_be_visible()
    _live(page)
