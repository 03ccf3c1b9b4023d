"""Read patrons' emails into tickets from a Maildir, an mbox file or an IMAP mailbox.

    manage.py import_ticket_mail --maildir /var/mail/desk
    manage.py import_ticket_mail --mbox /var/mail/desk.mbox
    manage.py import_ticket_mail --imap-host imap.example.org --imap-user desk \
        --imap-password-env DESK_IMAP_PASSWORD [--imap-folder INBOX]

Each message goes through tickets.services.ticket_receive_email. Processed messages
are removed from a Maildir/mbox (``--keep`` leaves them: a second import stores
nothing twice, by Message-ID) and marked \\Seen on IMAP (only UNSEEN ones are read).
A message that fails is left where it is, reported, and tried again next run.
"""

import imaplib
import mailbox
import os
import re

from django.core.management.base import BaseCommand, CommandError

from tickets import services

_ESCAPED_FROM_RE = re.compile(rb"^>(>*From )", re.MULTILINE)


def unescape_mbox_from(raw: bytes) -> bytes:
    """Undo mbox "From " quoting (mboxrd): a body line ">From …" was "From …" (and
    ">>From …" was ">From …"); the patron never typed the ">"."""
    head, separator, body = raw.partition(b"\n\n")
    if not separator:
        return raw
    return head + separator + _ESCAPED_FROM_RE.sub(rb"\1", body)


class Command(BaseCommand):
    help = "Import patrons' emails (Maildir, mbox or IMAP) into tickets."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--maildir", help="Path of a Maildir.")
        source.add_argument("--mbox", help="Path of an mbox file.")
        source.add_argument("--imap-host", help="IMAP server (TLS, port 993 unless --imap-port).")
        parser.add_argument("--imap-port", type=int, default=993)
        parser.add_argument("--imap-user")
        parser.add_argument("--imap-password", help="Prefer --imap-password-env.")
        parser.add_argument(
            "--imap-password-env", help="Name of the variable holding the password."
        )
        parser.add_argument("--imap-folder", default="INBOX")
        parser.add_argument("--imap-plain", action="store_true", help="No TLS (test servers only).")
        parser.add_argument("--keep", action="store_true", help="Leave imported messages in place.")

    def handle(self, *args, **options):
        if options["maildir"]:
            box = mailbox.Maildir(options["maildir"], factory=None, create=False)
            counts = self._import_mailbox(box, keep=options["keep"])
        elif options["mbox"]:
            if not os.path.exists(options["mbox"]):
                raise CommandError(f"No mbox file at {options['mbox']}.")
            box = mailbox.mbox(options["mbox"], factory=None, create=False)
            box.lock()
            try:
                counts = self._import_mailbox(box, keep=options["keep"])
                box.flush()
            finally:
                box.unlock()
        else:
            counts = self._import_imap(options)
        stored, dropped, failed = counts
        self.stdout.write(
            f"Imported {stored} message(s); {dropped} already there; {failed} failed."
        )
        if failed:
            raise CommandError(f"{failed} message(s) could not be imported (left in place).")

    def _receive(self, raw: bytes, label: str):
        try:
            _message, created = services.ticket_receive_email_once(raw=raw)
        except Exception as error:  # one bad message must not stop the rest
            self.stderr.write(f"{label}: {type(error).__name__}: {error}")
            return "failed"
        return "stored" if created else "dropped"

    def _import_mailbox(self, box, *, keep: bool):
        results = {"stored": 0, "dropped": 0, "failed": 0}
        unescape = isinstance(box, mailbox.mbox)
        for key in list(box.keys()):
            raw = box.get_bytes(key)
            outcome = self._receive(unescape_mbox_from(raw) if unescape else raw, f"message {key}")
            results[outcome] += 1
            if outcome != "failed" and not keep:
                box.remove(key)
        return results["stored"], results["dropped"], results["failed"]

    def _import_imap(self, options):
        password = options["imap_password"]
        if options["imap_password_env"]:
            password = os.environ.get(options["imap_password_env"], "")
        if not options["imap_user"] or not password:
            raise CommandError("IMAP needs --imap-user and a password.")
        client_class = imaplib.IMAP4 if options["imap_plain"] else imaplib.IMAP4_SSL
        results = {"stored": 0, "dropped": 0, "failed": 0}
        with client_class(options["imap_host"], options["imap_port"]) as client:
            client.login(options["imap_user"], password)
            client.select(options["imap_folder"])
            _status, data = client.uid("SEARCH", None, "UNSEEN")
            for uid in (data[0] or b"").split():
                _status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
                outcome = self._receive(raw, f"IMAP uid {uid.decode()}")
                results[outcome] += 1
                if outcome != "failed":
                    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        return results["stored"], results["dropped"], results["failed"]
