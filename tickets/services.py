"""Every state change of the ticket desk: one keyword-only function each, in a
transaction. Views, tasks, the webhook and the mail importer call these; nobody else
saves ticket models. Emails leave through Celery tasks queued on commit.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat import attachments as chat_attachments
from chat import events as chat_events
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.exceptions import Forbidden, InvalidInput, NotFound
from chat.models import Chat, Department, Message, Operator
from tickets import selectors
from tickets.exceptions import NoPatronEmail, RateLimited
from tickets.inbound import ParsedMessage, parse_message
from tickets.models import Ticket, TicketAttachment, TicketChange, TicketMessage

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200


def _setting(name):
    return settings.TICKETS[name]


def _clean_text(value, *, what="text", required=True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text.")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"Please write the {what}.", code="empty")
    limit = settings.LIBDESK["MAX_MESSAGE_LENGTH"]
    if len(value) > limit:
        raise InvalidInput(
            f"The {what} is too long ({len(value)} characters; the limit is {limit}).",
            code="too_long",
        )
    return value


def _clean_email(value, *, required=True) -> str:
    value = (value or "").strip()[:254] if isinstance(value, str) else ""
    if not value:
        if required:
            raise InvalidInput("Please give your email address.", code="bad_email")
        return ""
    try:
        EmailValidator()(value)
    except ValidationError:
        raise InvalidInput("That email address does not look right.", code="bad_email") from None
    return value


def _subject_from(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) > 80:
        first_line = first_line[:79].rstrip() + "…"
    return first_line or "(no subject)"


def _lock(ticket_id: int) -> Ticket:
    try:
        return (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("department", "assignee__user")
            .get(pk=ticket_id)
        )
    except Ticket.DoesNotExist:
        raise NotFound("No such ticket.") from None


def _require_staff(actor: Operator, ticket: Ticket) -> None:
    if not selectors.operator_can_see_ticket(actor, ticket):
        raise NotFound("No such ticket.")


def _audit(ticket: Ticket, field: str, old, new, actor=None) -> None:
    TicketChange.objects.create(
        ticket=ticket,
        actor=actor,
        field=field,
        old_value=str(old or "")[:200],
        new_value=str(new or "")[:200],
    )


def _touch(ticket: Ticket, **fields) -> None:
    """Write ``fields`` (and ``updated_at``) with a queryset update."""
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(ticket, name, value)
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


def _check_assignee(assignee: Operator | None, department: Department) -> None:
    if assignee is not None and not assignee.departments.filter(pk=department.pk).exists():
        raise InvalidInput(
            f"{assignee.public_name} is not in {department.name}.", code="bad_assignee"
        )


def _notify_new_ticket_on_commit(ticket: Ticket) -> None:
    from tickets import tasks

    ticket_id = ticket.pk
    transaction.on_commit(lambda: tasks.notify_new_ticket.delay(ticket_id), robust=True)


def _send_reply_on_commit(message: TicketMessage) -> None:
    from tickets import tasks

    message_id = message.pk
    transaction.on_commit(lambda: tasks.send_reply.delay(message_id), robust=True)


def _transcript_text(chat: Chat) -> tuple[str, str]:
    """(the patron's first message, the whole transcript as text)."""
    lines, question = [], ""
    for message in chat_selectors.messages_after(chat, 0, limit=10**6):
        if message.sender == Message.Sender.PATRON:
            author = chat.patron_label
            question = question or message.body
        elif message.sender == Message.Sender.OPERATOR:
            author = message.operator.public_name if message.operator_id else "Librarian"
        else:
            author = "System"
        text = chat_attachments.message_text(message)  # files listed by name
        lines.append(f"[{message.created_at:%Y-%m-%d %H:%M}] {author}: {text}")
    return question, "\n".join(lines)


# --- Creating tickets -------------------------------------------------------------------


@transaction.atomic
def ticket_create_from_chat(
    *,
    chat_id: int,
    department: Department,
    actor: Operator,
    assignee: Operator | None = None,
    notes: str = "",
) -> Ticket:
    """Create Ticket on a chat: a ticket in ``department``'s queue (optionally for one
    person) with the transcript attached. The patron gets a system message; if they
    gave no email address the widget is asked to request one
    (``ticket.email_requested``). The actor must be able to see the chat."""
    chat = Chat.objects.select_related("department").filter(pk=chat_id).first()
    if chat is None or not chat_selectors.operator_can_see_chat(actor, chat):
        raise NotFound()
    if not department.is_active:
        raise InvalidInput(f"{department.name} is not taking tickets.")
    _check_assignee(assignee, department)
    notes = _clean_text(notes, what="notes", required=False)
    question, transcript = _transcript_text(chat)
    ticket = Ticket.objects.create(
        department=department,
        assignee=assignee,
        source=Ticket.Source.CHAT,
        patron_name=chat.patron_name,
        patron_email=chat.patron_email,
        subject=_subject_from(question)[:SUBJECT_MAX],
        question=question,
        chat=chat,
        transcript=transcript,
        created_by=actor.user,
    )
    TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.PATRON, body=question, from_address=chat.patron_email
    )
    if notes:
        TicketMessage.objects.create(
            ticket=ticket, kind=TicketMessage.Kind.NOTE, author=actor.user, body=notes
        )
    _audit(ticket, "created", "", f"from chat, queue {department.name}", actor.user)
    if chat.patron_email:
        body = (
            f"A ticket ({ticket.reference}) was created for {department.name}. "
            "They will follow up with you by email."
        )
    else:
        body = (
            f"A ticket ({ticket.reference}) was created for {department.name}. "
            "Please leave your email address so that they can reply to you."
        )
        chat_events.broadcast_on_commit(
            chat_events.chat_group(chat.pk),
            {
                "type": "ticket.email_requested",
                "chat": str(chat.public_id),
                "ticket": ticket.reference,
                "department": department.name,
            },
            chat_pk=chat.pk,
        )
    chat_services.chat_post_system_message(chat_id=chat.pk, body=body)
    _notify_new_ticket_on_commit(ticket)
    return ticket


