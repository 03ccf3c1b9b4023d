"""How many patron sockets one client address may hold open at once
(``LIBDESK_LIMITS["SOCKETS_PER_ADDRESS"]``), counted across every Daphne process.

A patron socket needs no login: without a bound, one address could open sockets until
the server runs out of file descriptors (1,000 idle sockets from one address were all
still open 20 s later). Each patron socket also has to say ``hello`` (or ``watch``)
within ``HELLO_TIMEOUT_SECONDS`` (chat.consumers.patron), so a socket that never speaks is
closed; this limit bounds the ones that do.

Production (Django's Redis cache): a sorted set per address, one member per open
socket, scored with the time its lease runs out. Each process renews its own sockets'
leases every third of ``SOCKET_LEASE_SECONDS`` in one pipelined call; a process killed
mid-connection renews nothing, so its sockets drop out of the count within the lease and the
whole key expires: an address is never blocked for ever. Counting and joining is one
MULTI (add, then count), so of sockets racing for the last place exactly the ones within
the limit stay. Embedded default (local-memory cache, one process): a set per address
in this process.

Like the rate limits (chat.ratelimit), the count fails open when Redis cannot be
reached: the socket is let in and a warning logged. The address is found the way the
HTTP limits find it (``chat.ratelimit.client_address``) and only its digest is used.
"""

import asyncio
import logging
import time
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from chat import ratelimit
from chat.close_codes import CLOSE_HELLO_TIMEOUT

logger = logging.getLogger(__name__)


def _lease_seconds() -> int:
    """How long a socket counts without being renewed (``SOCKET_LEASE_SECONDS``): the
    longest an address stays blocked by the sockets of a process that was killed."""
    return max(3, int(settings.LIBDESK_LIMITS.get("SOCKET_LEASE_SECONDS", 60)))


# Embedded: address key -> channel names of this process's open patron sockets.
_local: dict[str, set[str]] = {}
# Production: this process's open sockets, channel name -> Redis key, renewed together.
_held: dict[str, str] = {}
_renewer: asyncio.Task | None = None


def socket_client_address(scope) -> str:
    """The client address of a websocket, by ``chat.ratelimit.client_address`` (which
    knows the proxy rules) given the socket's headers as a request's META would hold
    them."""
    meta = {"REMOTE_ADDR": (scope.get("client") or [""])[0] or ""}
    for name, value in scope.get("headers", []):
        key = "HTTP_" + name.decode("latin1").upper().replace("-", "_")
        meta[key] = (
            f"{meta[key]},{value.decode('latin1')}" if key in meta else value.decode("latin1")
        )
    return ratelimit.client_address(SimpleNamespace(META=meta))


def _limit() -> int:
    return int(settings.LIBDESK_LIMITS.get("SOCKETS_PER_ADDRESS", 0))


def _redis():
    """The raw client of Django's Redis cache, or None on the embedded cache."""
    backend = getattr(cache, "_cache", None)
    return backend if hasattr(backend, "get_client") else None


def _key(address_digest: str) -> str:
    namespace = settings.LIBDESK_LIMITS.get("NAMESPACE", "")
    return cache.make_and_validate_key(f"sockets:{namespace}:{address_digest}")


def _join_redis(key: str, channel_name: str, limit: int) -> bool:
    client = _redis().get_client(key, write=True)
    now = time.time()
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", now)
    lease = _lease_seconds()
    pipe.zadd(key, {channel_name: now + lease})
    pipe.zcard(key)
    pipe.expire(key, lease)
    count = pipe.execute()[2]
    if count > limit:
        client.zrem(key, channel_name)
        return False
    return True


def _leave_redis(key: str, channel_name: str) -> None:
    _redis().get_client(key, write=True).zrem(key, channel_name)


