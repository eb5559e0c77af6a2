"""Every setting of docs/operations.md either works, in any combination, or stops the process as
it starts with ImproperlyConfigured naming the setting and what it takes.

Each case is a real `manage.py check` in a subprocess with its own environment; the combinations
that once started and then failed at the first request (a SQLite DATABASE_URL, `?conn_max_age=`)
also start daphne and must answer /healthz.
"""

import os
import subprocess
import sys

import pytest
import requests
from django.db import connection

from tests.live.servers import PROJECT_ROOT, LiveServer, database_url

SECRET_KEY = "k" * 10 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
POSTGRES = "postgres://zora:hunter2@127.0.0.1:5432/zora"
# The variables this run's own environment may hold that a case must not inherit.
INHERITED = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TEST_DATABASE_NAME", "CHANNEL_LAYER"}


def production(**overrides: str) -> dict[str, str]:
    """A production environment (PostgreSQL, Redis, DEBUG off) with `overrides`; "" unsets a variable."""
    env = {key: value for key, value in os.environ.items() if key not in INHERITED}
    env.update(DATABASE_URL=POSTGRES, REDIS_URL="redis://127.0.0.1:6379/0", SECRET_KEY=SECRET_KEY, DEBUG="false")
    env.update(overrides)
    return {key: value for key, value in env.items() if value != ""}


