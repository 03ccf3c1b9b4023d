"""WSGI entry point: pages can be served by a WSGI server (e.g. Gunicorn) beside Daphne."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")
application = get_wsgi_application()
