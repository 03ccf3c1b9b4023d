"""LibDesk's own ASGI application plus the floor socket ``/ws/floor/``.

Pages and ``/ws/patron/`` and ``/ws/staff/`` are exactly ``libdesk.asgi``'s; the floor
bypasses the auth middleware and the URL router (it has neither in its job).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")

if os.environ.get("BENCH_NO_HIREDIS") == "1":
    # Before/after for hiredis (benchmarks/floors.py): redis-py then falls back to its
    # pure-Python reply parser. Must run before redis is imported.
    import sys

    sys.modules["hiredis"] = None

if os.environ.get("BENCH_DB_THREADS") == "pool":
    # Experiment: run every database_sync_to_async call on asgiref's thread pool (one
    # Django connection per thread) instead of the single pinned thread, so that
    # transactions of different chats overlap. Must run before chat.consumers imports.
    import channels.db

    def _pooled(func=None, thread_sensitive=False):
        if func is None:
            return lambda f: channels.db.DatabaseSyncToAsync(f, thread_sensitive=False)
        return channels.db.DatabaseSyncToAsync(func, thread_sensitive=False)

    channels.db.database_sync_to_async = _pooled

from benchmarks.floor.consumer import (  # noqa: E402
    FloorConsumer,
    LeanRelayConsumer,
    StoredRelayConsumer,
)
from libdesk.asgi import application as desk_application  # noqa: E402

if os.environ.get("BENCH_STOCK_LAYER") == "1":
    # Before/after for libdesk.channel_layer (benchmarks/floors.py): channels-redis's own
    # pub/sub layer, one PUBLISH round trip per event. The layer is made on first use.
    from django.conf import settings

    layer = settings.CHANNEL_LAYERS["default"]
    if layer["BACKEND"] == "libdesk.channel_layer.PipelinedPubSubChannelLayer":
        layer["BACKEND"] = "channels_redis.pubsub.RedisPubSubChannelLayer"

floor_app = FloorConsumer.as_asgi()
FLOORS = {
    "/ws/floor-lean/": LeanRelayConsumer.as_asgi(),
    "/ws/floor-stored/": StoredRelayConsumer.as_asgi(),
}


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"] in FLOORS:
        return await FLOORS[scope["path"]](scope, receive, send)
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/floor/"):
        return await floor_app(scope, receive, send)
    return await desk_application(scope, receive, send)
