"""Outages of the run's throwaway PostgreSQL and Redis, for the fault tests.

scripts/lib/services.sh starts both servers and knows how to take them down
and bring them back on the same ports (`zora_redis_down`, `zora_pg_up`, ...);
this calls those functions, so there is one definition of how they run. The
server processes under test keep their settings and simply find the service
gone, then back, as after a crash and restart.
"""

import os
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, connections

from tests.live.servers import PROJECT_ROOT

SERVICES_SCRIPT = PROJECT_ROOT / "scripts" / "lib" / "services.sh"


class Services:
    def __init__(self, directory: Path):
        self.directory = directory
        self.redis_port = urlsplit(settings.REDIS_URL).port
        self.pg_port = int(connection.settings_dict["PORT"])
        self.redis_down = self.pg_down = False

    def _call(self, function: str, *args) -> None:
        command = f'source "{SERVICES_SCRIPT}" && {function} "$@"'
        result = subprocess.run(
            ["bash", "-c", command, "services.sh", str(self.directory), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert result.returncode == 0, f"{function} failed ({result.returncode}): {result.stderr}"

    def stop_redis(self) -> None:
        """Redis goes away, and with it everything it held (groups, presence, throttle counts)."""
        self._call("zora_redis_down")
        self.redis_down = True

    def start_redis(self) -> None:
        self._call("zora_redis_up", self.redis_port)
        self.redis_down = False

    def stop_postgres(self) -> None:
        """Immediate mode: every backend is cut off mid-statement, as when the server crashes."""
        self._call("zora_pg_down")
        self.pg_down = True

    def start_postgres(self) -> None:
        self._call("zora_pg_up", self.pg_port)
        self.pg_down = False
        # This process's own connections died with the server: the test's next query opens a new one.
        # With the pool on, the pool itself is dropped too: it may be backing off from the refused
        # reconnects it tried while the server was down, longer than a query waits for it.
        connections.close_all()
        for each in connections.all(initialized_only=True):
            if each.vendor == "postgresql":
                each.close_pool()

    @contextmanager
    def redis_paused(self):
        """Redis stops answering without closing anything (SIGSTOP): every caller hangs mid-command."""
        pid = int((self.directory / "redis" / "redis.pid").read_text())
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    def restore(self) -> None:
        """Whatever a failed test left down comes back up, for the tests after it."""
        if self.redis_down:
            self.start_redis()
        if self.pg_down:
            self.start_postgres()


@pytest.fixture
def services(transactional_db):
    """`services.stop_redis()`, `services.start_postgres()`, ...: outages of the run's own servers.

    The throwaway cluster runs with `synchronous_commit = off` for speed, which lets a crash take
    back commits it had already acknowledged (a numbered event, a placed order). Production keeps
    it on, so these tests switch it on for the test database while they run: what a crash may lose
    is then what it may lose in production, nothing acknowledged.
    """
    directory = os.environ.get("ZORA_SERVICES_DIR")
    if not directory:
        pytest.fail("the fault tests restart the throwaway PostgreSQL and Redis: run them via `make test`")
    outages = Services(Path(directory))
    with connection.cursor() as cursor:
        database = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {database} SET synchronous_commit = on")
        cursor.execute("SET synchronous_commit = on")
    yield outages
    outages.restore()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {database} RESET synchronous_commit")
