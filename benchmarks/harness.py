"""What the benchmark scripts share: databases, Daphne processes, HTTP and websocket
clients, and figures. Traffic goes to 127.0.0.1 only; every wait is bounded."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The source tree the servers run from: this checkout, or a clean snapshot of a commit
# (`git archive HEAD | tar -x -C DIR`) while others edit the working tree.
SERVER_ROOT = Path(os.environ.get("BENCH_SOURCE") or ROOT).resolve()
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "libdesk_bench")
# A Redis database number of its own; pub/sub channels are server-wide, hence the prefix.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
HOST = "127.0.0.1"
# The redis-server this run started itself (start_own_redis), whose CPU is the run's own.
OWN_REDIS_PID: int | None = None
APP = "benchmarks.floor.asgi:application"

try:
    from websockets.asyncio.client import connect as ws_connect
except ImportError:  # pragma: no cover
    sys.exit(
        "The benchmarks need `websockets`: .venv/bin/pip install -r benchmarks/requirements.txt"
    )


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# --- Configurations -------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    db: str  # "sqlite" | "postgres"
    layer: str  # "memory" | "pubsub" | "core"
    processes: int = 1
    db_threads: str = "pinned"  # "pinned" (Channels' default) | "pool"
    sync_commit: bool = True

    @property
    def redis(self) -> bool:
        return self.layer in ("pubsub", "core")


CONFIGS = {
    "embedded": Config("embedded", "sqlite", "memory", 1),
    "pg-pubsub-1": Config("pg-pubsub-1", "postgres", "pubsub", 1),
    "pg-pubsub-3": Config("pg-pubsub-3", "postgres", "pubsub", 3),
    "pg-core-1": Config("pg-core-1", "postgres", "core", 1),
    "pg-core-3": Config("pg-core-3", "postgres", "core", 3),
    # Experiments (not defaults): the floor's database calls on a thread pool instead of
    # the one pinned thread (benchmarks/floor/asgi.py, BENCH_DB_THREADS; the desk's
    # sockets use chat.consumers.support's threads either way), and PostgreSQL commits
    # without waiting for the WAL flush.
    "pg-pubsub-1-pool": Config("pg-pubsub-1-pool", "postgres", "pubsub", 1, db_threads="pool"),
    "pg-pubsub-3-pool": Config("pg-pubsub-3-pool", "postgres", "pubsub", 3, db_threads="pool"),
    "pg-pubsub-1-async-commit": Config(
        "pg-pubsub-1-async-commit", "postgres", "pubsub", 1, sync_commit=False
    ),
}


def parse_configs(text: str) -> list[Config]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise SystemExit(f"unknown config(s) {unknown}; choose from {sorted(CONFIGS)}")
    return [CONFIGS[n] for n in names]


# --- Databases and servers ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def proc_memory_kb(pid: int) -> dict:
    """VmRSS and VmHWM (peak RSS) of a process, in kB, from /proc."""
    out = {"rss": 0, "hwm": 0}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for key, name in (("VmRSS", "rss"), ("VmHWM", "hwm")):
        match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        if match:
            out[name] = int(match.group(1))
    return out


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def http(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{HOST}:{self.port}"

    @property
    def origin(self) -> str:
        return self.http

    def memory(self) -> dict:
        return proc_memory_kb(self.proc.pid)

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Stack:
    """One configuration's database, environment and Daphne processes."""

    config: Config
    workdir: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    servers: list[Server] = field(default_factory=list)

    @property
    def sqlite_path(self) -> Path:
        return self.workdir / "bench.sqlite3"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="libdesk.settings",
            PYTHONPATH=str(SERVER_ROOT),
            LIBDESK_VAR_DIR=str(self.workdir),
            SQLITE_PATH=str(self.sqlite_path),
            CHANNELS_PREFIX=f"bench{self.run_id}",
            STATIC_MANIFEST="0",
            CELERY_TASK_ALWAYS_EAGER="1",
            LOG_LEVEL="WARNING",
            # The load comes from one address and chats faster than a patron may: keep the
            # limits (and their counting: in the chat row for every patron message, in the
            # cache for every new chat) but out of reach.
            LIMIT_CHATS_PER_ADDRESS="1000000",
            LIMIT_PATRON_MESSAGES_PER_MINUTE="1000000",
            # Widget sockets per address (counted in Redis leases): the soak opens thousands.
            LIMIT_SOCKETS_PER_ADDRESS="1000000",
        )
        if self.config.db == "postgres":
            env["DATABASE_URL"] = f"postgresql://postgres@{HOST}:5432/{PG_DB}"
            if not self.config.sync_commit:
                env["DATABASE_URL"] += "?options=-c%20synchronous_commit%3Doff"
        env["BENCH_DB_THREADS"] = self.config.db_threads
        if self.config.redis:
            env["REDIS_URL"] = REDIS_URL
            env["CHANNEL_LAYER"] = self.config.layer
        return env

    def manage(self, *args, timeout=300) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=SERVER_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare_database(self, operators: int) -> None:
        """A fresh benchmark database, migrated, with the fixture."""
        if self.config.db == "postgres":
            _pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            _pg_admin(f"CREATE DATABASE {PG_DB}")
        elif self.sqlite_path.exists():
            self.sqlite_path.unlink()
        self.manage("manage.py", "migrate", "--noinput")
        self.fixture(operators=operators)

    def fixture(self, operators=0, chats=0) -> list[dict]:
        tokens = self.workdir / "tokens.json"
        self.manage(
            "-m",
            "benchmarks.fixture",
            "--operators",
            str(operators),
            "--chats",
            str(chats),
            "--tokens",
            str(tokens),
            timeout=900,
        )
        return json.loads(tokens.read_text())

    def start(self, count: int | None = None, timeout=90.0) -> list[Server]:
        count = count or self.config.processes
        new = [self.start_one() for _ in range(count)]
        for server in new:
            wait_ready(server, timeout)
        return new

    def start_one(self, port: int | None = None) -> Server:
        port = port or free_port()
        log_path = self.workdir / f"daphne-{port}.log"
        # Through LibDesk's launcher (EVENT_LOOP picks the loop) where the source has it.
        if (SERVER_ROOT / "libdesk" / "run_daphne.py").exists():
            daphne = [sys.executable, "-m", "libdesk.run_daphne"]
        else:
            daphne = [str(BIN / "daphne")]
        proc = subprocess.Popen(
            [*daphne, "-b", HOST, "-p", str(port), APP],
            cwd=SERVER_ROOT,
            env=self.env(),
            stdout=open(log_path, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(port, proc, log_path)
        self.servers.append(server)
        return server

    def stop(self, servers: list[Server] | None = None) -> None:
        servers = list(self.servers if servers is None else servers)
        for server in servers:
            if server.alive():
                server.proc.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait(timeout=5)
            if server in self.servers:
                self.servers.remove(server)

    def db_query(self, sql: str, params=()) -> list[tuple]:
        if self.config.db == "postgres":
            import psycopg

            with psycopg.connect(f"postgresql://postgres@{HOST}:5432/{PG_DB}") as conn:
                return list(conn.execute(sql.replace("?", "%s"), params).fetchall())
        with sqlite3.connect(self.sqlite_path, timeout=30) as conn:
            return list(conn.execute(sql, params).fetchall())

    def cleanup(self) -> None:
        self.stop()
        if self.config.redis:
            flush_prefix(f"bench{self.run_id}")


def flush_prefix(prefix: str) -> None:
    """Delete this run's keys (only ours) from the benchmark Redis database."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
        client.close()
    except Exception as error:  # noqa: BLE001 - cleanup is best effort
        log("redis cleanup failed:", error)


def start_own_redis(workdir: Path) -> subprocess.Popen:
    """A redis-server of this run's own on a free port, in memory only; REDIS_URL then
    points at it, so that its CPU is the benchmark's alone."""
    global REDIS_URL, OWN_REDIS_PID
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=open(workdir / "redis.log", "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"redis-server on {port} did not start")
    REDIS_URL, OWN_REDIS_PID = f"redis://{HOST}:{port}/0", proc.pid
    return proc


def wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(
                f"daphne on {server.port} exited:\n{server.log_path.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{server.http}/widget/bench/status", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"daphne on {server.port} not ready after {timeout}s")


def make_workdir(prefix="libdesk-bench-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --- HTTP -------------------------------------------------------------------------------


def login_cookie(server: Server, username: str, password: str) -> str:
    """Log in through /accounts/login/ (CSRF token and all); return the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{server.http}/accounts/login/", timeout=20) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token,
            "next": "/accounts/login/",
        }
    ).encode()
    request = urllib.request.Request(
        f"{server.http}/accounts/login/",
        data=data,
        headers={"Origin": server.origin, "Referer": f"{server.http}/accounts/login/"},
    )
    with opener.open(request, timeout=20) as response:
        response.read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"login failed for {username}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def start_chat(server: Server, question: str, client_id: str, name="Bench patron") -> dict:
    body = json.dumps({"question": question, "name": name, "client_id": client_id}).encode()
    request = urllib.request.Request(
        f"{server.http}/widget/bench/chats", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def open_ws(server: Server, path: str, cookie: str | None = None, **kwargs):
    headers = {"Cookie": cookie} if cookie else None
    return await ws_connect(
        f"{server.ws}{path}",
        origin=server.origin,
        additional_headers=headers,
        open_timeout=kwargs.pop("open_timeout", 20),
        max_size=2**22,
        **kwargs,
    )


# --- Figures ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[index]


def lat_summary(values_s: list[float]) -> dict:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
    }


def fmt_ms(value: float) -> str:
    return "-" if value != value else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


async def bounded_gather(coros, limit: int):
    semaphore = asyncio.Semaphore(limit)

    async def run(coro):
        async with semaphore:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))
