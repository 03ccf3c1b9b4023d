"""Fixed-window rate limits on the shared cache (Redis in production, so every Daphne
process counts together; local memory in the embedded demo).

Keys are built from what is limited (an address digest, a chat id): addresses are
hashed with the secret key and never stored.

When the cache cannot be reached (Redis down or restarting), every limit here fails
open: the hit is allowed and a warning logged. These limits only slow down one patron
(or one address) who sends too much; refusing everyone while the counter is away would
turn a Redis outage into a desk that takes no new chats and no files. What each open
limit leaves, for the length of the outage:

- new chats per address: one address can queue more chats than it should; operators
  see and end them, and each still needs an online department;
- files per chat per minute: the per-chat total (counted in the database) and the size
  limit still hold.

Two limits are counted in the database instead, so they keep working while Redis is
down and need no such decision: the offline form's (tickets.services.create counts
tickets), and a patron's messages per chat per minute (chat.services.message_send counts
them in the chat's row, in the statement that stores the message: on the busiest path
that saves a round trip to Redis per message, and the count is exact).
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    """What a cache call raises when its server cannot be reached: the socket errors
    (refused, reset, timed out), and redis-py's own connection errors."""
    errors: tuple[type[BaseException], ...] = (OSError,)
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # no redis client installed: only the embedded local-memory cache
        return errors
    return (*errors, RedisConnectionError, RedisTimeoutError)


UNREACHABLE_ERRORS = _unreachable_errors()


def address_key(address: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:24]


def client_address(request) -> str:
    """The patron's address: behind our proxies, the one libdesk.proxy found from
    TRUSTED_PROXIES (the same for pages under Gunicorn and under Daphne). Used only to
    count; never stored."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit of ``key`` in ``scope``; False once more than ``limit`` hits fell
    in the current window of ``window_seconds``. True, with a warning, when the cache
    cannot be reached (fail open: see the module's docstring)."""
    if limit <= 0:
        return True
    window = int(timezone.now().timestamp()) // window_seconds
    namespace = settings.LIBDESK_LIMITS.get("NAMESPACE", "")
    cache_key = f"rl:{namespace}:{scope}:{key}:{window}"
    try:
        return _count_hit(cache_key, window_seconds + 5) <= limit
    except UNREACHABLE_ERRORS as error:
        logger.warning("rate limit %r not counted, allowed (cache unreachable): %r", scope, error)
        return True


def _count_hit(cache_key: str, timeout: int) -> int:
    """The key's count after this hit. On Django's Redis cache one round trip (SET NX
    then INCR, pipelined: this runs on every patron message); elsewhere add + incr."""
    client = getattr(cache, "_cache", None)
    if hasattr(client, "get_client"):  # django.core.cache.backends.redis.RedisCache
        key = cache.make_and_validate_key(cache_key)
        pipe = client.get_client(key, write=True).pipeline(transaction=False)
        pipe.set(key, 0, ex=timeout, nx=True)  # an int is stored as such: incr-able
        pipe.incr(key)
        return pipe.execute()[1]
    if cache.add(cache_key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=timeout)
        return 1
