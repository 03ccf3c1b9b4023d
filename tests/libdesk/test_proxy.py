"""The patron's address behind our proxies: pages (WSGI) and sockets (ASGI) find the
same one, and what the client writes into X-Forwarded-For never counts."""

import pytest

from libdesk.proxy import ForwardedForASGI, ForwardedForWSGI, TrustedProxies

# (TRUSTED_PROXIES, peer, X-Forwarded-For, the patron's address)
CASES = [
    # No proxy configured: the peer, whatever the headers say.
    ("", "198.51.100.4", "203.0.113.9", "198.51.100.4"),
    # Our nginx: the entry it appended.
    ("1", "127.0.0.1", "203.0.113.9", "203.0.113.9"),
    ("1", "127.0.0.1", "10.6.6.6, 203.0.113.9", "203.0.113.9"),  # spoofed first entry
    ("1", "127.0.0.1", "", "127.0.0.1"),
    # A campus load balancer, then our nginx: the LB's entry, not the client's spoof,
    # not the LB itself.
    ("2", "127.0.0.1", "10.6.6.6, 203.0.113.9, 192.0.2.10", "203.0.113.9"),
    ("2", "127.0.0.1", "192.0.2.10", "192.0.2.10"),
    # By address: every listed proxy from the right is skipped.
    ("127.0.0.1,192.0.2.0/24", "127.0.0.1", "10.6.6.6, 203.0.113.9, 192.0.2.10", "203.0.113.9"),
    ("127.0.0.1,192.0.2.0/24", "127.0.0.1", "192.0.2.10, 192.0.2.11", "192.0.2.10"),
    # A peer that is not a listed proxy speaks for nobody.
    ("192.0.2.0/24", "198.51.100.4", "203.0.113.9", "198.51.100.4"),
    ("::1", "::1", "2001:db8::7", "2001:db8::7"),
]


def wsgi_seen(proxies, peer, forwarded, proto=""):
    seen = {}

    def app(environ, start_response):
        seen.update(address=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        return []

    environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded, "wsgi.url_scheme": "http"}
    if proto:
        environ["HTTP_X_FORWARDED_PROTO"] = proto
    ForwardedForWSGI(app, proxies)(environ, lambda *a: None)
    return seen


async def asgi_seen(proxies, peer, forwarded, proto="", kind="websocket"):
    seen = {}

    async def app(scope, receive, send):
        seen.update(address=scope["client"][0], scheme=scope["scheme"])

    headers = [(b"host", b"desk.example")]
    # Two header lines, as a proxy chain may send them: read as one list.
    if forwarded:
        first, _, rest = forwarded.partition(",")
        headers.append((b"x-forwarded-for", first.encode()))
        if rest:
            headers.append((b"x-forwarded-for", rest.encode()))
    if proto:
        headers.append((b"x-forwarded-proto", proto.encode()))
    scope = {"type": kind, "client": [peer, 50123], "headers": headers}
    scope["scheme"] = "ws" if kind == "websocket" else "http"
    await ForwardedForASGI(app, proxies)(scope, None, None)
    return seen


@pytest.mark.parametrize("trusted,peer,forwarded,expected", CASES)
async def test_pages_and_sockets_find_the_same_patron(trusted, peer, forwarded, expected):
    proxies = TrustedProxies.parse(trusted)
    assert proxies.client_address(peer, forwarded) == expected
    assert wsgi_seen(proxies, peer, forwarded)["address"] == expected
    if proxies.enabled:  # (unconfigured, the ASGI side is not wrapped at all)
        assert (await asgi_seen(proxies, peer, forwarded))["address"] == expected
        assert (await asgi_seen(proxies, peer, forwarded, kind="http"))["address"] == expected


async def test_the_scheme_comes_from_our_proxy_only():
    nginx = TrustedProxies.parse("1")
    assert wsgi_seen(nginx, "127.0.0.1", "203.0.113.9", "https")["scheme"] == "https"
    # A terminator wrote "https", a client had written "http" before it: the last wins.
    assert wsgi_seen(nginx, "127.0.0.1", "203.0.113.9", "http, https")["scheme"] == "https"
    assert (await asgi_seen(nginx, "127.0.0.1", "203.0.113.9", "https"))["scheme"] == "wss"
    assert (await asgi_seen(nginx, "127.0.0.1", "", "https", kind="http"))["scheme"] == "https"
    assert (await asgi_seen(nginx, "127.0.0.1", "", "nonsense"))["scheme"] == "ws"
    nobody = TrustedProxies.parse("10.0.0.0/8")
    assert wsgi_seen(nobody, "198.51.100.4", "", "https")["scheme"] == "http"


def test_a_mistyped_proxy_list_stops_the_process():
    with pytest.raises(ValueError):
        TrustedProxies.parse("10.0.0.0/8,not-an-address")


def start_chat_through_asgi(application, *, peer, forwarded):
    from channels.testing import HttpCommunicator

    communicator = HttpCommunicator(
        application,
        "POST",
        "/widget/special-collections/chats",
        body=b'{"question": "Is the map room open?"}',
        headers=[
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"x-forwarded-for", forwarded.encode()),
        ],
    )
    communicator.scope["client"] = (peer, 40000)
    return communicator.get_response()


@pytest.mark.django_db(transaction=True)
async def test_behind_nginx_the_asgi_side_counts_the_patron_not_the_spoof(settings):
    """Issue 6: 24 chats from one client rotating a spoofed first X-Forwarded-For entry
    were all accepted by Daphne's --proxy-headers. As libdesk.asgi wraps the real
    application with TRUSTED_PROXIES=1, the limit holds for that client alone."""
    from asgiref.sync import sync_to_async

    from libdesk.asgi import application
    from tests.factories import DepartmentFactory

    await sync_to_async(DepartmentFactory)(slug="special-collections")
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "CHATS_PER_ADDRESS": 3}
    behind_nginx = ForwardedForASGI(application, TrustedProxies.parse("1"))
    statuses = []
    for n in range(4):
        response = await start_chat_through_asgi(
            behind_nginx, peer="127.0.0.1", forwarded=f"203.0.113.{n}, 198.51.100.7"
        )
        statuses.append(response["status"])
    assert statuses[:3] == [409, 409, 409]  # counted (nobody online), then
    assert statuses[3] == 429
    other = await start_chat_through_asgi(
        behind_nginx, peer="127.0.0.1", forwarded="198.51.100.7, 198.51.100.8"
    )
    assert other["status"] == 409
