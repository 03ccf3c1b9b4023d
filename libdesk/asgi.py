"""ASGI entry point: Django for HTTP, Channels consumers for websockets.

Origin and authentication are checked inside the consumers (not by a wrapping
validator) so that a refused socket still gets a clear error frame before it closes.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from libdesk.health import HealthCheck  # noqa: E402
from libdesk.proxy import ForwardedForASGI, trusted_proxies  # noqa: E402
from libdesk.request_limits import answer_oversized_requests_in_daphne  # noqa: E402
from libdesk.routing import websocket_urlpatterns  # noqa: E402

# Under Daphne, a request too long for its HTTP server gets a page, not a dropped line.
answer_oversized_requests_in_daphne()

application = ProtocolTypeRouter(
    {
        "http": HealthCheck(django_asgi_app),
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
# Behind our proxies (TRUSTED_PROXIES), the patron's address and scheme as the pages
# find them (libdesk.proxy); Daphne runs without --proxy-headers, which believes the
# client-written first X-Forwarded-For entry.
if trusted_proxies().enabled:
    application = ForwardedForASGI(application, trusted_proxies())

# What is loaded by now (Django, the project, its URL patterns and consumers) lives
# as long as the process. Moved out of the collector's generations, it is no longer
# walked by every full collection, a pause that holds up every socket of the process at
# once: p99 delivery at 100 chats x 1 msg/s on three processes fell from 102-309 ms to
# 57-154 ms over six runs each (benchmarks/chat_load.py, docs/operations.md).
gc.collect()
gc.freeze()