def _renew_redis(held: dict[str, str]) -> None:
    if not held:
        return
    lease = _lease_seconds()
    until = time.time() + lease
    by_key: dict[str, list[str]] = {}
    for channel_name, key in held.items():
        by_key.setdefault(key, []).append(channel_name)
    client = _redis().get_client(next(iter(by_key)), write=True)
    pipe = client.pipeline(transaction=False)
    for key, names in by_key.items():
        pipe.zadd(key, dict.fromkeys(names, until), xx=True)  # only members still there
        pipe.expire(key, lease)
    pipe.execute()


async def _renew_forever() -> None:
    while _held:
        await asyncio.sleep(_lease_seconds() / 3)
        try:
            await asyncio.to_thread(_renew_redis, dict(_held))
        except ratelimit.UNREACHABLE_ERRORS as error:
            logger.warning("socket leases not renewed (cache unreachable): %r", error)


async def socket_join(scope, channel_name: str) -> str | None:
    """Count this socket for its address: the key to give ``socket_leave`` when it was
    let in (``""`` when not counted: no limit, or the cache unreachable), None when the
    address already holds ``SOCKETS_PER_ADDRESS`` sockets."""
    global _renewer
    limit = _limit()
    if limit <= 0:
        return ""
    digest = ratelimit.address_key(socket_client_address(scope))
    key = _key(digest)
    if _redis() is None:
        sockets = _local.setdefault(key, set())
        if len(sockets) >= limit:
            return None
        sockets.add(channel_name)
        return key
    try:
        if not await asyncio.to_thread(_join_redis, key, channel_name, limit):
            return None
    except ratelimit.UNREACHABLE_ERRORS as error:
        logger.warning("socket not counted, let in (cache unreachable): %r", error)
        return ""
    _held[channel_name] = key
    if _renewer is None or _renewer.done():
        _renewer = asyncio.get_running_loop().create_task(_renew_forever())
    return key


async def socket_leave(key: str, channel_name: str) -> None:
    """The socket counted under ``key`` (socket_join's answer) closed."""
    if not key:
        return
    if _redis() is None:
        sockets = _local.get(key)
        if sockets is not None:
            sockets.discard(channel_name)
            if not sockets:
                del _local[key]
        return
    _held.pop(channel_name, None)
    try:
        await asyncio.to_thread(_leave_redis, key, channel_name)
    except ratelimit.UNREACHABLE_ERRORS as error:
        # Its lease runs out by itself within SOCKET_LEASE_SECONDS.
        logger.warning("socket not uncounted (cache unreachable): %r", error)


class PatronSocketLimits:
    """Mixed into the patron consumer: the per-address count at connect, and the
    deadline for the first ``hello`` (or ``watch``: the widget before a chat)."""

    _limit_key: str | None = None
    _hello_deadline: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Also when the consumer was cancelled without its disconnect (Daphne ends a
            # consumer slow to close): the place is given back (at once in memory; in
            # Redis its lease is no longer renewed even if the removal is cut short).
            await self.leave_address_count()

    async def join_address_count(self) -> bool:
        """Count the socket (before accepting it); False when its address is full."""
        self._limit_key = await socket_join(self.scope, self.channel_name)
        return self._limit_key is not None

    def start_hello_deadline(self) -> None:
        seconds = settings.LIBDESK["HELLO_TIMEOUT_SECONDS"]
        if seconds > 0:
            loop = asyncio.get_running_loop()
            self._hello_deadline = loop.create_task(self._close_without_hello(seconds))

    def said_hello(self) -> None:
        if self._hello_deadline is not None:
            self._hello_deadline.cancel()
            self._hello_deadline = None

    async def _close_without_hello(self, seconds) -> None:
        await asyncio.sleep(seconds)
        self._hello_deadline = None
        await self.send_json(
            {
                "type": "error",
                "code": "hello_timeout",
                "message": _("Say hello (or watch) within %(seconds)s seconds of connecting.")
                % {"seconds": seconds},
            }
        )
        await self.close(code=CLOSE_HELLO_TIMEOUT)

    async def leave_address_count(self) -> None:
        self.said_hello()
        if self._limit_key:
            key, self._limit_key = self._limit_key, None
            await socket_leave(key, self.channel_name)
