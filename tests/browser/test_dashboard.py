"""The admin dashboard in real Chromium against a real daphne, used the way the platform team uses it."""

import csv
import io
import json
import re
import time
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import requests
from playwright.sync_api import expect
from websockets.sync.client import connect

from accounts.management.commands.seed_demo import ADMIN_EMAIL, APPLICANT_EMAIL, CUSTOMER_EMAIL, VENDOR_EMAIL
from tests.browser.conftest import PHONE, SUPPORT_INBOUND_TOKEN, screenshot
from tests.browser.test_vendor_portal import App, _live

# `django_db` only so the test database is set up; the demo world is committed by the module's fixture.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _admin(browsers, landing="/dashboard/"):
    page = browsers.signed_in(ADMIN_EMAIL, landing=landing)
    _live(page)
    return page


def test_the_overview_is_live_and_only_for_admins(browsers):
    page = _admin(browsers)
    expect(page.get_by_role("heading", name="The marketplace today")).to_be_visible()
    expect(page.locator("#online-dashboard")).to_have_text(re.compile(r"[1-9]"))
    screenshot(page, "dashboard-overview")

    vendor = browsers.signed_in(VENDOR_EMAIL)
    vendor.goto("/dashboard/")
    expect(vendor.get_by_text("The dashboard is for the Zora platform team")).to_be_visible()
    expect(vendor.get_by_role("button", name="Sign in")).to_be_visible()


def test_approving_the_application_turns_the_applicants_page_into_the_portal(browsers):
    applicant = browsers.signed_in(APPLICANT_EMAIL, landing="/vendor/application/")
    _live(applicant)
    page = _admin(browsers, landing="/dashboard/applications/")
    screenshot(page, "dashboard-applications")
    page.get_by_role("link", name=re.compile("All")).first.click()
    page.get_by_role("link", name="Peckham Spice Market").click()
    if page.get_by_role("button", name="Start review").count():
        page.get_by_role("button", name="Start review").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text(re.compile("Approved", re.I)).first).to_be_visible()
    expect(applicant).to_have_url(re.compile(r"/vendor/$"))
    expect(applicant.get_by_role("heading", name=re.compile("^Today at"))).to_be_visible()


def test_two_admins_see_each_other_and_a_stale_approve_is_refused(browsers):
    first = _admin(browsers, landing="/dashboard/applications/")
    first.get_by_role("link", name=re.compile("^Under review")).click()
    first.get_by_role("link", name="Greenwich Cheese Room").click()
    second = _admin(browsers, landing=first.url.replace(browsers.server.base_url, ""))
    # Both are the demo admin in two browsers: each sees the other tab by name.
    expect(first.get_by_role("status").filter(has_text="Also here: Ada Lovell")).to_be_visible()
    expect(second.get_by_role("status").filter(has_text="Also here: Ada Lovell")).to_be_visible()
    screenshot(first, "dashboard-application")

    # The second admin's connection drops unnoticed; the first rejects meanwhile.
    second.evaluate("window.zoraRealtime.connect = () => {}; window.zoraRealtime.close()")
    first.get_by_role("button", name=re.compile("^Reject")).first.click()
    first.get_by_label("Reason", exact=True).select_option(index=1)
    first.get_by_role("button", name=re.compile("^Reject the application|^Reject$")).last.click()
    expect(first.get_by_text(re.compile("Rejected", re.I)).first).to_be_visible()

    # The second page still shows it under review: its approve must not overwrite the rejection.
    second.get_by_role("button", name="Approve").click()
    expect(
        second.get_by_text(re.compile(r"Ada Lovell rejected this \d+ seconds? ago; nothing was changed"))
    ).to_be_visible()


def test_an_announcement_appears_as_a_banner_on_a_vendor_page(browsers):
    vendor = browsers.signed_in(VENDOR_EMAIL)
    _live(vendor)
    page = _admin(browsers, landing="/dashboard/announcements/")
    page.get_by_label("Title").fill("Heavy rain tonight")
    page.get_by_label("Message").fill("Deliveries may run up to 20 minutes late.")
    page.get_by_role("button", name="Send").click()
    expect(vendor.get_by_role("status").filter(has_text="Heavy rain tonight")).to_be_visible(timeout=3000)
    expect(page.get_by_role("main").get_by_text("Heavy rain tonight").first).to_be_visible()


def test_suspending_a_user_closes_their_open_socket(browsers, portal_server):
    app = App(portal_server, CUSTOMER_EMAIL)
    token = app.headers["Authorization"].split()[1]
    url = f"ws://127.0.0.1:{portal_server.port}/realtime/v1/websocket?apikey={token}&vsn=1.0.0"
    with connect(url, open_timeout=10) as socket:
        socket.send(
            json.dumps(
                {
                    "topic": "realtime:orders",
                    "event": "phx_join",
                    "ref": "1",
                    "join_ref": "1",
                    "payload": {
                        "config": {"postgres_changes": [{"event": "*", "schema": "public", "table": "orders"}]}
                    },
                }
            )
        )
        assert json.loads(socket.recv(timeout=10))["payload"]["status"] == "ok"
        page = _admin(browsers, landing="/dashboard/users/")
        page.get_by_label("Name or email").fill(CUSTOMER_EMAIL)
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name=re.compile("Chloe Mensah")).click()
        page.get_by_label("Why suspend").fill("Chargeback fraud")
        page.get_by_role("button", name="Suspend").click()
        expect(page.get_by_text(re.compile("suspended", re.I)).first).to_be_visible()
        closed = None
        try:
            while True:
                socket.recv(timeout=10)
        except Exception as exc:  # the server closes the socket: websockets raises ConnectionClosed
            closed = exc
        assert getattr(closed, "rcvd", None) is not None and closed.rcvd.code == 4001, closed
    page.get_by_label("Why reactivate").fill("Resolved with the bank")
    page.get_by_role("button", name="Reactivate").click()
    expect(page.get_by_role("button", name="Suspend")).to_be_visible()


