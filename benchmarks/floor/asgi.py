"""LibDesk's own ASGI application plus the floor socket ``/ws/floor/``.

Pages and ``/ws/patron/`` and ``/ws/staff/`` are exactly ``libdesk.asgi``'s; the floor
bypasses the auth middleware and the URL router (it has neither in its job).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")

from benchmarks.floor.consumer import FloorConsumer  # noqa: E402
from libdesk.asgi import application as desk_application  # noqa: E402

floor_app = FloorConsumer.as_asgi()


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"].startswith("/ws/floor/"):
        return await floor_app(scope, receive, send)
    return await desk_application(scope, receive, send)
