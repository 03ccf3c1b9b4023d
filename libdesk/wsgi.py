"""WSGI entry point: pages are served by a WSGI server (Gunicorn) beside Daphne, which
carries the websockets (docs/operations.md, "Pages").

Behind the reverse proxy every request comes from the proxy's address. With
``WSGI_PROXY_HEADERS=1`` (set by docker-compose for the ``pages`` service) the patron's
address is taken from the last entry of ``X-Forwarded-For``, the one our proxy appended
(earlier entries are whatever the client sent), as Daphne's ``--proxy-headers`` does for
the sockets: per-address rate limits and login throttling count patrons, not the proxy.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")


class ForwardedFor:
    """Set ``REMOTE_ADDR`` from the last ``X-Forwarded-For`` entry (one trusted proxy)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            environ["REMOTE_ADDR"] = last
        return self.app(environ, start_response)


application = get_wsgi_application()
if os.environ.get("WSGI_PROXY_HEADERS", "").lower() in ("1", "true", "yes", "on"):
    application = ForwardedFor(application)
