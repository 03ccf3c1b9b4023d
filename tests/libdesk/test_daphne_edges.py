"""What a real Daphne process answers at the edges, where the test client cannot
reach: addresses too long for its HTTP server, the Origin of a socket with Daphne's
own Host handling and proxy headers, and sockets that never say hello or crowd one
address (closed with codes Daphne's websocket library really sends).

One Daphne per module, on the embedded configuration (its own SQLite file, in-memory
layer and cache), so these run the same on both of CI's configurations."""

import asyncio
import json
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests import liveserver

HELLO_SECONDS = 2
SOCKETS_PER_ADDRESS = 4


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("daphne-edges")
    env = liveserver.desk_env(
        workdir,
        DATABASE_URL="",
        REDIS_URL="",
        CELERY_TASK_ALWAYS_EAGER=1,
        STATIC_MANIFEST=0,
        HELLO_TIMEOUT_SECONDS=HELLO_SECONDS,
        LIMIT_SOCKETS_PER_ADDRESS=SOCKETS_PER_ADDRESS,
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        CSRF_TRUSTED_ORIGINS="https://desk.library.example",
        ALLOWED_HOSTS="127.0.0.1,localhost,desk.library.example",
    )
    liveserver.manage(env, "migrate", "--noinput", "-v0")
    liveserver.manage(
        env,
        "shell",
        "-c",
        "from chat.models import Department; "
        "Department.objects.create(name='Reference', slug='reference')",
    )
    port = liveserver.free_port()
    with open(workdir / "daphne.log", "wb") as log:
        process = liveserver.start_daphne(env, port, log)
    try:
        liveserver.wait_for_port(port, process)
        yield port
    finally:
        liveserver.stop_processes([process])


def raw_get(port, target, headers=()) -> tuple[int, str]:
    """One GET over a plain socket: (status, body); status 0 if the server hung up."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    request += "".join(f"{name}: {value}\r\n" for name, value in headers)
    request += "Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(request.encode("latin1"))
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    if not data:
        return 0, ""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("length", "answered_by"),
    [(9_000, "Django (MAX_URL_BYTES)"), (17_000, "Daphne"), (100_000, "Daphne")],
)
def test_a_url_too_long_gets_a_414_page_not_a_dropped_connection(desk, length, answered_by):
    status, body = raw_get(desk, "/analytics/?department=" + "x" * length)
    assert status == 414, f"{answered_by}: {status}"
    assert "<h1>That address is too long</h1>" in body
    assert "shorten the search or filter values" in body


def test_headers_too_large_get_a_431_page(desk):
    status, body = raw_get(desk, "/accounts/login/", headers=[("Cookie", "a=" + "b" * 17_000)])
    assert status == 431
    assert "<h1>That request is too large</h1>" in body


def test_an_ordinary_address_is_still_served(desk):
    status, body = raw_get(desk, "/accounts/login/?next=/tickets/%3Fq%3D" + "x" * 4000)
    assert status == 200
    assert "Log in" in body or "log in" in body.lower()


async def _open(port, origin, headers=None, path="/ws/patron/"):
    return await connect(
        f"ws://127.0.0.1:{port}{path}",
        origin=origin,
        additional_headers=headers,
        open_timeout=20,
        close_timeout=5,
    )


async def _refusal(ws) -> tuple[dict, int]:
    """The error frame and close code of a refused socket."""
    frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 20)
    return frame, ws.close_code


@pytest.mark.parametrize(
    ("origin", "headers", "allowed"),
    [
        ("http://127.0.0.1:{port}", None, True),
        ("http://127.0.0.1:9999", None, False),  # another port of the same host
        ("https://127.0.0.1:{port}", None, False),  # another scheme
        ("http://localhost:{port}", None, False),  # another allowed host, not this one
        ("http://desk.library.example:8080", None, False),
        ("http://evil.example", None, False),
        ("null", None, False),
        # Behind the TLS proxy: the proxy says https, so the https origin is the desk's.
        ("https://127.0.0.1:{port}", {"X-Forwarded-Proto": "https"}, True),
        ("http://127.0.0.1:{port}", {"X-Forwarded-Proto": "https"}, False),
        # A public origin listed in CSRF_TRUSTED_ORIGINS (a proxy that rewrites Host).
        ("https://desk.library.example", None, True),
        ("http://desk.library.example", None, False),
    ],
)
async def test_the_socket_origin_must_be_the_desk_s_own_scheme_host_and_port(
    desk, origin, headers, allowed
):
    ws = await _open(desk, origin.format(port=desk), headers)
    try:
        if allowed:
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "pong"
        else:
            frame, code = await _refusal(ws)
            assert (frame["code"], code) == ("bad_origin", 4403)
    finally:
        await ws.close()


async def test_a_socket_that_never_says_hello_is_closed_with_4408(desk):
    ws = await _open(desk, f"http://127.0.0.1:{desk}")
    frame, code = await _refusal(ws)
    assert frame["code"] == "hello_timeout"
    assert "Say hello" in frame["message"]
    assert code == 4408


async def test_a_widget_that_watches_stays_open_past_the_hello_deadline(desk):
    ws = await _open(desk, f"http://127.0.0.1:{desk}")
    try:
        await ws.send(json.dumps({"type": "watch", "department": "reference"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "presence"
        await asyncio.sleep(HELLO_SECONDS + 1)
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "pong"
    finally:
        await ws.close()


async def test_a_failed_watch_is_no_hello(desk):
    ws = await _open(desk, f"http://127.0.0.1:{desk}")
    try:
        await ws.send(json.dumps({"type": "watch", "department": "no-such-department"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 20))["code"] == "not_found"
        frame, code = await _refusal(ws)
        assert (frame["code"], code) == ("hello_timeout", 4408)
    finally:
        await ws.close()


async def test_one_address_holds_a_bounded_number_of_patron_sockets(desk):
    origin = f"http://127.0.0.1:{desk}"
    held = []

    async def watching():
        ws = await _open(desk, origin)
        held.append(ws)
        await ws.send(json.dumps({"type": "watch", "department": "reference"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "presence"
        return ws

    try:
        for _ in range(SOCKETS_PER_ADDRESS):
            await watching()
        extra = await _open(desk, origin)
        frame, code = await _refusal(extra)
        assert (frame["code"], code) == ("too_many_sockets", 4429)
        assert "Too many chat connections" in frame["message"]
        await held.pop().close()
        await asyncio.sleep(0.5)  # the server sees the close
        await watching()  # a place again
    finally:
        for ws in held:
            await ws.close()


async def test_a_staff_socket_without_a_session_is_refused_not_left_open(desk):
    try:
        ws = await _open(desk, f"http://127.0.0.1:{desk}", path="/ws/staff/")
    except InvalidStatus as refused:  # also a clear refusal
        assert refused.response.status_code == 403
        return
    frame, code = await _refusal(ws)
    assert (frame["code"], code) == ("not_authenticated", 4401)
