"""Fixtures for the portal tests: the demo marketplace, a real daphne, the system Chromium.

The demo world is loaded once per module through the same services as real
traffic (`seed_demo`), committed so the server process sees it, and flushed
when the module ends so no other test finds it. Tests talk to the server only
through its doors: the browser, the API over HTTP, the socket.
"""

import os
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from io import StringIO
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import sync_playwright

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import User
from tests.live.plugin import _require_real_services, _server_env
from tests.live.servers import LiveServer, free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEMO_LOGINS = ("vendor@zora.test", "customer@zora.test", "applicant@zora.test", "admin@zora.test")
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """seed_demo, committed; its sign-in passwords hashed as the server hashes them."""
    _require_real_services()
    with django_db_blocker.unblock():
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            call_command("seed_demo", stdout=StringIO())
        hasher = PBKDF2PasswordHasher()
        for user in User.objects.filter(email__in=DEMO_LOGINS):
            user.password = hasher.encode(DEMO_PASSWORD, hasher.salt())
            user.save(update_fields=["password"])
        yield
        call_command("flush", interactive=False, verbosity=0)
        redis.Redis.from_url(settings.REDIS_URL).flushdb()


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd) that keeps every mail the portal server sends."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


SUPPORT_INBOUND_TOKEN = "inbound-test-token-0123456789"


@pytest.fixture(scope="module")
def portal_server(demo_world, mailbox):
    """One daphne for the module, sending mail to the module's SMTP server; timed changes sweep every
    second so deadlines pass quickly."""
    env = _server_env(
        TIMED_CHANGES_MAX_INTERVAL_SECONDS="1", EMAIL_URL=mailbox.url, SUPPORT_INBOUND_TOKEN=SUPPORT_INBOUND_TOKEN
    )
    server = LiveServer(env=env, name="portal").start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def chromium(django_db_setup):
    """One browser per module, stopped with it: Playwright's sync API runs an event loop in this
    thread while it lives, which later async tests must not find running. Meanwhile the tests'
    own ORM calls are ordinary blocking code that never shares that loop."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


class Browsers:
    """Opens browser contexts (one per person or device) and closes them after the test."""

    def __init__(self, chromium, server):
        self.chromium = chromium
        self.server = server
        self.contexts = []

    def context(self, viewport=None):
        context = self.chromium.new_context(viewport=viewport or LAPTOP, base_url=self.server.base_url)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context

    def signed_in(self, email: str, *, viewport=None, landing: str = "/vendor/"):
        """A fresh page signed in through the login form, as a person does."""
        page = self.context(viewport).new_page()
        page.goto(f"/accounts/login/?next={landing}")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{landing}**")
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(chromium, portal_server):
    opened = Browsers(chromium, portal_server)
    yield opened
    opened.close()


def screenshot(page, name: str) -> Path:
    """Saved under docs/screenshots/, where the portal's docs show them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