def manage_check(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def refusal(env: dict[str, str]) -> str:
    """The ImproperlyConfigured message a check in `env` stopped with."""
    result = manage_check(env)
    assert result.returncode != 0, f"started although it should not have:\n{result.stdout}{result.stderr}"
    last_line = result.stderr.strip().splitlines()[-1]
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    assert last_line.startswith(prefix), f"not stopped by ImproperlyConfigured:\n{result.stderr[-3000:]}"
    return last_line.removeprefix(prefix)


REFUSED = {
    # name: (overrides, words the message must hold besides the variable's name)
    "a MySQL database": ({"DATABASE_URL": "mysql://zora:hunter2@db/zora"}, ["postgres://", "sqlite:///"]),
    "a port that is not a number": ({"DATABASE_URL": "postgres://zora:hunter2@db:fivefourthree/zora"}, ["postgres://"]),
    "no database name": ({"DATABASE_URL": "postgres://zora:hunter2@db:5432"}, ["<database>"]),
    "an unknown libpq parameter": ({"DATABASE_URL": POSTGRES + "?sslmod=require"}, ['"sslmod"']),
    "an unknown SQLite parameter": ({"DATABASE_URL": "sqlite:////tmp/zora.db?cache=shared"}, ["?timeout="]),
    "conn_max_age in the URL with the pool": (
        {"DATABASE_URL": POSTGRES + "?conn_max_age=60"},
        ["DATABASE_POOL_SIZE=0"],
    ),
    "conn_max_age that is not a number": (
        {"DATABASE_URL": POSTGRES + "?conn_max_age=forever", "DATABASE_POOL_SIZE": "0"},
        ["whole number"],
    ),
    "CONN_MAX_AGE with the pool": ({"CONN_MAX_AGE": "60"}, ["DATABASE_POOL_SIZE=0"]),
    "a negative pool": ({"DATABASE_POOL_SIZE": "-1"}, ["whole number of at least 0"]),
    "a pool size in words": ({"DATABASE_POOL_SIZE": "twenty"}, ["whole number"]),
    "no time to wait for the pool": ({"DATABASE_POOL_TIMEOUT": "0"}, ["greater than 0"]),
    "a mistyped channel layer": ({"CHANNEL_LAYER": "redis"}, ["core, pubsub"]),
    "a mistyped channel layer without Redis": ({"CHANNEL_LAYER": "Pubsub", "REDIS_URL": ""}, ["core, pubsub"]),
    "a channel layer of no capacity": ({"CHANNEL_LAYER": "core", "CHANNEL_LAYER_CAPACITY": "0"}, ["at least 1"]),
    "a prefix with a space": ({"CHANNEL_LAYER_PREFIX": "zora prod"}, ["letters, digits"]),
    "a Redis URL without a scheme": ({"REDIS_URL": "redis-host:6379"}, ["redis://"]),
    "a Redis database that is not a number": ({"REDIS_URL": "redis://:hunter2@127.0.0.1:6379/cache"}, ["redis://"]),
    "a Redis timeout within the 5 s poll": ({"REDIS_SOCKET_TIMEOUT": "5"}, ["greater than 5"]),
    "a Redis timeout in scientific notation": ({"REDIS_SOCKET_TIMEOUT": "1e3s"}, ["greater than 5"]),
    "a Redis pool of none": ({"REDIS_POOL_SIZE": "0"}, ["at least 1"]),
    "a misspelt DEBUG": ({"DEBUG": "ture"}, ["true or false"]),
    "a short SECRET_KEY": ({"SECRET_KEY": "hunter2-but-longer-than-32-characters!"}, ["at least 50 characters"]),
    "a SECRET_KEY of one character": ({"SECRET_KEY": "x" * 60}, ["at least 50 characters"]),
    "ALLOWED_HOSTS of only commas": ({"ALLOWED_HOSTS": " , "}, ["host names"]),
    "a CSRF origin without a scheme": ({"CSRF_TRUSTED_ORIGINS": "zora.example.com"}, ["https://zora.example.com"]),
    "any origin for sockets": ({"REALTIME_ALLOWED_ORIGINS": "*"}, ["https://zora.example.com"]),
    "a socket origin with a path": ({"REALTIME_ALLOWED_ORIGINS": "https://shop.example/app"}, ["scheme, host"]),
    "a secure-cookie flag in words": ({"SESSION_COOKIE_SECURE": "yes please"}, ["true or false"]),
    "a CSRF-cookie flag in words": ({"CSRF_COOKIE_SECURE": "sure"}, ["true or false"]),
    "a proxy header with its value": ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}, ["X-Forwarded-Proto"]),
    "a redirect flag in words": ({"SECURE_SSL_REDIRECT": "always"}, ["true or false"]),
    "HSTS in years": ({"SECURE_HSTS_SECONDS": "1y"}, ["whole number"]),
    "an HSTS subdomains flag in words": ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "all"}, ["true or false"]),
    "an HSTS preload flag in words": ({"SECURE_HSTS_PRELOAD": "later"}, ["true or false"]),
    "a rate in words": ({"THROTTLE_AUTH": "10 per minute"}, ["10/min"]),
    "a rate without a period": ({"THROTTLE_WRITES": "120"}, ["10/min"]),
    "negative proxies": ({"API_NUM_PROXIES": "-1"}, ["at least 0"]),
    "an unknown mail scheme": ({"EMAIL_URL": "smtp2://mailer:hunter2@mail.example"}, ["smtp+tls://"]),
    "a mail port that is not a number": ({"EMAIL_URL": "smtp://mailer:hunter2@mail.example:smtp"}, ["smtp://"]),
    "a From without an address": ({"DEFAULT_FROM_EMAIL": "Zora"}, ["no-reply@zora.example.com"]),
    "a support From without an address": ({"SUPPORT_FROM_EMAIL": "support"}, ["no-reply@zora.example.com"]),
    "a negative reply target": ({"SUPPORT_FIRST_RESPONSE_HOURS_HIGH": "-4"}, ["greater than 0"]),
    "a reply target in words": ({"SUPPORT_FIRST_RESPONSE_HOURS_LOW": "three days"}, ["greater than 0"]),
    "a fee in pence": ({"DELIVERY_FEE": "2.999"}, ["at most two decimals"]),
    "a fee in words": ({"DELIVERY_FEE": "free"}, ["2.99"]),
    "a reminder after the deadline": ({"ORDER_ACCEPT_REMINDER_MINUTES": "9"}, ["less than ORDER_ACCEPT_MINUTES"]),
    "an escalation after the deadline": (
        {"ORDER_ACCEPT_MINUTES": "4", "ORDER_ACCEPT_REMINDER_MINUTES": "1"},
        ["ORDER_ACCEPT_ESCALATE_MINUTES", "less than ORDER_ACCEPT_MINUTES"],
    ),
    "an unknown log level": ({"LOG_LEVEL": "verbose"}, ["DEBUG, INFO, WARNING, ERROR, CRITICAL"]),
    "no retention": ({"REALTIME_RETENTION_HOURS": "0"}, ["at least 1"]),
    "no replay window": ({"IDEMPOTENCY_KEY_TTL_HOURS": "0"}, ["at least 1"]),
    "a sweep of nan seconds": ({"REALTIME_SWEEP_SECONDS": "nan"}, ["greater than 0"]),
    "an idle limit of infinity": ({"REALTIME_SOCKET_IDLE_SECONDS": "inf"}, ["greater than 0"]),
    "timed changes maybe": ({"TIMED_CHANGES_ENABLED": "maybe"}, ["true or false"]),
    "a timed-change interval of zero": ({"TIMED_CHANGES_MAX_INTERVAL_SECONDS": "0"}, ["greater than 0"]),
    "no sign-in failures allowed": ({"LOGIN_FAILURES_PER_ACCOUNT": "0"}, ["at least 1"]),
    "address failures in words": ({"LOGIN_FAILURES_PER_ADDRESS": "thirty"}, ["whole number"]),
    "a lockout in minutes": ({"LOGIN_LOCKOUT_SECONDS": "15m"}, ["whole number"]),
    "an image limit in megabytes": ({"UPLOAD_MAX_IMAGE_BYTES": "5MB"}, ["whole number"]),
    "a document limit of zero": ({"UPLOAD_MAX_DOCUMENT_BYTES": "0"}, ["at least 1"]),
    "private files under the public folder": (
        {"MEDIA_ROOT": "/srv/zora/media", "PRIVATE_MEDIA_ROOT": "/srv/zora/media/private"},
        ["outside MEDIA_ROOT"],
    ),
    "a negative offline pause": ({"VENDOR_PORTAL_OFFLINE_PAUSE_MINUTES": "-1"}, ["at least 0"]),
}


