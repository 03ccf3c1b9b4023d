"""Retention of tickets (settings.RETENTION, the same periods as chats, counted from
when the ticket was closed): patron names and email addresses are scrubbed after
PATRON_DAYS, and with them the original emails (raw RFC 822, which carry both);
attached files and the copy of the chat transcript go after TRANSCRIPT_DAYS. The
ticket, its thread and its history stay (they are the library's record of the
answer); a ticket that is open or pending is never touched.
"""

from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from tickets.models import Ticket, TicketAttachment, TicketMessage


def _closed_before(cutoff):
    return Ticket.objects.filter(status=Ticket.Status.CLOSED, closed_at__lt=cutoff)


@transaction.atomic
def tickets_retention_apply(*, now=None) -> dict[str, int]:
    """Scrub and delete what the retention periods say, for closed tickets. Idempotent:
    a second run finds nothing left to do. Returns what it did."""
    now = now or timezone.now()
    periods = settings.RETENTION
    old = _closed_before(now - timedelta(days=periods["PATRON_DAYS"]))
    scrubbed = old.exclude(patron_name="", patron_email="", origin_digest="").update(
        patron_name="", patron_email="", origin_digest=""
    )
    TicketMessage.objects.filter(ticket__in=old, kind=TicketMessage.Kind.PATRON).exclude(
        from_address=""
    ).update(from_address="")
    # The original email holds the patron's name and address: it goes with them.
    originals = TicketMessage.objects.filter(ticket__in=old).exclude(original="")
    original_names = list(originals.values_list("original", flat=True))
    originals_deleted = originals.update(original="", original_size=0)

    expired = _closed_before(now - timedelta(days=periods["TRANSCRIPT_DAYS"]))
    files = TicketAttachment.objects.filter(message__ticket__in=expired)
    names = list(files.values_list("file", flat=True))
    files_deleted, _ = files.delete()
    transcripts = expired.exclude(transcript="").update(transcript="")
    # The stored files go once the rows are gone for good.
    transaction.on_commit(
        lambda: [default_storage.delete(name) for name in names + original_names if name]
    )
    return {
        "originals_deleted": originals_deleted,
        "tickets_scrubbed": scrubbed,
        "attachments_deleted": files_deleted,
        "transcripts_deleted": transcripts,
    }


@transaction.atomic
def ticket_delete(*, ticket: Ticket) -> None:
    """Delete a ticket for good (a superuser in /admin/, e.g. at a patron's request):
    its thread, history and attached files; the stored files go on commit. The ticket
    row is locked first so that a reply being saved at the same moment waits."""
    locked = Ticket.objects.select_for_update().filter(pk=ticket.pk)
    if not locked.exists():
        return
    files = TicketAttachment.objects.filter(message__ticket=ticket)
    names = list(files.values_list("file", flat=True))
    names += list(ticket.messages.exclude(original="").values_list("original", flat=True))
    locked.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names if name])


@transaction.atomic
def ticket_attachment_delete(*, attachment: TicketAttachment) -> None:
    """Delete one file from a ticket's thread (a superuser in /admin/, e.g. a file that
    should never have been kept): the row now, the stored file on commit."""
    name = attachment.file.name
    TicketAttachment.objects.filter(pk=attachment.pk).delete()
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
