"""Through nginx, as a patron, a librarian and a load balancer reach the desk: health
checks, https and its redirect, a terminator in front, CSRF on a port of its own, and
the patron's address as the rate limit counts it."""

import json
import re
import urllib.parse

import pytest

from tests.e2e.conftest import DEMO_PASSWORDS
from tests.e2e.stack.conftest import StaffSession, fetch, insecure_tls

SPECIAL = "special-collections"  # nobody online there: a start is counted, then refused


def test_every_health_check_answers_as_compose_runs_it(stack, stack_url):
    # Each service's own check (deploy/services.toml, copied into docker-compose.yml).
    results = stack.health()
    assert results == {"web1": True, "web2": True, "pages": True, "worker": True}
    # And through the proxy: pages, sockets, and on plain HTTP for a load balancer's probe.
    assert fetch(f"{stack_url}/healthz")[::2] == (200, b"ok\n")
    assert fetch(f"{stack_url}/healthz/sockets")[::2] == (200, b"ok\n")
    assert fetch(f"http://127.0.0.1:{stack.http_port}/healthz")[::2] == (200, b"ok\n")


def test_plain_http_is_sent_to_https_once_and_https_serves(stack, stack_url):
    status, headers, _ = fetch(f"http://127.0.0.1:{stack.http_port}/dashboard/?x=1")
    assert status == 301
    assert headers["Location"] == f"{stack_url}/dashboard/?x=1"
    # Followed, with SECURE_SSL_REDIRECT=1: the login page, not https again (a loop).
    url, hops = headers["Location"], 0
    while True:
        status, headers, body = fetch(url)
        if status not in (301, 302):
            break
        url = urllib.parse.urljoin(url, headers["Location"])
        hops += 1
        assert hops < 3, f"redirected again to {url}"
    assert status == 200 and url.startswith(f"{stack_url}/accounts/login/")
    assert b"Log in" in body
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_tls_terminator_in_front_is_believed(stack):
    # A campus load balancer speaks plain HTTP to our nginx and says it got https.
    status, headers, body = fetch(
        f"http://127.0.0.1:{stack.http_port}/demo/",
        headers={"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{stack.http_port}"},
    )
    assert status == 200, headers.get("Location")
    # Django took the request as secure: only then does it send HSTS.
    assert "Strict-Transport-Security" in headers
    assert b"Ask a librarian" in body


def cookies_of(headers):
    jar = {}
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        jar[name] = rest.split(";", 1)[0]
    return jar


