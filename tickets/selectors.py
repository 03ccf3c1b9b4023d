"""Reads of the ticket desk, each in a fixed number of queries."""

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q

from chat.models import Department, Operator
from chat.selectors import department_ids_for
from tickets.models import Ticket, TicketAttachment, TicketChange, TicketMessage, parse_reference

PAGE_SIZE = 50


def visible_tickets(operator: Operator):
    """Tickets of the operator's departments (a superuser's: all)."""
    tickets = Ticket.objects.all()
    department_ids = department_ids_for(operator)
    if department_ids is not None:
        tickets = tickets.filter(department_id__in=department_ids)
    return tickets


def operator_can_see_ticket(operator: Operator, ticket: Ticket) -> bool:
    if operator.user.is_superuser:
        return True
    return operator.departments.filter(pk=ticket.department_id).exists()


def ticket_list(
    operator: Operator,
    *,
    view: str = "",
    department_id: int | None = None,
    status: str = "",
    q: str = "",
    page: int | str = 1,
):
    """The ticket desk's list: a Paginator page. Two queries (count, page) whatever
    the number of tickets."""
    tickets = visible_tickets(operator).select_related("department", "assignee__user")
    if view == "mine":
        tickets = tickets.filter(assignee=operator)
    elif view == "unassigned":
        tickets = tickets.filter(assignee__isnull=True)
    if department_id:
        tickets = tickets.filter(department_id=department_id)
    if status in Ticket.Status.values:
        tickets = tickets.filter(status=status)
    q = (q or "").strip()
    if q:
        match = Q(subject__icontains=q) | Q(patron_name__icontains=q) | Q(patron_email__icontains=q)
        match |= Q(question__icontains=q)
        ticket_id = parse_reference(q)
        # ASCII digits only: str.isdigit() is also true of "⁰⁴⁵" and "₀₁₂", which int()
        # refuses; and at most 18 of them, so the id fits the database's bigint.
        if ticket_id is None and q.isascii() and q.isdigit() and len(q) <= 18:
            ticket_id = int(q)
        if ticket_id is not None:
            match |= Q(pk=ticket_id)
        tickets = tickets.filter(match)
    paginator = Paginator(tickets.order_by("-updated_at", "-pk"), PAGE_SIZE)
    return paginator.get_page(page)


def ticket_for_staff(operator: Operator, ticket_id: int) -> Ticket | None:
    """The ticket with its thread, attachments and history, if this operator may see it
    (None otherwise: no hint of whether it exists). Four queries."""
    messages = TicketMessage.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=TicketAttachment.objects.order_by("pk"))
    )
    return (
        visible_tickets(operator)
        .select_related("department", "assignee__user", "created_by", "chat")
        .prefetch_related(
            Prefetch("messages", queryset=messages),
            Prefetch("changes", queryset=TicketChange.objects.select_related("actor")),
        )
        .filter(pk=ticket_id)
        .first()
    )


def attachment_for_staff(operator: Operator, attachment_id: int) -> TicketAttachment | None:
    attachment = (
        TicketAttachment.objects.select_related("message__ticket").filter(pk=attachment_id).first()
    )
    if attachment is None or not operator_can_see_ticket(operator, attachment.message.ticket):
        return None
    return attachment


def original_for_staff(operator: Operator, message_id: int) -> TicketMessage | None:
    """A patron's email with its original (raw RFC 822), if the operator sees its ticket."""
    message = TicketMessage.objects.select_related("ticket").filter(pk=message_id).first()
    if message is None or not operator_can_see_ticket(operator, message.ticket):
        return None
    return message


def ticket_message_stored(message_id: str) -> bool:
    """Was a patron's email with this Message-ID stored already?"""
    return TicketMessage.objects.filter(
        kind=TicketMessage.Kind.PATRON, email_message_id=message_id
    ).exists()


def open_assigned_count(operator: Operator) -> int:
    return Ticket.objects.filter(assignee=operator).exclude(status=Ticket.Status.CLOSED).count()


def queues() -> list[dict]:
    """Every active department (a ticket can go to any queue) with its operators, for
    the Create Ticket form. Two queries."""
    operators = Operator.objects.select_related("user").order_by("display_name", "user__first_name")
    departments = Department.objects.filter(is_active=True).prefetch_related(
        Prefetch("operators", queryset=operators)
    )
    return [
        {
            "id": department.pk,
            "name": department.name,
            "slug": department.slug,
            "operators": [
                {"id": op.pk, "name": op.user.get_full_name() or op.public_name}
                for op in department.operators.all()
            ],
        }
        for department in departments.order_by("name")
    ]


def department_operators(department_id: int):
    return Operator.objects.filter(departments=department_id).select_related("user")


def staff_departments(operator: Operator):
    """Departments for the list's filter: the operator's own (a superuser's: all)."""
    department_ids = department_ids_for(operator)
    departments = Department.objects.order_by("name")
    if department_ids is not None:
        departments = departments.filter(pk__in=department_ids)
    return departments


def email_needed_for_chat(chat_id: int) -> dict | None:
    """The newest ticket made from this chat that still has no patron email, as
    ``{"ticket": reference, "department": name}``, or None."""
    ticket = (
        Ticket.objects.filter(chat_id=chat_id, patron_email="")
        .exclude(status=Ticket.Status.CLOSED)
        .select_related("department")
        .order_by("-pk")
        .first()
    )
    if ticket is None:
        return None
    return {"ticket": ticket.reference, "department": ticket.department.name}


def status_counts(operator: Operator) -> dict:
    rows = visible_tickets(operator).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}
