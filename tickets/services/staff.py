"""Staff work on a ticket (reply, note, assign, queue, status) and the email delivery
bookkeeping the Celery tasks call."""

from email.utils import make_msgid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from chat.exceptions import Forbidden, InvalidInput
from chat.models import Department, Operator
from tickets.exceptions import NoPatronEmail
from tickets.models import Ticket, TicketMessage
from tickets.services._common import (
    _audit,
    _check_assignee,
    _clean_text,
    _lock,
    _notify_new_ticket_on_commit,
    _require_staff,
    _send_reply_on_commit,
    _setting,
    _touch,
)

# --- Staff work on a ticket ---------------------------------------------------------------


@transaction.atomic
def ticket_reply(*, ticket_id: int, actor: Operator, body: str) -> TicketMessage:
    """A staff reply, emailed to the patron (queued on commit; retried; its status is
    kept on the message)."""
    body = _clean_text(body, what=pgettext_lazy("form field", "reply"))
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
    body = _clean_text(body, what=pgettext_lazy("form field", "note"))
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
        raise InvalidInput(
            _("%(department)s is not taking tickets.") % {"department": department.name}
        )
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
        raise InvalidInput(_("Status must be open, pending or closed."))
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
        raise Forbidden(_("Only replies are emailed."))
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