def origin_digest(remote_addr: str) -> str:
    """A keyed digest of an IP address: enough to rate-limit, useless to anyone else."""
    if not remote_addr:
        return ""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"offline-form:{remote_addr}".encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def ticket_create_from_offline_form(
    *, department: Department, name: str, email: str, question: str, remote_addr: str = ""
) -> Ticket:
    """The widget's offline question form. At most ``OFFLINE_FORM_LIMIT`` tickets per
    window from one email address or one IP address (RateLimited otherwise)."""
    if not department.is_active:
        raise InvalidInput(f"{department.name} is not taking questions.")
    name = (name or "").strip()[:80] if isinstance(name, str) else ""
    email = _clean_email(email)
    question = _clean_text(question, what="question")
    digest = origin_digest(remote_addr)
    since = timezone.now() - timedelta(seconds=_setting("OFFLINE_FORM_WINDOW_SECONDS"))
    same_sender = Q(patron_email__iexact=email)
    if digest:
        same_sender |= Q(origin_digest=digest)
    recent = Ticket.objects.filter(
        same_sender, source=Ticket.Source.OFFLINE_FORM, created_at__gte=since
    ).count()
    if recent >= _setting("OFFLINE_FORM_LIMIT"):
        raise RateLimited()
    ticket = Ticket.objects.create(
        department=department,
        source=Ticket.Source.OFFLINE_FORM,
        patron_name=name,
        patron_email=email,
        subject=_subject_from(question)[:SUBJECT_MAX],
        question=question,
        origin_digest=digest,
    )
    TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.PATRON, body=question, from_address=email
    )
    _audit(ticket, "created", "", f"offline form, queue {department.name}")
    _notify_new_ticket_on_commit(ticket)
    return ticket


