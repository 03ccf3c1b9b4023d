"""Apply the retention periods now (Celery beat does it hourly in production)."""

import json

from django.core.management.base import BaseCommand

from chat.services.retention import retention_apply


class Command(BaseCommand):
    help = "Delete old transcripts and scrub old patron details (settings.RETENTION); prints what it did."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(retention_apply(), sort_keys=True))