def test_the_activity_log_exports_the_filtered_rows(browsers, portal_server):
    page = _admin(browsers, landing="/dashboard/activity/?category=vendor")
    rows = page.get_by_role("row").count() - 1
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    export = requests.get(
        f"{portal_server.base_url}/dashboard/activity/export.csv?category=vendor", cookies=cookies, timeout=15
    )
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(export.text)))
    assert len(lines) == rows and lines
    assert {line["category"] for line in lines} == {"vendor"}


def test_the_activity_log_is_live_and_reads_on_a_phone(browsers):
    log = browsers.signed_in(ADMIN_EMAIL, landing="/dashboard/activity/", viewport=PHONE)
    _live(log)
    expect(log.get_by_role("columnheader", name="Details")).to_be_hidden()
    # Each entry is a card that fits the screen: nothing to scroll sideways to.
    assert log.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(log, "dashboard-activity-phone")
    sent = log.get_by_role("row").filter(has_text="announcement.sent")
    sent_before = sent.count()
    other = _admin(browsers, landing="/dashboard/announcements/")
    other.get_by_label("Title").fill("Card payments restored")
    other.get_by_label("Message").fill("Card payments work again.")
    other.get_by_role("button", name="Send").click()
    # The new entry arrives without a reload.
    expect(sent).to_have_count(sent_before + 1, timeout=5000)


def _subscribe(socket, table):
    socket.send(
        json.dumps(
            {
                "topic": f"realtime:{table}",
                "event": "phx_join",
                "ref": "1",
                "join_ref": "1",
                "payload": {"config": {"postgres_changes": [{"event": "*", "schema": "public", "table": table}]}},
            }
        )
    )
    assert json.loads(socket.recv(timeout=10))["payload"]["status"] == "ok"


def _next_insert(socket, table, *, containing: str) -> dict:
    """The record of the first INSERT on `table` whose record mentions `containing`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        frame = json.loads(socket.recv(timeout=10))
        data = frame["payload"].get("data") or {}
        if frame["event"] == "postgres_changes" and data.get("table") == table and data.get("type") == "INSERT":
            if containing in json.dumps(data["record"]):
                return data["record"]
    raise AssertionError(f"no INSERT on {table} mentioning {containing!r}")


def _mail_to(mailbox, address: str, *, after: int):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for mail in mailbox.messages[after:]:
            if address in mail["To"]:
                return mail
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} arrived")


def test_a_reply_is_emailed_with_threading_headers_and_the_answer_lands_live(browsers, portal_server, mailbox):
    app = App(portal_server, CUSTOMER_EMAIL)
    thread = next(t for t in app.call("GET", "/support/threads")["results"] if t["subject"].startswith("Where is"))
    token = app.headers["Authorization"].split()[1]
    url = f"ws://127.0.0.1:{portal_server.port}/realtime/v1/websocket?apikey={token}&vsn=1.0.0"
    with connect(url, open_timeout=10) as socket:
        _subscribe(socket, "email_messages")
        page = _admin(browsers, landing="/dashboard/support/?view=all")
        page.get_by_role("link", name=thread["subject"]).click()
        page.get_by_label("Quick reply").select_option(label="Order delayed")
        page.get_by_role("button", name="Use").click()
        expect(page.get_by_label("Reply to the customer")).to_have_value(re.compile("running late"))
        sent_before = len(mailbox.messages)
        page.get_by_role("button", name="Send reply").click()
        timeline = page.get_by_role("region", name="Messages and notes")
        expect(timeline.get_by_text(re.compile("running late")).last).to_be_visible()
        # The actions come back with the answer, whatever the socket's own refresh does meanwhile.
        expect(page.get_by_role("button", name="Send reply")).to_be_visible()
        expect(page.get_by_role("button", name="Add note")).to_be_visible()

        mail = _mail_to(mailbox, CUSTOMER_EMAIL, after=sent_before)
        assert "running late" in mail.get_content()
        assert mail["Message-ID"] and mail["In-Reply-To"] and mail["In-Reply-To"] in mail["References"]
        # The customer's app sees the reply live through the socket, and in the API's thread.
        assert "running late" in _next_insert(socket, "email_messages", containing="running late")["body"]
        bodies = [
            message["body"] for message in app.call("GET", f"/support/threads/{thread['id']}/messages")["results"]
        ]
        assert any("running late" in body for body in bodies)

        answer = EmailMessage()
        answer["From"] = f"Chloe Mensah <{CUSTOMER_EMAIL}>"
        answer["To"] = mail["From"]
        answer["Subject"] = f"Re: {mail['Subject']}"
        answer["Message-ID"] = make_msgid(domain="example.com")
        answer["In-Reply-To"] = mail["Message-ID"]
        answer["References"] = f"{mail['References']} {mail['Message-ID']}"
        answer.set_content("Thanks, it has just arrived.")
        delivered = requests.post(
            f"{portal_server.base_url}/api/v1/support/inbound",
            data=answer.as_bytes(),
            headers={"Authorization": f"Bearer {SUPPORT_INBOUND_TOKEN}", "Content-Type": "message/rfc822"},
            timeout=15,
        )
        assert delivered.status_code == 201, delivered.text
        assert delivered.json()["thread"] == thread["id"]
        expect(timeline.get_by_text("Thanks, it has just arrived.")).to_be_visible(timeout=5000)
        screenshot(page, "dashboard-support-thread")
    page.goto("/dashboard/support/?view=all")
    _live(page)
    screenshot(page, "dashboard-support")
