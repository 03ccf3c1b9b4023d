"""The patron's address (and scheme) behind our reverse proxies, found the same way for
pages (WSGI, ``ForwardedForWSGI``) and sockets (ASGI, ``ForwardedForASGI``).

``TRUSTED_PROXIES`` says who may speak for the client:

- a count (``1``: our nginx; ``2``: a campus load balancer, then our nginx): the address
  is the entry that many hops from the right of ``X-Forwarded-For`` + the peer, the last
  one a proxy of ours wrote. Entries further left are whatever the client sent.
- a list of addresses or networks (``10.0.0.0/8,192.0.2.7``): walking from the right
  (the peer first), every address in the list is a proxy; the first one that is not
  is the patron.
- empty (the default, and the embedded demo): no proxy; the peer is the patron, and
  ``X-Forwarded-*`` headers are ignored.

Never the leftmost entry: the client writes it (Daphne's ``--proxy-headers`` takes it,
which is why the stack does not use that flag). ``X-Forwarded-Proto`` is believed only
from a trusted peer and only as the last entry a proxy wrote.
"""

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class TrustedProxies:
    count: int = 0
    networks: tuple = ()

    @classmethod
    def parse(cls, value: str) -> "TrustedProxies":
        value = (value or "").strip()
        if not value:
            return cls()
        if value.isdigit():
            return cls(count=int(value))
        networks = []
        for item in value.split(","):
            item = item.strip()
            if item:
                # ValueError on a typo: a wrong proxy list must stop the process, not
                # quietly count every patron as the proxy.
                networks.append(ipaddress.ip_network(item, strict=False))
        return cls(networks=tuple(networks))

    @property
    def enabled(self) -> bool:
        return bool(self.count or self.networks)

    def _is_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def peer_trusted(self, peer: str) -> bool:
        return bool(self.count) or self._is_proxy(peer)

    def client_address(self, peer: str, forwarded_for: str) -> str:
        """The patron's address given the connection's ``peer`` and the request's
        ``X-Forwarded-For`` (all its values joined with commas)."""
        if not self.enabled or not self.peer_trusted(peer):
            return peer
        chain = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
        chain.append(peer)
        if self.count:
            # chain[-1] is proxy number `count` (the peer); the entry it and the proxies
            # before it appended for their own peer sits `count` places to its left.
            return chain[max(0, len(chain) - 1 - self.count)]
        for address in reversed(chain):
            if not self._is_proxy(address):
                return address
        return chain[0]

    def scheme(self, peer: str, forwarded_proto: str, default: str) -> str:
        """``http`` or ``https`` as the first proxy of ours saw it."""
        if not self.enabled or not self.peer_trusted(peer) or not forwarded_proto:
            return default
        last = forwarded_proto.split(",")[-1].strip().lower()
        return last if last in ("http", "https") else default


def trusted_proxies() -> TrustedProxies:
    from django.conf import settings

    return TrustedProxies.parse(getattr(settings, "TRUSTED_PROXIES", ""))


class ForwardedForWSGI:
    """Sets ``REMOTE_ADDR`` (and ``wsgi.url_scheme``) from the trusted proxies' headers."""

    def __init__(self, app, proxies: TrustedProxies):
        self.app = app
        self.proxies = proxies

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        environ["REMOTE_ADDR"] = self.proxies.client_address(
            peer, environ.get("HTTP_X_FORWARDED_FOR", "")
        )
        environ["wsgi.url_scheme"] = self.proxies.scheme(
            peer, environ.get("HTTP_X_FORWARDED_PROTO", ""), environ.get("wsgi.url_scheme", "http")
        )
        return self.app(environ, start_response)


class ForwardedForASGI:
    """Sets ``scope["client"]`` (and ``scope["scheme"]``) from the trusted proxies'
    headers, for HTTP and websockets alike: what Django's ``REMOTE_ADDR`` and the
    consumers' ``scope["client"]`` read."""

    def __init__(self, app, proxies: TrustedProxies):
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and self.proxies.enabled:
            headers = {}
            for name, value in scope.get("headers", []):
                if name in (b"x-forwarded-for", b"x-forwarded-proto"):
                    key = name.decode("latin1")
                    text = value.decode("latin1")
                    headers[key] = f"{headers[key]},{text}" if key in headers else text
            client = scope.get("client") or ("", 0)
            peer = client[0] or ""
            address = self.proxies.client_address(peer, headers.get("x-forwarded-for", ""))
            secure_default = scope.get("scheme", "http") in ("https", "wss")
            scheme = self.proxies.scheme(
                peer, headers.get("x-forwarded-proto", ""), "https" if secure_default else "http"
            )
            if scope["type"] == "websocket":
                scheme = "wss" if scheme == "https" else "ws"
            scope = dict(scope, client=(address, client[1] if address == peer else 0))
            scope["scheme"] = scheme
        return await self.app(scope, receive, send)
