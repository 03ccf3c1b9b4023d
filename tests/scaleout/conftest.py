"""Several Daphne processes of the desk on PostgreSQL + Redis (the production mode), in
seconds: one database for the whole module run (``libdesk_scaleout_<pid>``, migrated and
seeded once), processes started per test, a channel-layer prefix per test. They need
DATABASE_URL and REDIS_URL (CI's second run); without them they skip."""

import os
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import liveserver

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
SKIP_REASON = (
    "scale-out tests run several Daphne processes on PostgreSQL + Redis: "
    "set DATABASE_URL and REDIS_URL"
)
OPERATOR = ("alice", "alice-desk-demo")  # seed_demo's; in the Reference department
DEPARTMENT = "reference"


def pytest_collection_modifyitems(config, items):
    if DATABASE_URL.startswith("postgres") and REDIS_URL:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "tests/scaleout/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@dataclass
class Desk:
    """One Daphne process of the desk."""

    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no goodbye to its sockets, no on-commit callback left to run."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def scaleout_database(tmp_path_factory):
    """This run's own PostgreSQL database, migrated and seeded with the demo data."""
    workdir = tmp_path_factory.mktemp("scaleout")
    url = liveserver.create_postgres_database(DATABASE_URL, f"libdesk_scaleout_{os.getpid()}")
    env = liveserver.desk_env(workdir, DATABASE_URL=url, CHANNELS_PREFIX=f"so{os.getpid()}")
    try:
        liveserver.manage(env, "migrate", "--noinput", "-v0")
        liveserver.manage(env, "seed_demo")
        yield url
    finally:
        liveserver.drop_postgres_database(url)


@pytest.fixture
def desks(scaleout_database, tmp_path):
    """``desks.start(n, **env)``: n Daphne processes sharing the database and Redis (a
    channel-layer prefix of this test's own); stopped after the test."""

    class Desks:
        prefix = f"so{uuid.uuid4().hex[:10]}"
        started: list[Desk] = []

        def env(self, **overrides):
            settings = {
                "DATABASE_URL": scaleout_database,
                "REDIS_URL": REDIS_URL,
                "CHANNELS_PREFIX": self.prefix,
                "CELERY_TASK_ALWAYS_EAGER": 1,
                "LIMIT_CHATS_PER_ADDRESS": 100000,
                "PRESENCE_GRACE_SECONDS": 30,  # a killed process is not an operator leaving
                "LOG_LEVEL": "WARNING",
                "STATIC_MANIFEST": 0,  # no collectstatic for these processes
            }
            return liveserver.desk_env(tmp_path, **{**settings, **overrides})

        def start(self, count=1, **overrides) -> list[Desk]:
            env = self.env(**overrides)
            new = []
            for _ in range(count):
                port = liveserver.free_port()
                log_path = tmp_path / f"daphne-{port}.log"
                with open(log_path, "wb") as log:
                    new.append(Desk(port, liveserver.start_daphne(env, port, log), log_path))
            for desk in new:
                liveserver.wait_for_port(desk.port, desk.process)
            self.started.extend(new)
            return new

    desks = Desks()
    desks.started = []
    yield desks
    for desk in desks.started:  # nothing to finish: the database goes at the end anyway
        if desk.process.poll() is None:
            desk.process.kill()
            desk.process.wait(5)
    if os.environ.get("SCALEOUT_SHOW_SERVER_LOG"):
        for desk in desks.started:
            print(f"--- daphne :{desk.port}\n{desk.log()}")


@pytest.fixture
def stored(scaleout_database):
    """``stored(chat_id)``: the chat's messages in the database, [(seq, client_id)]."""
    import psycopg

    def read(chat_public_id):
        with psycopg.connect(scaleout_database) as conn:
            return conn.execute(
                "SELECT m.seq, m.client_id FROM chat_message m JOIN chat_chat c ON c.id = m.chat_id"
                " WHERE c.public_id = %s ORDER BY m.seq",
                (chat_public_id,),
            ).fetchall()

    return read


@pytest.fixture
def postgres_proxy(scaleout_database):
    """A TCP proxy in front of PostgreSQL; ``.url`` is the test database through it.
    ``cut()`` makes PostgreSQL unreachable for whoever uses that URL; ``restore()``."""
    from urllib.parse import urlsplit, urlunsplit

    from tests.scaleout.standins import TcpProxy

    parts = urlsplit(scaleout_database)
    proxy = TcpProxy(parts.port or 5432, parts.hostname or "127.0.0.1").start()
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    proxy.url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    yield proxy
    proxy.stop()


@pytest.fixture
def private_redis():
    """A redis-server of this test's own (never the shared one), to stop and start."""
    from tests.scaleout.standins import PrivateRedis

    if not PrivateRedis.available():
        pytest.skip("redis-server is not on PATH")
    redis = PrivateRedis().start()
    yield redis
    redis.stop()
