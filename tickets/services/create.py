"""Creating tickets: from a chat, from the widget's offline form; the patron's email."""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from chat import blocks as chat_blocks
from chat import events as chat_events
from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.exceptions import InvalidInput, NotFound
from chat.models import Chat, Department, Operator
from chat.text import check_length, check_text
from libdesk.i18n import supported_language
from tickets.exceptions import RateLimited
from tickets.models import Ticket, TicketMessage
from tickets.services._common import (
    SUBJECT_MAX,
    _audit,
    _check_assignee,
    _clean_email,
    _clean_text,
    _notify_new_ticket_on_commit,
    _setting,
    _subject_from,
    _touch,
    _transcript_text,
)

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
        raise InvalidInput(
            _("%(department)s is not taking tickets.") % {"department": department.name}
        )
    _check_assignee(assignee, department)
    notes = _clean_text(notes, what=pgettext_lazy("form field", "notes"), required=False)
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
        language=chat.language or settings.LANGUAGE_CODE,
    )
    TicketMessage.objects.create(
        ticket=ticket, kind=TicketMessage.Kind.PATRON, body=question, from_address=chat.patron_email
    )
    if notes:
        TicketMessage.objects.create(
            ticket=ticket, kind=TicketMessage.Kind.NOTE, author=actor.user, body=notes
        )
    _audit(ticket, "created", "", f"from chat, queue {department.name}", actor.user)
    params = {"reference": ticket.reference, "department": department.name}
    if chat.patron_email:
        body = gettext_lazy(
            "A ticket (%(reference)s) was created for %(department)s. "
            "They will follow up with you by email."
        )
    else:
        body = gettext_lazy(
            "A ticket (%(reference)s) was created for %(department)s. "
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
    chat_services.chat_post_system_message(chat_id=chat.pk, body=body, params=params)
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
    *,
    department: Department,
    name: str,
    email: str,
    question: str,
    remote_addr: str = "",
    language: str = "",
) -> Ticket:
    """The widget's offline question form. At most ``OFFLINE_FORM_LIMIT`` tickets per
    window from one email address or one IP address (RateLimited otherwise); none from
    an address an operator blocked (``chat.blocks.Blocked``, a neutral message)."""
    if not department.is_active:
        raise InvalidInput(
            _("%(department)s is not taking questions.") % {"department": department.name}
        )
    chat_blocks.refuse_if_blocked(chat_blocks.address_digest(remote_addr))
    name = (name or "").strip() if isinstance(name, str) else ""
    name = check_length(check_text(name, "name"), "name", 80)
    email = _clean_email(email)
    question = _clean_text(question, what=pgettext_lazy("form field", "question"))
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
        language=supported_language(language) or settings.LANGUAGE_CODE,
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
            body=gettext_lazy(
                "Thank you. %(departments)s will follow up with you by email (%(references)s)."
            ),
            params={"departments": names, "references": references},
        )
    return tickets
