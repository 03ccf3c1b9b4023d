"""Browser tests: Debian's Chromium, driven by Playwright, against a real Daphne process.

The desk runs as its own process on a database of its own (a SQLite file, or a
PostgreSQL database next to the test one), with the demo data seeded, exactly as
`make demo` serves it. With REDIS_URL set it uses Redis and a real Celery worker.
Without Chromium these tests skip, unless REQUIRE_BROWSER=1 (CI), where they fail.
"""

import email
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import liveserver

ROOT = liveserver.ROOT
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
DEMO_PASSWORDS = {
    "alice": "alice-desk-demo",
    "bob": "bob-desk-demo",
    "carmen": "carmen-desk-demo",
    "admin": "admin-desk-demo",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


class LiveDesk:
    """The desk under test: ``url``, and helpers to look inside it."""

    def __init__(self, url, env, mail_dir):
        self.url = url
        self.env = env
        self.mail_dir = Path(mail_dir)

    def manage(self, *args, input_text=None):
        return liveserver.manage(self.env, *args, input_text=input_text)

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
    port = liveserver.free_port()
    env = liveserver.desk_env(
        workdir,
        EMAIL_BACKEND="file",
        EMAIL_FILE_PATH=workdir / "mail",
        PRESENCE_GRACE_SECONDS=5,
        # Every browser test's patron comes from 127.0.0.1: lift the per-address limit.
        LIMIT_CHATS_PER_ADDRESS=10000,
        LIBDESK_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TICKETS_INBOUND_SECRET="e2e-inbound-secret",  # the mail webhook (test_ticket_mail)
    )
    if os.environ.get("DATABASE_URL"):
        # This run's own database: runs at once never collide.
        env["DATABASE_URL"] = liveserver.create_postgres_database(
            os.environ["DATABASE_URL"], f"libdesk_e2e_{os.getpid()}"
        )
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
    processes = [liveserver.start_daphne(env, port, log)]
    if os.environ.get("REDIS_URL"):
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "libdesk",
                    "worker",
                    "-P",
                    "solo",
                    "-c",
                    "1",
                    "-l",
                    "WARNING",
                    "-Q",
                    env["CELERY_TASK_DEFAULT_QUEUE"],
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        liveserver.wait_for_port(port, processes[0])
        yield desk
    finally:
        liveserver.stop_processes(processes)
        log.close()
        if os.environ.get("E2E_SHOW_SERVER_LOG"):
            print((workdir / "server.log").read_text())
        if os.environ.get("DATABASE_URL"):
            liveserver.drop_postgres_database(env["DATABASE_URL"])


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
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context_options():
    """Options of every context ``new_page`` opens (tests/e2e/stack: its test certificate)."""
    return {}


@pytest.fixture
def new_page(browser, browser_context_options):
    """``new_page()`` opens a page in a fresh browser context (its own cookies and
    storage: one person). Everything is closed after the test."""
    contexts = []

    def make(**context_options):
        context = browser.new_context(**{**browser_context_options, **context_options})
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
