"""ASGI entry point: Django for HTTP, Channels consumers for websockets.

Origin and authentication are checked inside the consumers (not by a wrapping
validator) so that a refused socket still gets a clear error frame before it closes.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from libdesk.health import HealthCheck  # noqa: E402
from libdesk.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": HealthCheck(django_asgi_app),
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
