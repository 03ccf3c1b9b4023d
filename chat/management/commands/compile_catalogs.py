"""``manage.py compile_catalogs``: the translations in locale/ compiled with polib.

Django's compilemessages needs GNU gettext's msgfmt; this needs nothing but Python, so
``make demo`` and ``make test`` run it (and the production image at build)."""

from django.core.management.base import BaseCommand

from libdesk.i18n import compile_catalogs


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo without GNU gettext."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Compile even if up to date.")

    def handle(self, *args, force=False, **options):
        written = compile_catalogs(force=force)
        self.stdout.write(f"{len(written)} catalog(s) compiled.")
