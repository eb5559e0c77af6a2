"""pytest fixtures for the live tests: real daphne processes, realtime-js under Node,
Supabase's Python client, raw protocol sockets.

Test modules load it with `pytest_plugins = ["tests.live.plugin"]`. Tests that
use it need `@pytest.mark.django_db(transaction=True)`: their set-up data must
be committed to be visible to the server processes.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import pytest
import redis
from django.conf import settings
from django.db import connection

from accounts.models import User
from accounts.services import api_token_create
from catalog.models import Product
from tests import factories
from tests.live.node_client import NodeRealtimeClient
from tests.live.phoenix import PhoenixSocket
from tests.live.python_client import PythonRealtimeClient
from tests.live.servers import METRICS_TOKEN, LiveServer, database_url
from vendors.models import Vendor

REPORTERS = pytest.StashKey[list]()


def _attach_to_failure_report(request, name: str, report: Callable[[], str]):
    request.node.stash.setdefault(REPORTERS, []).append((name, report))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for name, describe in item.stash.get(REPORTERS, []):
            report.sections.append((f"live: {name}", describe()[-20000:]))
    return report


def _server_env(**overrides: str) -> dict[str, str]:
    """The server's environment: this run's test database and Redis, production-like settings."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "REALTIME_PUBLIC_KEY": settings.REALTIME_PUBLIC_KEY,
        # Served over plain HTTP on loopback: cookies marked Secure would never come back.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "METRICS_TOKEN": METRICS_TOKEN,
        # A crashed process's unconfirmed events are re-published by the sweep; keep that quick in tests.
        "REALTIME_SWEEP_SECONDS": "1",
        **overrides,
    }
    env.pop("TEST_DATABASE_NAME", None)
    return env


def _require_real_services():
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.fail("the live tests need PostgreSQL and Redis: run them via `make test`")


@pytest.fixture(scope="module")
def shared_daphne(django_db_setup):
    """One default-configured server for the tests of a module that need nothing special of it.

    It holds no state of its own between tests (events, seqs and identities
    live in the database, which each test starts empty), and starting a
    process per test would cost seconds each. It lives no longer than its
    module: its relay sweeps would otherwise reach the in-process tests that
    share its database and Redis.
    """
    _require_real_services()
    server = LiveServer(env=_server_env(), name="daphne").start()
    yield server
    server.close()


class ServerFarm:
    """Starts daphne processes with their own settings; stops them all at teardown."""

    def __init__(self, request):
        self._request = request
        self.servers: list[LiveServer] = []

    def start(self, name: str, **env_overrides: str) -> LiveServer:
        server = LiveServer(env=_server_env(**env_overrides), name=name)
        _attach_to_failure_report(self._request, name, server.log)
        self.servers.append(server)
        return server.start()

    def close(self):
        for server in self.servers:
            server.close()


@pytest.fixture
def daphne_servers(request, transactional_db):
    """`daphne_servers.start(name, **env)` starts a server process of the test's own."""
    _require_real_services()
    # Group memberships, presence and throttle counts of earlier tests must not leak in.
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    farm = ServerFarm(request)
    yield farm
    farm.close()


@pytest.fixture
def daphne_server(request, shared_daphne, daphne_servers) -> LiveServer:
    if not shared_daphne.running:
        pytest.fail(f"the shared server died in an earlier test:\n{shared_daphne.log()[-5000:]}")
    _attach_to_failure_report(request, shared_daphne.name, partial(shared_daphne.log, since=shared_daphne.log_size()))
    return shared_daphne


class _ClientPool:
    def __init__(self, request, factory):
        self._request = request
        self._factory = factory
        self._clients = []

    def open(self, name: str, **options):
        client = self._factory(name=name, **options)
        _attach_to_failure_report(self._request, name, client.report)
        self._clients.append(client)
        return client

    def close(self):
        for client in self._clients:
            client.close()


@pytest.fixture
def node_clients(request, daphne_servers):
    """`node_clients.open(name, package=, url=, apikey=, access_token=, channels=)` starts a realtime-js client."""
    pool = _ClientPool(request, NodeRealtimeClient)
    yield pool
    pool.close()


@pytest.fixture
def python_clients(request, daphne_servers):
    """`python_clients.open(name, url=, apikey=, access_token=, channels=)` starts Supabase's Python client."""
    pool = _ClientPool(request, PythonRealtimeClient)
    yield pool
    pool.close()


@pytest.fixture
def phoenix_sockets(request, daphne_servers):
    """`phoenix_sockets.open(name, websocket_url=, apikey=)` opens a raw protocol socket."""
    pool = _ClientPool(request, PhoenixSocket)
    yield pool
    pool.close()


@dataclass(frozen=True)
class Actor:
    """Someone with a socket: a user and their API token, or the anonymous public key."""

    name: str
    user: User | None
    apikey: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.apikey}"}


@dataclass(frozen=True)
class Cast:
    anonymous: Actor
    customer_a: Actor
    customer_b: Actor
    staff_a: Actor
    staff_b: Actor
    admin: Actor
    vendor_a: Vendor
    vendor_b: Vendor
    product_a: Product
    product_b: Product

    @property
    def actors(self) -> list[Actor]:
        return [self.anonymous, self.customer_a, self.customer_b, self.staff_a, self.staff_b, self.admin]


def token_for(user: User, name: str = "live test") -> str:
    return api_token_create(user=user, name=name)[1]


def _actor(name: str, user: User) -> Actor:
    return Actor(name=name, user=user, apikey=token_for(user))


@pytest.fixture
def cast(transactional_db) -> Cast:
    """Two shops with one (non-owner) staff member each, two customers, a platform admin.

    They sign in with API tokens only, so they get no password (hashing one costs a CPU-second).
    """
    vendor_a = factories.VendorFactory(name="Shop A", owner__password=None)
    vendor_b = factories.VendorFactory(name="Shop B", owner__password=None)
    staff_a = factories.VendorStaffFactory(vendor=vendor_a, user__password=None).user
    staff_b = factories.VendorStaffFactory(vendor=vendor_b, user__password=None).user
    return Cast(
        anonymous=Actor(name="anonymous", user=None, apikey=settings.REALTIME_PUBLIC_KEY),
        customer_a=_actor("customer A", factories.UserFactory(password=None)),
        customer_b=_actor("customer B", factories.UserFactory(password=None)),
        staff_a=_actor("staff of shop A", staff_a),
        staff_b=_actor("staff of shop B", staff_b),
        admin=_actor("admin", factories.AdminFactory(password=None)),
        vendor_a=vendor_a,
        vendor_b=vendor_b,
        product_a=factories.ProductFactory(vendor=vendor_a, price=Decimal("4.50"), stock=500),
        product_b=factories.ProductFactory(vendor=vendor_b, price=Decimal("3.25"), stock=500),
    )
