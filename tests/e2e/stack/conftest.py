"""The production stack, run for real: one `deploy.stack.Stack` for the whole session
(nginx with a certificate made for it, Gunicorn, two Daphne, a Celery worker and beat),
on a PostgreSQL database and a Redis key prefix of its own, with a local SMTP server
(aiosmtpd) as the library's mail relay. Every check goes through nginx.

Needs DATABASE_URL and REDIS_URL (the servers to use): skipped on the embedded default.
With REQUIRE_BROWSER=1 (CI) a missing nginx or Chromium fails instead of skipping.
"""

import contextlib
import os
import shutil
import ssl
import threading
import urllib.request
from pathlib import Path

import pytest

from deploy.stack import NGINX, Stack, init_env
from tests import liveserver

# The e2e fixtures (browser, new_page, operator_page, patron_page) come from
# tests/e2e/conftest.py: one Chromium for the whole run; live_desk is the stack here.
from tests.e2e.conftest import REQUIRE_BROWSER, LiveDesk


class Mailbox:
    """What the library's mail relay received (aiosmtpd on a free port)."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        import email

        with self.arrived:
            self.messages.append(email.message_from_bytes(envelope.content))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, predicate, timeout=60):
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: next((m for m in self.messages if predicate(m)), None), timeout
            )
        if not found:
            raise AssertionError(f"no such email within {timeout}s; got {len(self.messages)}")
        return next(m for m in self.messages if predicate(m))


@pytest.fixture(scope="session")
def mailbox():
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname=liveserver.HOST, port=liveserver.free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


INBOUND_SECRET = "stack-test-inbound-secret"


@pytest.fixture(scope="session")
def stack(tmp_path_factory, mailbox):
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        pytest.skip("the production stack needs DATABASE_URL and REDIS_URL")
    if not Path(NGINX).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"nginx not found at {NGINX} and REQUIRE_BROWSER=1")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    directory = tmp_path_factory.mktemp("stack")
    ports = {name: liveserver.free_port() for name in ("https", "http", "web1", "web2", "pages")}
    database_url = liveserver.create_postgres_database(
        os.environ["DATABASE_URL"], f"libdesk_stack_{os.getpid()}"
    )
    origin = f"https://127.0.0.1:{ports['https']}"
    prefix = f"stack{ports['https']}"
    env_file = directory / "stack.env"
    # .env.example as an admin fills it in: the example's own values for everything
    # else (SECURE_SSL_REDIRECT=1, secure cookies, HSTS, TRUSTED_PROXIES=1, …).
    init_env(
        env_file,
        DATABASE_URL=database_url,
        REDIS_URL=os.environ["REDIS_URL"],
        CHANNELS_PREFIX=prefix,
        CELERY_TASK_DEFAULT_QUEUE=prefix,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # CSRF_TRUSTED_ORIGINS stays the example's (another host): a login on this port
        # must pass on the Host nginx passes on, with its port.
        LIBDESK_PUBLIC_URL=origin,
        WIDGET_ALLOWED_EMBEDDERS="*",
        EMAIL_HOST=liveserver.HOST,
        EMAIL_PORT=mailbox[1],
        EMAIL_USE_TLS=0,
        TICKETS_INBOUND_SECRET=INBOUND_SECRET,
        PRESENCE_GRACE_SECONDS=5,
        # Patron sockets per address (tests/e2e/stack/test_proxy.py opens one more than this
        # from one client); time to say hello, generous on a busy machine.
        LIMIT_SOCKETS_PER_ADDRESS=5,
        HELLO_TIMEOUT_SECONDS=60,
        STACK_HTTPS_PORT=ports["https"],
        STACK_HTTP_PORT=ports["http"],
        STACK_WEB_PORTS=f"{ports['web1']},{ports['web2']}",
        STACK_PAGES_PORT=ports["pages"],
        STACK_SERVER_NAME="127.0.0.1",
    )
    running = Stack(env_file, directory)
    try:
        running.up()
        running.run_once(["python", "manage.py", "seed_demo"])
        yield running
    finally:
        running.down()
        if os.environ.get("E2E_SHOW_SERVER_LOG"):
            for log in sorted(running.logs.glob("*.log")):
                print(f"=== {log.name}\n{log.read_text()[-5000:]}")
        liveserver.drop_postgres_database(database_url)
        with contextlib.suppress(Exception):
            import redis

            client = redis.Redis.from_url(os.environ["REDIS_URL"])
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)


@pytest.fixture(scope="session")
def stack_url(stack):
    return f"https://127.0.0.1:{stack.https_port}"


@pytest.fixture(scope="session")
def live_desk(stack, stack_url, tmp_path_factory):
    """The e2e helpers' view of the desk (operator_page, patron_page), here the stack."""
    return LiveDesk(stack_url, stack.env(), tmp_path_factory.mktemp("no-mail"))


@pytest.fixture
def browser_context_options():
    """The e2e pages (new_page), trusting the stack's test certificate."""
    return {"ignore_https_errors": True}


def insecure_tls() -> ssl.SSLContext:
    """The stack's certificate is made for the test: encrypted, not verified."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, *, data=None, headers=None, source="127.0.0.1", method=None):
    """(status, headers, body) of one request, from the local address ``source``."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, context=insecure_tls(), source_address=(source, 0)
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, source_address=(source, 0))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(
            method or ("POST" if data is not None else "GET"),
            path,
            body=data,
            headers=headers or {},
        )
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@pytest.fixture
def smtp(mailbox):
    return mailbox[0]


@pytest.fixture(autouse=True)
def _need_tools():
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed for the stack's certificate")


class StaffSession:
    """A librarian's session over HTTP through the proxy: cookies, CSRF, forms."""

    def __init__(self, base_url):
        self.base = base_url
        self.cookies = {}

    def request(self, path, form=None):
        import urllib.parse

        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(
                {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            ).encode()
            headers.update(
                {
                    "Origin": self.base,
                    "Referer": self.base + path,
                    "Content-Type": "application/x-www-form-urlencoded",
                }
            )
        status, response_headers, body = fetch(self.base + path, data=data, headers=headers)
        for value in response_headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return status, response_headers, body

    def log_in(self, username, password):
        self.request("/accounts/login/")
        status, headers, _ = self.request(
            "/accounts/login/", {"username": username, "password": password}
        )
        assert status == 302, f"login as {username}: {status}"
        return self