@transaction.atomic
def ticket_set_patron_email(*, chat_id: int, email: str) -> list[Ticket]:
    """The patron answered the widget's request for an email address: it goes on the
    chat and on every open ticket made from it that had none."""
    email = _clean_email(email)
    chat_services.chat_set_patron_email(chat_id=chat_id, email=email)
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("department")
        .filter(chat_id=chat_id, patron_email="")
        .exclude(status=Ticket.Status.CLOSED)
        .order_by("pk")
    )
    for ticket in tickets:
        _touch(ticket, patron_email=email)
        _audit(ticket, "patron_email", "", email)
        TicketMessage.objects.filter(
            ticket=ticket, kind=TicketMessage.Kind.PATRON, from_address=""
        ).update(from_address=email)
    if tickets:
        names = ", ".join(sorted({t.department.name for t in tickets}))
        references = ", ".join(t.reference for t in tickets)
        chat_services.chat_post_system_message(
            chat_id=chat_id,
            body=f"Thank you. {names} will follow up with you by email ({references}).",
        )
    return tickets


# --- Inbound mail -----------------------------------------------------------------------


def ticket_receive_email(*, raw: bytes) -> TicketMessage | None:
    """A patron's email (raw RFC 822): lands on the ticket its reference names (a
    closed or pending ticket reopens) or, matching none, opens a ticket in the default
    queue. Delivering the same Message-ID twice stores it once. Automatic replies
    (Auto-Submitted) never reopen or create tickets. Returns the stored message."""
    return _receive(parse_message(raw))


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


@transaction.atomic
def _receive(parsed: ParsedMessage) -> TicketMessage | None:
    if parsed.message_id:
        existing = TicketMessage.objects.filter(
            kind=TicketMessage.Kind.PATRON, email_message_id=parsed.message_id
        ).first()
        if existing is not None:
            return existing
    body = parsed.body[: settings.LIBDESK["MAX_MESSAGE_LENGTH"] * 4]
    if not body and parsed.attachments:
        body = "(attachments only)"
    ticket = _find_ticket_for(parsed)
    if ticket is None:
        if parsed.auto_submitted or not parsed.from_address:
            logger.info("Dropped automatic or senderless mail %s", parsed.message_id)
            return None
        department = Department.objects.filter(slug=_setting("DEFAULT_QUEUE")).first()
        if department is None:
            department = Department.objects.filter(is_active=True).order_by("pk").first()
        if department is None:
            raise InvalidInput("There is no department to put this email in.")
        ticket = Ticket.objects.create(
            department=department,
            source=Ticket.Source.EMAIL,
            patron_name=parsed.from_name,
            patron_email=_clean_email(parsed.from_address, required=False)
            if _valid_email(parsed.from_address)
            else "",
            subject=(parsed.clean_subject or _subject_from(body))[:SUBJECT_MAX],
            question=body,
        )
        _audit(ticket, "created", "", f"email, queue {department.name}")
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
        email_message_id=parsed.message_id,
    )
    _store_attachments(message, parsed)
    return message


def _valid_email(value: str) -> bool:
    try:
        EmailValidator()(value)
    except ValidationError:
        return False
    return True


# --- Staff work on a ticket ---------------------------------------------------------------


@transaction.atomic
def ticket_reply(*, ticket_id: int, actor: Operator, body: str) -> TicketMessage:
    """A staff reply, emailed to the patron (queued on commit; retried; its status is
    kept on the message)."""
    body = _clean_text(body, what="reply")
    ticket = _lock(ticket_id)
    _require_staff(actor, ticket)
    if not ticket.patron_email:
        raise NoPatronEmail()
    domain = _setting("REPLY_TO").rsplit("@", 1)[-1] or "libdesk.invalid"
    message = TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.REPLY,
        author=actor.user,
        body=body,
        email_status=TicketMessage.EmailStatus.QUEUED,
        email_message_id=make_msgid(idstring=ticket.reference, domain=domain),
    )
    _touch(ticket)
    _send_reply_on_commit(message)
    return message


@transaction.atomic
def ticket_add_note(*, ticket_id: int, actor: Operator, body: str) -> TicketMessage:
    """An internal note: staff only, never emailed."""
    body = _clean_text(body, what="note")
    ticket = _lock(ticket_id)
    _require_staff(actor, ticket)
    note = TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.NOTE, author=actor.user, body=body
    )
    _touch(ticket)
    return note


