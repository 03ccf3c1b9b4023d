"""Apply the retention periods now (Celery beat does it hourly in production)."""

import json

from django.core.management.base import BaseCommand

from chat.services.retention import retention_apply_all


class Command(BaseCommand):
    help = (
        "Apply settings.RETENTION to chats, tickets and Reference Analytics (old transcripts "
        "and files deleted, patron details and free text scrubbed); prints what it did."
    )

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(retention_apply_all(), sort_keys=True))
