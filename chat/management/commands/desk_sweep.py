"""The desk's periodic sweep, for installs without Celery beat (e.g. from cron)."""

import time

from django.core.management.base import BaseCommand

from chat.services import presence


class Command(BaseCommand):
    help = (
        "Idle operators → Away, end of shift and gone dashboards → Offline, overdue "
        "transfers back to their senders. Once, or every --every seconds."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0, help="Repeat every N seconds (0: once)."
        )

    def handle(self, *args, every=0, **options):
        while True:
            result = presence.desk_sweep()
            self.stdout.write(
                "desk sweep: "
                + ", ".join(f"{key} {value}" for key, value in sorted(result.items()))
            )
            if not every:
                return
            time.sleep(every)
