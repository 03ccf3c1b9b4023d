"""Celery tasks: take ids, load, send, record; queued on commit by tickets.services.

A failed send is retried with exponential backoff; after the last retry the reply is
marked failed (shown on the ticket page, with a Retry button) — never dropped.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from chat.models import Operator
from tickets import emails, services
from tickets.models import Ticket, TicketMessage

logger = logging.getLogger(__name__)


def _backoff(retries: int) -> int:
    return min(3600, 30 * 2**retries)


def _retry(task, error, kwargs=None):
    """Retry with backoff (with ``kwargs`` for the task's keyword arguments, when
    given). Run eagerly (the embedded demo, tests), Celery's ``apply`` runs the retry at
    once when the task *returns* the Retry; a worker needs it raised."""
    countdown = _backoff(task.request.retries)
    if task.request.is_eager:
        return task.retry(exc=error, countdown=countdown, throw=False, kwargs=kwargs)
    raise task.retry(exc=error, countdown=countdown, kwargs=kwargs)


def _max_retries() -> int:
    return settings.TICKETS["EMAIL_MAX_RETRIES"]


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_reply(self, message_id: int):
    """Email one staff reply to its patron."""
    message = (
        TicketMessage.objects.select_related("ticket__department", "author")
        .filter(pk=message_id, kind=TicketMessage.Kind.REPLY)
        .first()
    )
    if message is None or message.email_status == TicketMessage.EmailStatus.SENT:
        return "skipped"
    try:
        emails.reply_email(message).send(fail_silently=False)
    except Exception as error:  # any transport failure: record it, then retry or give up
        final = self.request.retries >= _max_retries()
        services.reply_record_failure(
            message_id=message_id, error=f"{type(error).__name__}: {error}", final=final
        )
        if final:
            logger.warning("Reply %s failed for good: %s", message_id, error)
            return "failed"
        return _retry(self, error)
    services.reply_mark_sent(message_id=message_id)
    return "sent"


def _notification_recipients(ticket: Ticket) -> dict[str, list[str]]:
    """Who hears of the ticket, by the language each chose (Operator.language; "" is the
    library's default): the assignee, or else the department's operators."""
    if ticket.assignee_id and ticket.assignee.user.email and ticket.assignee.user.is_active:
        operators = [ticket.assignee]
    else:
        operators = (
            Operator.objects.filter(departments=ticket.department_id, user__is_active=True)
            .exclude(user__email="")
            .select_related("user")
        )
    by_language: dict[str, set[str]] = {}
    for operator in operators:
        language = operator.language or settings.LANGUAGE_CODE
        by_language.setdefault(language, set()).add(operator.user.email)
    return {language: sorted(emails) for language, emails in sorted(by_language.items())}


@shared_task(bind=True, acks_late=True, max_retries=None)
def notify_new_ticket(self, ticket_id: int, sent_languages: list[str] | None = None):
    """Tell the assignee, or else the department's operators, about a ticket: one
    message per language the recipients read. A retry sends only the languages whose
    message has not gone out yet (``sent_languages``), so nobody gets it twice."""
    ticket = (
        Ticket.objects.select_related("department", "assignee__user").filter(pk=ticket_id).first()
    )
    if ticket is None:
        return "skipped"
    recipients = _notification_recipients(ticket)
    if not recipients:
        return "nobody"
    sent = list(sent_languages or [])
    for language, emails_to in recipients.items():
        if language in sent:
            continue
        try:
            emails.new_ticket_email(ticket, emails_to, language).send(fail_silently=False)
        except Exception as error:
            if self.request.retries >= _max_retries():
                services.notification_record_failure(
                    ticket_id=ticket_id, error=f"{type(error).__name__}: {error}"
                )
                return "failed"
            return _retry(self, error, kwargs={"sent_languages": sent})
        sent.append(language)
    return "sent"


@shared_task
def requeue_stale_replies(older_than_seconds: int = 900):
    """Replies still 'queued' long after they were written (the broker was down when
    they were queued): queue them again. Safe to run often (e.g. from celery beat)."""
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = TicketMessage.objects.filter(
        kind=TicketMessage.Kind.REPLY,
        email_status=TicketMessage.EmailStatus.QUEUED,
        created_at__lt=cutoff,
    ).values_list("pk", flat=True)
    count = 0
    for message_id in stale:
        send_reply.delay(message_id)
        count += 1
    return count


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def apply_ticket_retention(self) -> dict:
    """Hourly (CELERY_BEAT_SCHEDULE): retention of closed tickets; returns (and logs)
    what it did."""
    report = services.tickets_retention_apply()
    logger.info("ticket retention applied: %s", report)
    return report
