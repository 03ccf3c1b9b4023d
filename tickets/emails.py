"""Outbound ticket emails, built from templates: a plain-text and an HTML part each
(the HTML templates autoescape, so a patron's text stays text)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tickets.models import Ticket, TicketMessage


def reply_to_address(ticket: Ticket) -> str:
    return settings.TICKETS["REPLY_TO"].format(reference=ticket.reference)


def ticket_url(ticket: Ticket) -> str:
    return settings.LIBDESK_PUBLIC_URL + reverse("tickets:detail", args=[ticket.reference])


def _email(subject, template, context, to, *, reply_to=None, headers=None):
    text = render_to_string(f"tickets/email/{template}.txt", context)
    html = render_to_string(f"tickets/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # no header injection through line breaks
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=reply_to,
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    return message


def reply_email(message: TicketMessage) -> EmailMultiAlternatives:
    """A staff reply to the patron: ``[LD-000123] subject``, Reply-To routing back."""
    ticket = message.ticket
    earlier = [
        m.email_message_id
        for m in ticket.messages.exclude(pk=message.pk).exclude(email_message_id="").order_by("pk")
    ]
    headers = {"Message-ID": message.email_message_id, "Auto-Submitted": "no"}
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier[-10:])
    context = {
        "ticket": ticket,
        "message": message,
        "library_name": settings.LIBRARY_NAME,
        "department": ticket.department.name,
    }
    # In the patron's language (the chat's, or the widget's for the offline form).
    with translation.override(ticket.language or settings.LANGUAGE_CODE):
        return _email(
            f"[{ticket.reference}] {ticket.subject}",  # i18n: not user-facing (their words)
            "reply",
            context,
            [ticket.patron_email],
            reply_to=[reply_to_address(ticket)],
            headers=headers,
        )


def new_ticket_email(
    ticket: Ticket, recipients: list[str], language: str = ""
) -> EmailMultiAlternatives:
    """To the assignee or the department's operators: a new ticket is in their queue.
    Written in ``language`` (the recipients' chosen one; empty: the library's default):
    staff read their mail in the language they read the desk in."""
    context = {"ticket": ticket, "url": ticket_url(ticket), "library_name": settings.LIBRARY_NAME}
    with translation.override(language or settings.LANGUAGE_CODE):
        return _email(
            _("[%(reference)s] New ticket for %(department)s: %(subject)s")
            % {
                "reference": ticket.reference,
                "department": ticket.department.name,
                "subject": ticket.subject,
            },
            "new_ticket",
            context,
            recipients,
        )
