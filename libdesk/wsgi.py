"""WSGI entry point: pages are served by a WSGI server (Gunicorn) beside Daphne, which
carries the websockets (docs/operations.md, "Pages").

``/healthz`` is answered first (libdesk.health), whatever the Host. Behind the reverse
proxy every request comes from the proxy's address: with ``TRUSTED_PROXIES`` set, the
patron's address and scheme come from the proxies' ``X-Forwarded-For`` and
``X-Forwarded-Proto``, found exactly as the sockets find them (libdesk.proxy), so
per-address rate limits and login throttling count patrons, not the proxy.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")

from libdesk.health import HealthCheckWSGI  # noqa: E402
from libdesk.proxy import ForwardedForWSGI, trusted_proxies  # noqa: E402

application = get_wsgi_application()
if trusted_proxies().enabled:
    application = ForwardedForWSGI(application, trusted_proxies())
application = HealthCheckWSGI(application)
