"""Browser tests: Debian's Chromium, driven by Playwright, against a real Daphne process.

The desk runs as its own process on a database of its own (a SQLite file, or a
PostgreSQL database next to the test one), with the demo data seeded, exactly as
`make demo` serves it. With REDIS_URL set it uses Redis and a real Celery worker.
Without Chromium these tests skip, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""

import contextlib
import email
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DEMO_PASSWORDS = {"alice": "alice-desk-demo", "bob": "bob-desk-demo", "carmen": "carmen-desk-demo", "admin": "admin-desk-demo"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} in {timeout}s")


def _postgres_database_for_e2e(database_url):
    """A fresh database beside the configured one, for the server under test."""
    import psycopg

    parts = urlsplit(database_url)
    name = f"libdesk_e2e_{os.getpid()}"  # this run's own: runs at once never collide
    admin_url = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _drop_postgres_database(database_url):
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


class LiveDesk:
    """The desk under test: ``url``, and helpers to look inside it."""

    def __init__(self, url, env, mail_dir):
        self.url = url
        self.env = env
        self.mail_dir = Path(mail_dir)

    def manage(self, *args, input_text=None):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            input=input_text,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def shell(self, code):
        """Run Python in the server's Django (e.g. to read what was stored); returns stdout."""
        return self.manage("shell", "-c", code)

    def mails(self):
        """Every email the desk has sent (file backend), parsed, oldest first."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime):
            raw = path.read_bytes()
            # The file backend separates messages with a line of 79 dashes.
            for chunk in raw.split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(email.message_from_bytes(chunk.strip(b"\n")))
        return messages


@pytest.fixture(scope="session")
def live_desk(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("desk")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "libdesk.settings",
            "LIBDESK_VAR_DIR": str(workdir),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "file",
            "EMAIL_FILE_PATH": str(workdir / "mail"),
            "PRESENCE_GRACE_SECONDS": "5",
            # Every browser test's patron comes from 127.0.0.1: lift the per-address limit.
            "LIMIT_CHATS_PER_ADDRESS": "10000",
            "LIBDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
            "STATIC_ROOT": str(workdir / "static"),
        }
    )
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = _postgres_database_for_e2e(os.environ["DATABASE_URL"])
    else:
        env["SQLITE_PATH"] = str(workdir / "desk.sqlite3")
    if os.environ.get("REDIS_URL"):
        env["CHANNELS_PREFIX"] = f"e2e{port}"
        # This run's own Celery queue: runs sharing the Redis never take each other's tasks.
        env["CELERY_TASK_DEFAULT_QUEUE"] = f"e2e{port}"
    desk = LiveDesk(f"http://127.0.0.1:{port}", env, workdir / "mail")
    desk.manage("migrate", "--noinput", "-v0")
    desk.manage("collectstatic", "--noinput", "-v0")
    desk.manage("seed_demo")
    log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed at teardown
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "libdesk.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    if os.environ.get("REDIS_URL"):
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "libdesk", "worker", "-P", "solo", "-c", "1", "-l", "WARNING",
                 "-Q", env["CELERY_TASK_DEFAULT_QUEUE"]],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        _wait_for_port(port, processes[0])
        yield desk
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        if os.environ.get("E2E_SHOW_SERVER_LOG"):
            print((workdir / "server.log").read_text())
        if os.environ.get("DATABASE_URL"):
            _drop_postgres_database(env["DATABASE_URL"])


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect

    # Generous: CI machines are small (2 cores) and run a server and a browser at once.
    expect.set_options(timeout=15_000)
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium not found at {CHROMIUM} and REQUIRE_BROWSER=1")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """``new_page()`` opens a page in a fresh browser context (its own cookies and
    storage: one person). Everything is closed after the test."""
    contexts = []

    def make(**context_options):
        context = browser.new_context(**context_options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def operator_page(new_page, live_desk):
    """``operator_page("alice")``: logged in, on the Chat Dashboard, Online."""
    from playwright.sync_api import expect

    def open_dashboard(username, online=True):
        page = new_page()
        page.goto(f"{live_desk.url}/dashboard/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Patron Chats")).to_be_visible()
        expect(page.locator("#connection")).to_have_text("Connected")
        # dashboard.state (after "Connected") sets the radios: wait for it before choosing.
        expect(page.locator("#department-list li").first).to_be_visible()
        if online:
            page.get_by_role("radio", name="Online").check()
            expect(page.locator("#department-list")).to_contain_text("online")
        return page

    return open_dashboard


@pytest.fixture
def patron_page(new_page, live_desk):
    """``patron_page()``: a patron on the sample library page; returns (page, widget)
    where ``widget`` is a FrameLocator for the chat iframe, opened."""

    def open_widget(page=None):
        page = page or new_page()
        if not page.url.startswith(live_desk.url):
            page.goto(f"{live_desk.url}/demo/")
        page.get_by_role("button", name="Ask a librarian").click()
        return page, page.frame_locator('iframe[title="Chat with the library"]')

    return open_widget


@pytest.fixture
def mail_dir_snapshot(live_desk):
    """How many emails existed before the test: ``live_desk.mails()[before:]`` are new."""
    return len(live_desk.mails())
