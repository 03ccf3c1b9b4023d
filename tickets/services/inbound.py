"""Inbound mail: a patron's reply lands on its ticket (or starts a new one)."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat.exceptions import InvalidInput
from chat.models import Department
from tickets.inbound import ParsedMessage, parse_message
from tickets.models import Ticket, TicketAttachment, TicketMessage
from tickets.services._common import (
    SUBJECT_MAX,
    _audit,
    _clean_email,
    _lock,
    _notify_new_ticket_on_commit,
    _setting,
    _subject_from,
    _touch,
)

# --- Inbound mail -----------------------------------------------------------------------


def ticket_receive_email(*, raw: bytes) -> TicketMessage:
    """A patron's email (raw RFC 822): lands on the ticket its reference names (a
    closed or pending ticket reopens) or, matching none, opens a ticket in the default
    queue. Delivering the same Message-ID twice stores it once (the first is returned).
    Automatic replies (Auto-Submitted) never reopen a ticket; matching none, they are
    kept on a new ticket that is closed at once (a bounce or an out-of-office reply is
    on record, yet no queue fills and no email loop starts). The raw message is kept
    with the stored message (``original``); nothing a patron wrote is dropped.
    Raises InvalidInput only when there is no department at all."""
    return ticket_receive_email_once(raw=raw)[0]


def ticket_receive_email_once(*, raw: bytes) -> tuple[TicketMessage, bool]:
    """``ticket_receive_email``, and whether the message is new (False: the same
    Message-ID was stored before, and that message is returned)."""
    return _receive(parse_message(raw), raw)


def _find_ticket_for(parsed: ParsedMessage) -> Ticket | None:
    ticket_id = parsed.reference_id
    if ticket_id is not None and Ticket.objects.filter(pk=ticket_id).exists():
        return _lock(ticket_id)
    if parsed.in_reply_to:
        ours = (
            TicketMessage.objects.filter(
                kind=TicketMessage.Kind.REPLY, email_message_id__in=parsed.in_reply_to[:50]
            )
            .values_list("ticket_id", flat=True)
            .first()
        )
        if ours:
            return _lock(ours)
    return None


def _store_attachments(message: TicketMessage, parsed: ParsedMessage) -> None:
    limit = _setting("MAX_ATTACHMENT_BYTES")
    skipped = []
    for attachment in parsed.attachments:
        if len(attachment.content) > limit:
            skipped.append(attachment.filename)
            continue
        # A random name: the patron's file name is only ever metadata.
        name = default_storage.save(
            f"tickets/attachments/{secrets.token_hex(16)}", ContentFile(attachment.content)
        )
        TicketAttachment.objects.create(
            message=message,
            file=name,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=len(attachment.content),
        )
    if skipped:
        note = "\n\n[Attachments too large to keep: " + ", ".join(skipped) + "]"
        message.body += note
        TicketMessage.objects.filter(pk=message.pk).update(body=message.body)


TOO_LONG_NOTE = "\n\n[The rest of this email is in the original message: download it.]"


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TOO_LONG_NOTE


def _store_original(raw: bytes) -> str:
    # A random name, like the attachments': the file is only ever a download for staff.
    return default_storage.save(f"tickets/originals/{secrets.token_hex(16)}.eml", ContentFile(raw))


@transaction.atomic
def _receive(parsed: ParsedMessage, raw: bytes = b"") -> tuple[TicketMessage, bool]:
    if parsed.message_id:
        existing = TicketMessage.objects.filter(
            kind=TicketMessage.Kind.PATRON, email_message_id=parsed.message_id
        ).first()
        if existing is not None:
            return existing, False
    limit = settings.LIBDESK["MAX_MESSAGE_LENGTH"] * 25  # 100,000 characters by default
    body = _bounded(parsed.body, limit)
    if not body and parsed.attachments:
        body = "(attachments only)"
    if not body:
        body = "(an empty email)"
    ticket = _find_ticket_for(parsed)
    if ticket is None:
        department = Department.objects.filter(slug=_setting("DEFAULT_QUEUE")).first()
        if department is None:
            department = Department.objects.filter(is_active=True).order_by("pk").first()
        if department is None:
            raise InvalidInput(_("There is no department to put this email in."))
        ticket = Ticket.objects.create(
            department=department,
            status=Ticket.Status.CLOSED if parsed.auto_submitted else Ticket.Status.OPEN,
            closed_at=timezone.now() if parsed.auto_submitted else None,
            source=Ticket.Source.EMAIL,
            patron_name=parsed.from_name,
            patron_email=_clean_email(parsed.from_address, required=False)
            if _valid_email(parsed.from_address)
            else "",
            subject=(parsed.clean_subject or _subject_from(body))[:SUBJECT_MAX],
            question=body,
        )
        _audit(ticket, "created", "", f"email, queue {department.name}")
        if parsed.auto_submitted:
            _audit(ticket, "status", Ticket.Status.OPEN, Ticket.Status.CLOSED)
        else:
            _notify_new_ticket_on_commit(ticket)
    else:
        if not parsed.auto_submitted and ticket.status != Ticket.Status.OPEN:
            _audit(ticket, "status", ticket.status, Ticket.Status.OPEN)
            _touch(ticket, status=Ticket.Status.OPEN, closed_at=None)
        else:
            _touch(ticket)
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.PATRON,
        from_address=parsed.from_address if _valid_email(parsed.from_address) else "",
        body=body,
        quoted=_bounded(parsed.quoted, limit * 2),
        original=_store_original(raw) if raw else "",
        original_size=len(raw),
        email_message_id=parsed.message_id,
    )
    _store_attachments(message, parsed)
    return message, True


def _valid_email(value: str) -> bool:
    try:
        EmailValidator()(value)
    except ValidationError:
        return False
    return True
