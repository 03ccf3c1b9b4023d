"""``manage.py campus_recheck``: what the campus_recheck task does, for cron (the
embedded mode has no celery beat)."""

from django.core.management.base import BaseCommand

from chat.tasks import campus_recheck


class Command(BaseCommand):
    help = "Ask the LDAP directory again about staff who sign in through it."

    def handle(self, *args, **options):
        result = campus_recheck()
        self.stdout.write(
            f"Checked {result['checked']} LDAP accounts; deprovisioned {result['deprovisioned']}."
        )
