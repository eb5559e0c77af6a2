"""The deployment's security settings, through the doors an attacker uses: Django's own deployment
check on production settings, the headers and cookies a real daphne behind a TLS proxy sends,
CSRF on every portal form, the password rules on every password form, /metrics, the sign-in
throttle behind a proxy, and the columns the event stream may never carry.
"""

import os
import re
import subprocess
import sys
from importlib import import_module

import pytest
import requests
from django.apps import apps
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.core.management.utils import get_random_secret_key
from django.db import models
from django.test import Client
from django.urls import URLResolver
from django.urls.resolvers import RoutePattern

from realtime.publication import TABLES
from tests import factories
from tests.live.servers import PROJECT_ROOT
from zora.uploads import public_storage

pytest_plugins = ["tests.live.plugin"]

PASSWORD = "correct-horse-battery-staple-42"


def _pbkdf2_user(**fields):
    """A user whose password a server process can check (the tests' own hasher is MD5, for speed)."""
    user = factories.UserFactory(**fields)
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


# Django's deployment check ---------------------------------------------------------------------


def test_production_settings_pass_the_deployment_check_without_a_warning():
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_NAME"}
    env.update(
        DEBUG="false",
        SECRET_KEY=get_random_secret_key(),
        ALLOWED_HOSTS="zora.example.com",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        METRICS_TOKEN=get_random_secret_key(),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


# Behind a TLS-terminating proxy ----------------------------------------------------------------


@pytest.fixture
def behind_proxy(daphne_servers):
    """A server as production runs it: DEBUG off, the proxy's header set, every HTTPS default in force."""
    return daphne_servers.start(
        "daphne behind a TLS proxy",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        # Empty is unset: the defaults, not the plain-HTTP overrides the other live tests run with.
        SESSION_COOKIE_SECURE="",
        CSRF_COOKIE_SECURE="",
        METRICS_TOKEN="",
    )


HTTPS = {"X-Forwarded-Proto": "https"}


def _cookie_attributes(response, name: str) -> set[str]:
    [header] = [value for value in response.raw.headers.getlist("Set-Cookie") if value.startswith(f"{name}=")]
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_over_https_every_security_header_is_sent_and_cookies_are_secure_only(behind_proxy):
    user = _pbkdf2_user()
    login_url = f"{behind_proxy.base_url}/accounts/login/"
    page = requests.get(login_url, headers=HTTPS, timeout=10)

    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "secure" in _cookie_attributes(page, "csrftoken")

    csrf_token = page.raw.headers.getlist("Set-Cookie")[0].split(";")[0].split("=", 1)[1]
    signed_in = requests.post(
        login_url,
        {"email": user.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token},
        headers={**HTTPS, "Cookie": f"csrftoken={csrf_token}", "Origin": f"https://127.0.0.1:{behind_proxy.port}"},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text[:2000]
    assert {"secure", "httponly"} <= _cookie_attributes(signed_in, "sessionid")


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_plain_http_is_redirected_except_for_the_health_check_and_metrics_are_closed(behind_proxy):
    plain = requests.get(f"{behind_proxy.base_url}/accounts/login/", allow_redirects=False, timeout=10)
    health = requests.get(f"{behind_proxy.base_url}/healthz", timeout=10)
    scrape = requests.get(f"{behind_proxy.base_url}/metrics", allow_redirects=False, timeout=10)

    assert (plain.status_code, plain.headers["Location"]) == (
        301,
        f"https://127.0.0.1:{behind_proxy.port}/accounts/login/",
    )
    assert "Strict-Transport-Security" not in plain.headers  # only ever sent over HTTPS
    assert health.status_code == 200
    assert scrape.status_code == 401 and "METRICS_TOKEN" in scrape.text


# CSRF on every portal form -------------------------------------------------------------------

PORTAL_URLCONFS = {
    "/vendor/": "zora.vendor_urls",
    "/dashboard/": "zora.dashboard_urls",
    "/accounts/": "accounts.portal.urls",
}
# A value each path converter accepts; the view never runs, so no row need exist.
SAMPLE_VALUES = {"int": "1", "id": "1", "str": "sample", "slug": "sample", "path": "sample", "uuid": "0" * 32}


def _paths(patterns, prefix: str):
    for entry in patterns:
        assert isinstance(entry.pattern, RoutePattern), f"{entry.pattern} is a regex: give it a sample here"
        route = re.sub(r"<(?:(\w+):)?\w+>", lambda match: SAMPLE_VALUES[match.group(1) or "str"], str(entry.pattern))
        if isinstance(entry, URLResolver):
            yield from _paths(entry.url_patterns, prefix + route)
        else:
            yield prefix + route


def portal_paths() -> list[str]:
    return sorted(
        {
            path
            for prefix, urlconf in PORTAL_URLCONFS.items()
            for path in _paths(import_module(urlconf).urlpatterns, prefix)
        }
    )


@pytest.mark.django_db
def test_every_portal_url_refuses_a_post_without_the_csrf_token():
    # The most privileged portal user there is: a platform admin who also owns a shop.
    vendor = factories.VendorFactory(owner__is_staff=True)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(vendor.owner)
    paths = portal_paths()

    answers = {path: browser.post(path, {"name": "x"}).status_code for path in paths}

    assert {"/vendor/shop/profile/", "/dashboard/", "/accounts/login/"} <= set(paths)
    assert len(paths) > 50
    assert {path: status for path, status in answers.items() if status != 403} == {}


# Password rules ------------------------------------------------------------------------------

WEAK = {
    "password123": "This password is too common.",
    "12345678901": "This password is entirely numeric.",
    "short1": "This password is too short.",
}


@pytest.mark.django_db
@pytest.mark.parametrize("weak", WEAK)
def test_a_password_change_is_held_to_the_password_rules(client, vendor, weak):
    client.force_login(vendor.owner)

    refused = client.post(
        "/accounts/password/change/",
        {"old_password": factories.PASSWORD, "new_password1": weak, "new_password2": weak},
    )

    assert refused.status_code == 200
    assert WEAK[weak] in refused.content.decode().replace("&#x27;", "'")
    vendor.owner.refresh_from_db()
    assert vendor.owner.check_password(factories.PASSWORD)


@pytest.mark.django_db
def test_a_password_reset_is_held_to_the_password_rules(client, vendor):
    client.post("/accounts/password/reset/", {"email": vendor.owner.email})
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    similar = vendor.owner.email.upper()

    refused = client.post(form_page.redirect_chain[-1][0], {"new_password1": similar, "new_password2": similar})

    assert refused.status_code == 200
    assert "The password is too similar to the email." in refused.content.decode()
    vendor.owner.refresh_from_db()
    assert vendor.owner.check_password(factories.PASSWORD)


# /metrics ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "debug, token, authorization, status",
    [
        (False, "", None, 401),
        (False, "", "Bearer ", 401),
        (True, "", None, 200),
        (False, "scrape-me-please-0123456789", None, 401),
        (False, "scrape-me-please-0123456789", "Bearer wrong", 401),
        (False, "scrape-me-please-0123456789", "Basic scrape-me-please-0123456789", 401),
        (True, "scrape-me-please-0123456789", None, 401),
        (False, "scrape-me-please-0123456789", "Bearer scrape-me-please-0123456789", 200),
        (False, "scrape-me-please-0123456789", "bearer scrape-me-please-0123456789", 200),
    ],
    ids=[
        "production without a token",
        "production with an empty bearer",
        "development without a token",
        "token set, none sent",
        "a wrong token",
        "the token as a password",
        "token set in development too",
        "the token",
        "the token, lower-case scheme",
    ],
)
def test_metrics_are_only_for_the_bearer_of_the_token_or_in_development(
    client, settings, debug, token, authorization, status
):
    settings.DEBUG, settings.METRICS_TOKEN = debug, token
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    response = client.get("/metrics", **headers)

    assert response.status_code == status
    assert (b"zora_realtime" in response.content) == (status == 200)


# Sign-in throttling behind a proxy -----------------------------------------------------------


def _sign_in(server, email: str, password: str, address: str) -> int:
    """A portal sign-in from `address`, as the proxy in front records it."""
    session = requests.Session()
    session.get(f"{server.base_url}/accounts/login/", timeout=10)
    response = session.post(
        f"{server.base_url}/accounts/login/",
        {"email": email, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"X-Forwarded-For": address},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_an_attacker_hammering_an_email_behind_the_proxy_does_not_lock_its_owner_out(daphne_servers):
    server = daphne_servers.start("daphne behind one proxy", API_NUM_PROXIES="1", LOGIN_FAILURES_PER_ACCOUNT="3")
    victim = _pbkdf2_user()
    attacker, owner = "203.0.113.7", "198.51.100.20"

    guesses = [_sign_in(server, victim.email, f"guess-{attempt}", attacker) for attempt in range(3)]

    assert guesses == [400, 400, 400]
    # The attacker is locked out, even with the right password...
    assert _sign_in(server, victim.email, PASSWORD, attacker) == 429
    # ...and the owner, every request of whose reaches the server from the same proxy, is not.
    assert _sign_in(server, victim.email, PASSWORD, owner) == 302


# What the event stream may carry -------------------------------------------------------------

SECRET_NAME = re.compile(r"password|token|secret|key|hash|salt|session|otp", re.IGNORECASE)


def _published_fields():
    for table in TABLES.values():
        by_column = {field.attname: field for field in table.model._meta.concrete_fields}
        for column in table.column_names:
            yield table, by_column[column]


def test_no_published_column_is_a_credential_or_a_private_file():
    for table, field in _published_fields():
        assert not SECRET_NAME.search(field.name), f"{table.name}.{field.attname} looks like a secret"
        if isinstance(field, models.FileField):
            assert field.storage is public_storage(), f"{table.name}.{field.attname} is a private file"


def test_no_model_field_that_holds_a_secret_is_published():
    secrets = {
        (model._meta.label, field.attname)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if SECRET_NAME.search(field.name) or field.name in ("password", "session_data")
    }
    published = {(table.model._meta.label, field.attname) for table, field in _published_fields()}

    # The rule sees what it must: the password, the token hashes, the sessions, checkout keys.
    assert {
        ("accounts.User", "password"),
        ("accounts.ApiToken", "key_hash"),
        ("sessions.Session", "session_data"),
        ("orders.Checkout", "idempotency_key"),
    } <= secrets
    assert secrets & published == set()
    for label in ("accounts.User", "accounts.ApiToken", "sessions.Session", "orders.Checkout"):
        assert label not in {table.model._meta.label for table in TABLES.values()}, f"{label} is published"
