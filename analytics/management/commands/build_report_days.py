"""Keep the reports' figures of past days now (Celery beat does it hourly in production)."""

import json

from django.core.management.base import BaseCommand, CommandError

from analytics.services import report_days_build


class Command(BaseCommand):
    help = (
        "Build the Reference Analytics figures kept per day (analytics.rollups) for every "
        "past day not kept yet or changed since; prints how many days were built, how "
        "many of them left out a chat still open (counted live until it finishes) and how "
        "many months were added up. Run it once after an upgrade or after changing "
        "TIME_ZONE; it is safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=None, help="at most this many days, newest first"
        )

    def handle(self, *args, limit=None, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit is a number of days: 1 or more.")
        self.stdout.write(json.dumps(report_days_build(limit=limit), sort_keys=True))