@pytest.mark.parametrize("overrides, expected", REFUSED.values(), ids=REFUSED.keys())
def test_a_setting_that_cannot_work_stops_the_process_naming_itself_and_what_it_takes(overrides, expected):
    message = refusal(production(**overrides))

    assert any(name in message for name in overrides), f"the message names none of {sorted(overrides)}: {message}"
    for words in expected:
        assert words in message
    assert "hunter2" not in message, "a password was echoed"


def test_a_secret_key_is_never_echoed():
    key = "a-secret-key-that-is-not-long-enough"
    result = manage_check(production(SECRET_KEY=key))

    assert result.returncode != 0
    assert key not in result.stdout + result.stderr


WORKING = {
    "the embedded default": {"DATABASE_URL": "", "REDIS_URL": "", "DEBUG": "", "SECRET_KEY": ""},
    "the embedded default with a channel layer named": {"DATABASE_URL": "", "REDIS_URL": "", "CHANNEL_LAYER": "core"},
    "production on the core layer": {"CHANNEL_LAYER": "core", "CHANNEL_LAYER_CAPACITY": "50"},
    "production on pub/sub with a prefix": {"CHANNEL_LAYER": "pubsub", "CHANNEL_LAYER_PREFIX": "zora-staging.eu_1"},
    "SQLite by URL": {"DATABASE_URL": "sqlite:////tmp/zora-configuration.db?timeout=5", "REDIS_URL": ""},
    "persistent connections instead of the pool": {
        "DATABASE_URL": POSTGRES + "?conn_max_age=60&sslmode=prefer",
        "DATABASE_POOL_SIZE": "0",
    },
    "CONN_MAX_AGE without the pool": {"CONN_MAX_AGE": "600", "DATABASE_POOL_SIZE": "0"},
    "conn_max_age=0 with the pool": {"DATABASE_URL": POSTGRES + "?conn_max_age=0"},
    "every HTTPS setting spelled out": {
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "SECURE_SSL_REDIRECT": "on",
        "SECURE_HSTS_SECONDS": "3600",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "no",
        "SECURE_HSTS_PRELOAD": "0",
        "SESSION_COOKIE_SECURE": "yes",
        "CSRF_COOKIE_SECURE": "1",
        "CSRF_TRUSTED_ORIGINS": "https://zora.example.com, https://*.zora.example.com",
        "REALTIME_ALLOWED_ORIGINS": "https://partner.example:8443",
        "ALLOWED_HOSTS": "*",
    },
    "an SMTP server, rates, fees and limits": {
        "EMAIL_URL": "smtp+tls://mailer:hunter2@mail.example:587",
        "THROTTLE_AUTH": "5/hour",
        "THROTTLE_WRITES": "1000/day",
        "DELIVERY_FEE": "0",
        "LOG_LEVEL": "INFO",
        "REDIS_URL": "rediss://:hunter2@redis.example:6380/3",
        "REDIS_SOCKET_TIMEOUT": "5.5",
        "ORDER_ACCEPT_MINUTES": "20",
        "ORDER_ACCEPT_REMINDER_MINUTES": "10",
        "ORDER_ACCEPT_ESCALATE_MINUTES": "15",
        "METRICS_TOKEN": "$tarts-with-a-dollar-like-some-generated-keys",
    },
    "a generated key that starts with a dollar": {"SECRET_KEY": "$" + SECRET_KEY},
}


@pytest.mark.parametrize("overrides", WORKING.values(), ids=WORKING.keys())
def test_documented_combinations_pass_the_checks(overrides):
    result = manage_check(production(**overrides))

    assert result.returncode == 0, result.stderr[-3000:]
    assert "System check identified no issues" in result.stdout


@pytest.fixture
def servers():
    started = []
    yield started
    for server in started:
        server.close()


def _serve(servers, env) -> dict:
    server = LiveServer(env=env, name="daphne")
    servers.append(server)
    # start() waits for /healthz to answer 200, and fails with the server's log if it does not.
    server.start()
    return requests.get(f"{server.base_url}/healthz", timeout=5).json()


@pytest.mark.live
def test_a_sqlite_database_url_serves(servers, tmp_path):
    health = _serve(servers, production(DATABASE_URL=f"sqlite:///{tmp_path / 'zora.db'}", REDIS_URL=""))

    assert health["checks"]["database"] == {"status": "ok", "vendor": "sqlite"}


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_persistent_connections_from_the_url_serve(servers):
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL: run via `make test`")
    url = database_url(connection.settings_dict) + "?conn_max_age=60"
    health = _serve(servers, production(DATABASE_URL=url, DATABASE_POOL_SIZE="0", REDIS_URL=os.environ["REDIS_URL"]))

    assert health["checks"]["database"] == {"status": "ok", "vendor": "postgresql"}
    assert health["checks"]["channel_layer"]["status"] == "ok"
