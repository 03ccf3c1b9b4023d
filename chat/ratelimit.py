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
    if cache.add(cache_key, 1, timeout=window_seconds + 5):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 5)
        return True
    return count <= limit
