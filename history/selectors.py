"""Chat History's reads: the search page, a transcript, a patron's earlier contacts.

Each answers in a fixed number of queries, whatever the number of results (guarded by
tests/history/test_page_queries.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from analytics.models import Interaction
from chat.models import Chat, ChatAudit, Department, Message, Operator
from history import search
from tickets.models import Ticket
from tickets.selectors import visible_tickets

PAGE_SIZE = 25


def sees_every_department(user) -> bool:
    """Superusers and the Desk admin group read every department's history."""
    return user.is_superuser or user.has_perm("chat.change_department")


def visible_chats(operator: Operator):
    """The chats this operator may read in Chat History: their departments' and the
    ones they answered themselves (a chat they transferred away stays theirs to read);
    every chat for superusers and Desk admins."""
    chats = Chat.objects.all()
    if sees_every_department(operator.user):
        return chats
    return chats.filter(
        Q(department__in=operator.departments.values("pk")) | Q(operator=operator)
    )


def visible_departments(operator: Operator):
    if sees_every_department(operator.user):
        return Department.objects.all()
    return operator.departments.all()


def visible_operators(operator: Operator):
    """Whom the Operator filter offers: colleagues of the operator's departments."""
    operators = Operator.objects.select_related("user")
    if sees_every_department(operator.user):
        return operators
    return operators.filter(departments__in=operator.departments.values("pk")).distinct()


@dataclass
class HistoryFilters:
    words: str = ""
    patron: str = ""
    date_from: date | None = None
    date_to: date | None = None
    department: Department | None = None
    operator: Operator | None = None
    status: str = ""
    has_ticket: str = ""  # "", "yes", "no"
    has_entry: str = ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _matching_messages(words: str):
    match = search.message_matches(words)
    return None if match is None else Message.objects.filter(match)


def filtered_chats(operator: Operator, filters: HistoryFilters):
    """The chats that pass ``filters`` among those the operator may read, newest first.
    Words match a message of the chat (all the words, in one message)."""
    chats = visible_chats(operator)
    matching = _matching_messages(filters.words)
    if matching is not None:
        chats = chats.filter(pk__in=matching.values("chat_id"))
    if filters.patron.strip():
        patron = filters.patron.strip()
        chats = chats.filter(Q(patron_name__icontains=patron) | Q(patron_email__icontains=patron))
    if filters.date_from:
        chats = chats.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        chats = chats.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.department:
        chats = chats.filter(department=filters.department)
    if filters.operator:
        chats = chats.filter(operator=filters.operator)
    if filters.status:
        chats = chats.filter(status=filters.status)
    has_ticket = Exists(Ticket.objects.filter(chat=OuterRef("pk")))
    has_entry = Exists(Interaction.objects.filter(chat=OuterRef("pk")))
    if filters.has_ticket in ("yes", "no"):
        chats = chats.filter(has_ticket if filters.has_ticket == "yes" else ~has_ticket)
    if filters.has_entry in ("yes", "no"):
        chats = chats.filter(has_entry if filters.has_entry == "yes" else ~has_entry)
    return chats.order_by("-created_at", "-pk")


def _snippet_source(words: str):
    """The body of the message a result row shows: the first one holding the words, or
    the patron's first message."""
    messages = Message.objects.filter(chat=OuterRef("pk"))
    matching = search.message_matches(words)
    if matching is not None:
        messages = messages.filter(matching)
    else:
        messages = messages.filter(sender=Message.Sender.PATRON)
    return Subquery(messages.order_by("seq").values("body")[:1])


def history_page(operator: Operator, filters: HistoryFilters, page_number=1):
    """One page of results: a Paginator page whose objects are chats with
    ``snippet_body``, ``has_ticket`` and ``has_entry``. Two queries (the count and the
    page), whatever the filters and the page's length."""
    chats = (
        filtered_chats(operator, filters)
        .select_related("department", "operator__user")
        .annotate(
            snippet_body=_snippet_source(filters.words),
            has_ticket=Exists(Ticket.objects.filter(chat=OuterRef("pk"))),
            has_entry=Exists(Interaction.objects.filter(chat=OuterRef("pk"))),
        )
    )
    page = Paginator(chats, PAGE_SIZE).get_page(page_number)
    for chat in page.object_list:
        chat.snippet = search.highlight(chat.snippet_body or "", filters.words)
    return page


def chat_for_history(operator: Operator, public_id) -> Chat | None:
    """One chat to read, with everything its page shows: messages (and their files),
    audit trail, tickets, Reference Analytics entry. None if the operator may not read
    it (no hint of whether it exists)."""
    return (
        visible_chats(operator)
        .select_related("department", "operator__user", "interaction")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=Message.objects.select_related("operator__user", "attachment").order_by(
                    "seq"
                ),
            ),
            Prefetch(
                "audit",
                queryset=ChatAudit.objects.select_related(
                    "actor", "from_operator__user", "to_operator__user", "to_department"
                ),
            ),
            Prefetch("tickets", queryset=Ticket.objects.select_related("department")),
        )
        .filter(public_id=public_id)
        .first()
    )


def patron_contacts(operator: Operator, chat: Chat, limit: int = 50) -> dict:
    """The patron's earlier chats and tickets: the same email address (case aside), not
    scrubbed, that the operator may read; nothing when the chat has no email. Two
    queries."""
    email = chat.patron_email.strip()
    if not email:
        return {"email": "", "chats": [], "tickets": []}
    chats = list(
        visible_chats(operator)
        .filter(patron_email__iexact=email, patron_scrubbed_at__isnull=True)
        .exclude(pk=chat.pk)
        .select_related("department", "operator__user")
        .order_by("-created_at")[:limit]
    )
    # The tickets the operator may open (tickets' own rule), so every link works.
    tickets = visible_tickets(operator).filter(patron_email__iexact=email)
    tickets = tickets.select_related("department")
    return {
        "email": email,
        "chats": chats,
        "tickets": list(tickets.order_by("-created_at")[:limit]),
    }
