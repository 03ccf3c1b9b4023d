"""Celery application. Embedded default: eager tasks; with REDIS_URL: Redis broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")

app = Celery("libdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
