"""Chat History's reads: the search page, a transcript, a patron's earlier contacts.

Each answers in a fixed number of queries, whatever the number of results (guarded by
tests/history/test_page_queries.py).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from analytics.models import Interaction
from chat.models import Chat, ChatAudit, Department, Message, Operator
from history import search
from tickets.models import Ticket
from tickets.selectors import visible_tickets

PAGE_SIZE = 25
# A word in more messages than this is "broad": its chats are found newest first and
# tested one by one (a few dozen reach a page), and not counted (counting tens of
# thousands costs more than the page). Fewer: the matching messages' chats are listed
# first and counted exactly. See benchmarks/history_search.py.
BROAD_MESSAGES = 5000


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
    return chats.filter(Q(department__in=operator.departments.values("pk")) | Q(operator=operator))


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


def words_are_broad(words: str) -> bool:
    """Whether the words are in more than BROAD_MESSAGES messages: one query, stopped
    at that many."""
    match = search.message_matches(words)
    if match is None:
        return False
    # order_by(): no ORDER BY (Message's own ordering would join every chat to sort).
    probe = Message.objects.filter(match).order_by().values("pk")[:BROAD_MESSAGES]
    return probe.count() >= BROAD_MESSAGES


def filtered_chats(operator: Operator, filters: HistoryFilters, *, broad: bool = False):
    """The chats that pass ``filters`` among those the operator may read, newest first.
    Words match a message of the chat (all the words, in one message); ``broad``
    (words_are_broad) chooses how: each chat tested, newest first, or the matching
    messages' chats looked up."""
    chats = visible_chats(operator)
    match = search.message_matches(filters.words)
    if match is not None and broad:
        chats = chats.filter(Exists(Message.objects.filter(match, chat=OuterRef("pk")).order_by()))
    elif match is not None:
        matching = Message.objects.filter(match).order_by().values("chat_id")
        chats = chats.filter(search.id_in("pk", matching))
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


@dataclass
class ResultsPage:
    """A page of results. ``count`` is None when the words are too common to count
    (then ``num_pages`` is None too, and ``has_next`` says whether more follow)."""

    object_list: list
    number: int
    count: int | None
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def num_pages(self) -> int | None:
        return None if self.count is None else max(1, -(-self.count // PAGE_SIZE))

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def _page_number(value) -> int:
    try:
        return max(1, min(int(value), 10_000))
    except (TypeError, ValueError):
        return 1


def history_page(operator: Operator, filters: HistoryFilters, page_number=1) -> ResultsPage:
    """One page of results: chats with ``snippet`` (marked, escaped), ``has_ticket`` and
    ``has_entry``. At most three queries whatever the filters and the number of results:
    how common the words are (with words), the count (unless they are broad), the page."""
    broad = words_are_broad(filters.words) if filters.words else False
    chats = (
        filtered_chats(operator, filters, broad=broad)
        .select_related("department", "operator__user")
        .annotate(
            snippet_body=_snippet_source(filters.words),
            has_ticket=Exists(Ticket.objects.filter(chat=OuterRef("pk"))),
            has_entry=Exists(Interaction.objects.filter(chat=OuterRef("pk"))),
        )
    )
    count = None if broad else chats.count()
    number = _page_number(page_number)
    if count is not None:
        number = min(number, max(1, -(-count // PAGE_SIZE)))
    start = (number - 1) * PAGE_SIZE
    rows = list(chats[start : start + PAGE_SIZE + 1])  # one more: is there a next page?
    for chat in rows:
        chat.snippet = search.highlight(chat.snippet_body or "", filters.words)
    return ResultsPage(
        object_list=rows[:PAGE_SIZE], number=number, count=count, has_next=len(rows) > PAGE_SIZE
    )


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
