"""Helpers shared by the ticket services: cleaning input, the ticket row lock, audit
rows, and queuing emails on commit."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors as chat_selectors
from chat.exceptions import InvalidInput, NotFound
from chat.models import Chat, Department, Message, Operator
from chat.services import attachments as chat_attachments
from chat.text import check_length, check_text
from tickets import selectors
from tickets.models import Ticket, TicketChange, TicketMessage

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200


def _setting(name):
    return settings.TICKETS[name]


def _clean_text(value, *, what="text", required=True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("The %(field)s must be text.") % {"field": what})
    value = check_text(value, what).strip()
    if required and not value:
        raise InvalidInput(_("Please write the %(field)s.") % {"field": what}, code="empty")
    limit = settings.LIBDESK["MAX_MESSAGE_LENGTH"]
    if len(value) > limit:
        raise InvalidInput(
            _("The %(field)s is too long (%(length)s characters; the limit is %(limit)s).")
            % {"field": what, "length": len(value), "limit": limit},
            code="too_long",
        )
    return value


def _clean_email(value, *, required=True) -> str:
    value = check_length((value or "").strip(), "email", 254) if isinstance(value, str) else ""
    if not value:
        if required:
            raise InvalidInput(_("Please give your email address."), code="bad_email")
        return ""
    try:
        EmailValidator()(value)
    except ValidationError:
        raise InvalidInput(_("That email address does not look right."), code="bad_email") from None
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
        raise NotFound(_("No such ticket.")) from None


def _require_staff(actor: Operator, ticket: Ticket) -> None:
    if not selectors.operator_can_see_ticket(actor, ticket):
        raise NotFound(_("No such ticket."))


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