@transaction.atomic
def ticket_assign(*, ticket_id: int, actor: Operator, assignee: Operator | None) -> Ticket:
    """Assign (or unassign, with None). Locks the ticket row: concurrent assignments
    are serialised, and each leaves its audit row."""
    ticket = _lock(ticket_id)
    _require_staff(actor, ticket)
    _check_assignee(assignee, ticket.department)
    old = ticket.assignee
    if (old.pk if old else None) == (assignee.pk if assignee else None):
        return ticket
    _touch(ticket, assignee=assignee)
    _audit(
        ticket,
        "assignee",
        old.public_name if old else "",
        assignee.public_name if assignee else "",
        actor.user,
    )
    if assignee is not None and assignee.pk != actor.pk:
        _notify_new_ticket_on_commit(ticket)
    return ticket


@transaction.atomic
def ticket_change_queue(*, ticket_id: int, actor: Operator, department: Department) -> Ticket:
    """Move a ticket to another department's queue. An assignee who is not in the new
    department is unassigned (and the new department is notified)."""
    ticket = _lock(ticket_id)
    _require_staff(actor, ticket)
    if not department.is_active:
        raise InvalidInput(f"{department.name} is not taking tickets.")
    if department.pk == ticket.department_id:
        return ticket
    old_name = ticket.department.name
    _touch(ticket, department=department)
    _audit(ticket, "queue", old_name, department.name, actor.user)
    if ticket.assignee_id and not ticket.assignee.departments.filter(pk=department.pk).exists():
        _audit(ticket, "assignee", ticket.assignee.public_name, "", actor.user)
        _touch(ticket, assignee=None)
    _notify_new_ticket_on_commit(ticket)
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket_id: int, actor: Operator, status: str) -> Ticket:
    if status not in Ticket.Status.values:
        raise InvalidInput("Status must be open, pending or closed.")
    ticket = _lock(ticket_id)
    _require_staff(actor, ticket)
    if ticket.status == status:
        return ticket
    old = ticket.status
    closed_at = timezone.now() if status == Ticket.Status.CLOSED else None
    _touch(ticket, status=status, closed_at=closed_at)
    _audit(ticket, "status", old, status, actor.user)
    return ticket


# --- Email delivery bookkeeping (called by tickets.tasks) ----------------------------------


@transaction.atomic
def reply_mark_sent(*, message_id: int) -> None:
    TicketMessage.objects.filter(pk=message_id).update(
        email_status=TicketMessage.EmailStatus.SENT,
        email_sent_at=timezone.now(),
        email_last_error="",
    )


@transaction.atomic
def reply_record_failure(*, message_id: int, error: str, final: bool) -> None:
    """One failed attempt; ``final``: no retry is left, the reply is marked failed (and
    shown so on the ticket page), otherwise it stays queued for the next attempt."""
    message = TicketMessage.objects.select_for_update().get(pk=message_id)
    message.email_attempts += 1
    message.email_last_error = (error or "unknown error")[:500]
    if final:
        message.email_status = TicketMessage.EmailStatus.FAILED
    TicketMessage.objects.filter(pk=message_id).update(
        email_attempts=message.email_attempts,
        email_last_error=message.email_last_error,
        email_status=message.email_status,
    )


@transaction.atomic
def reply_retry(*, message_id: int, actor: Operator) -> TicketMessage:
    """Send a failed reply again (the Retry button on the ticket page)."""
    message = TicketMessage.objects.select_for_update().select_related("ticket").get(pk=message_id)
    _require_staff(actor, message.ticket)
    if message.kind != TicketMessage.Kind.REPLY:
        raise Forbidden("Only replies are emailed.")
    if message.email_status != TicketMessage.EmailStatus.FAILED:
        return message
    message.email_status = TicketMessage.EmailStatus.QUEUED
    TicketMessage.objects.filter(pk=message.pk).update(
        email_status=message.email_status, email_attempts=0
    )
    _send_reply_on_commit(message)
    return message


@transaction.atomic
def notification_record_failure(*, ticket_id: int, error: str) -> None:
    """The new-ticket notification could not be sent after every retry: say so in the
    ticket's history, where staff see it."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is not None:
        _audit(ticket, "notification", "", f"failed: {error}"[:200])


# Retention of closed tickets (its own module; a write path of this app like the others).
from tickets.retention import tickets_retention_apply  # noqa: E402, F401
