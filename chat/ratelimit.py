"""Fixed-window rate limits on the shared cache (Redis in production, so every Daphne
process counts together; local memory in the embedded demo).

Keys are built from what is limited (an address digest, a chat id): addresses are
hashed with the secret key and never stored.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


def address_key(address: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:24]


def client_address(request) -> str:
    """The patron's address as the server sees it (Daphne's --proxy-headers behind a
    proxy). Used only to count; never stored."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit of ``key`` in ``scope``; False once more than ``limit`` hits fell
    in the current window of ``window_seconds``."""
    if limit <= 0:
        return True
    window = int(timezone.now().timestamp()) // window_seconds
    namespace = settings.LIBDESK_LIMITS.get("NAMESPACE", "")
    cache_key = f"rl:{namespace}:{scope}:{key}:{window}"
    return _count_hit(cache_key, window_seconds + 5) <= limit


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