def test_staff_log_in_with_csrf_on_a_port_of_its_own(stack_url):
    login = f"{stack_url}/accounts/login/"
    status, headers, body = fetch(login)
    assert status == 200
    jar = cookies_of(headers)
    assert "Secure" in next(c for c in headers.get_all("Set-Cookie") if c.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode(
        {"username": "alice", "password": "alice-desk-demo", "csrfmiddlewaretoken": token}
    )
    status, headers, body = fetch(
        login,
        data=form.encode(),
        headers={
            # What a browser sends: the origin with its port (not 443).
            "Origin": stack_url,
            "Referer": login,
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={jar['csrftoken']}",
        },
    )
    assert status == 302, body[:500]
    assert headers["Location"] == "/dashboard/"
    assert "sessionid" in cookies_of(headers)


def start_chat(stack_url, source, spoofed):
    status, _, body = fetch(
        f"{stack_url}/widget/{SPECIAL}/chats",
        data=json.dumps({"question": "Is the reading room open?"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": spoofed},
        source=source,
    )
    return status, json.loads(body)


def test_the_rate_limit_counts_the_address_the_patron_came_from(stack, stack_url):
    limit = int(stack.file_env["LIMIT_CHATS_PER_ADDRESS"])
    assert limit == 20  # the example's value
    # One client (127.0.0.77), each time claiming another address in X-Forwarded-For.
    answers = [start_chat(stack_url, "127.0.0.77", f"203.0.113.{n}") for n in range(limit)]
    assert {status for status, _ in answers} == {409}  # counted, then: nobody online
    status, frame = start_chat(stack_url, "127.0.0.77", "198.51.100.1")
    assert status == 429 and frame["code"] == "rate_limited"
    # Another client is not held back, even when it claims to be the first one.
    status, frame = start_chat(stack_url, "127.0.0.78", "127.0.0.77")
    assert status == 409 and frame["code"] == "offline"


def staff_socket(stack_url, session, origin):
    """The first frame, and the close code, of a staff socket opened through nginx."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    with connect(
        stack_url.replace("https://", "wss://") + "/ws/staff/",
        ssl=insecure_tls(),
        origin=origin,
        additional_headers={"Cookie": cookie},
        open_timeout=30,
    ) as socket:
        frame = json.loads(socket.recv(timeout=30))
        try:
            socket.recv(timeout=5)
            code = None
        except TimeoutError:
            code = None  # still open
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
    return frame, code


def full_origin_check_landed() -> bool:
    """Issue 15's staff-socket check of scheme, host and port (chat.consumers.base)."""
    from chat.consumers import base as consumer_base

    return hasattr(consumer_base, "socket_own_origin")


def test_the_staff_socket_checks_its_origin_behind_the_proxy(stack, stack_url):
    alice = StaffSession(stack_url).log_in("alice", DEMO_PASSWORDS["alice"])
    frame, code = staff_socket(stack_url, alice, stack_url)
    assert frame["type"] == "dashboard.state" and code is None
    # Another site is refused; once the full-origin check is in (issue 15), so is the
    # desk's own host on another scheme or port, through the proxy as well.
    foreign = ["https://desk.evil.example"]
    if full_origin_check_landed():
        foreign += [
            f"http://127.0.0.1:{stack.https_port}",
            f"https://127.0.0.1:{stack.http_port}",
            "https://127.0.0.1",
        ]
    for origin in foreign:
        frame, code = staff_socket(stack_url, alice, origin)
        assert (frame["type"], frame["code"], code) == ("error", "bad_origin", 4403), origin


def open_patron_socket(stack, stack_url, source, spoofed):
    """A patron socket through nginx from the local address ``source``, claiming to be
    ``spoofed`` in X-Forwarded-For: (socket, None) when let in (it waits for hello),
    (None, (error code, close code)) when refused."""
    import socket as sockets

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    raw = sockets.create_connection(
        ("127.0.0.1", stack.https_port), timeout=30, source_address=(source, 0)
    )
    connection = connect(
        stack_url.replace("https://", "wss://") + "/ws/patron/",
        sock=raw,
        ssl=insecure_tls(),
        server_hostname="127.0.0.1",
        origin=stack_url,
        additional_headers={"X-Forwarded-For": spoofed},
        open_timeout=30,
    )
    try:
        frame = json.loads(connection.recv(timeout=3))
    except TimeoutError:
        return connection, None  # let in: the desk waits for its hello
    try:
        connection.recv(timeout=10)
        code = None
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
    connection.close()
    return None, (frame.get("code"), code)


def test_the_socket_cap_counts_the_address_the_patron_came_from(stack, stack_url, settings):
    if "SOCKETS_PER_ADDRESS" not in settings.LIBDESK_LIMITS:
        pytest.skip("the per-address socket cap (issue 15, chat.socket_limits) is not in yet")
    limit = int(stack.file_env["LIMIT_SOCKETS_PER_ADDRESS"])
    held = []
    try:
        for n in range(limit):
            connection, refused = open_patron_socket(
                stack, stack_url, "127.0.0.87", f"203.0.113.{n}"
            )
            assert refused is None, (n, refused)
            held.append(connection)
        # One more from that client, whatever it claims to be: refused.
        connection, refused = open_patron_socket(stack, stack_url, "127.0.0.87", "198.51.100.1")
        assert refused == ("too_many_sockets", 4429)
        # Another client claiming to be the first is its own address, and let in.
        connection, refused = open_patron_socket(stack, stack_url, "127.0.0.88", "127.0.0.87")
        assert refused is None
        held.append(connection)
    finally:
        for connection in held:
            connection.close()
