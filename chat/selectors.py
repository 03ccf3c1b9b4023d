"""Reads: what a page or a socket needs, in a fixed number of queries."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from chat import events
from chat.models import Chat, Department, Message, Operator, OperatorConnection, hash_token


def operator_for_user(user) -> Operator | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return None
    return Operator.objects.select_related("user").filter(user=user).first()


def department_ids_for(operator: Operator) -> list[int] | None:
    """The departments an operator works in; None means all (a superuser)."""
    if operator.user.is_superuser:
        return None
    return list(operator.departments.values_list("pk", flat=True))


def operator_can_see_chat(operator: Operator, chat: Chat) -> bool:
    if operator.user.is_superuser:
        return True
    return operator.departments.filter(pk=chat.department_id).exists()


def chat_for_token(token) -> Chat | None:
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        Chat.objects.select_related("department", "operator__user")
        .filter(patron_token_digest=hash_token(token))
        .first()
    )


def chat_for_staff(operator: Operator, public_id) -> Chat | None:
    """The chat with ``public_id`` if this operator may see it, else None (no hint of
    whether it exists)."""
    try:
        chat = Chat.objects.select_related("department", "operator__user").get(public_id=public_id)
    except (Chat.DoesNotExist, ValueError, TypeError, ValidationError):
        return None
    return chat if operator_can_see_chat(operator, chat) else None


def messages_after(chat: Chat, after_seq: int = 0, limit: int | None = None) -> list[Message]:
    limit = limit or settings.LIBDESK["HISTORY_PAGE"]
    rows = list(
        Message.objects.filter(chat=chat, seq__gt=after_seq)
        .select_related("operator__user")
        .order_by("seq")[:limit]
    )
    for row in rows:
        row.chat = chat
    return rows


def waiting_chat_ids(department_id: int) -> list[int]:
    """Waiting chats of a department in queue order (first come, first served)."""
    return list(
        Chat.objects.filter(department_id=department_id, status=Chat.Status.WAITING)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )


def queue_position(chat: Chat) -> int | None:
    if chat.status != Chat.Status.WAITING:
        return None
    ahead = Chat.objects.filter(
        department_id=chat.department_id, status=Chat.Status.WAITING
    ).filter(Q(created_at__lt=chat.created_at) | Q(created_at=chat.created_at, pk__lt=chat.pk))
    return ahead.count() + 1


def _first_patron_message():
    return Prefetch(
        "messages",
        queryset=Message.objects.filter(seq=1),
        to_attr="first_messages",
    )


def _summaries(chats) -> list[dict]:
    out = []
    for chat in chats:
        first = chat.first_messages[0].body if chat.first_messages else ""
        out.append(events.chat_summary(chat, preview=first))
    return out


def dashboard_chats(operator: Operator) -> dict:
    """Patron Chats for the dashboard: the waiting queue of the operator's departments,
    and the operator's own chats that are not closed. Three queries."""
    department_ids = department_ids_for(operator)
    base = Chat.objects.select_related("department", "operator__user").prefetch_related(
        _first_patron_message()
    )
    waiting = base.filter(status=Chat.Status.WAITING)
    if department_ids is not None:
        waiting = waiting.filter(department_id__in=department_ids)
    mine = base.filter(
        operator=operator, status__in=[Chat.Status.ACTIVE, Chat.Status.ENDED]
    ).order_by("claimed_at")
    return {
        "waiting": _summaries(waiting.order_by("created_at", "pk")),
        "mine": _summaries(mine),
    }


def _live_connection():
    stale_before = timezone.now() - timedelta(seconds=3 * settings.LIBDESK["HEARTBEAT_SECONDS"])
    return OperatorConnection.objects.filter(operator=OuterRef("pk"), last_seen__gte=stale_before)


def available_operators():
    """Operators who are Online with at least one live dashboard."""
    return Operator.objects.filter(status=Operator.Status.ONLINE).filter(Exists(_live_connection()))


def department_is_online(department: Department) -> bool:
    return available_operators().filter(departments=department).exists()


def departments_presence() -> list[dict]:
    """Every active department, online or not, with who is online in it. Two queries."""
    online = {}
    for operator in available_operators().select_related("user").prefetch_related("departments"):
        for department in operator.departments.all():
            online.setdefault(department.pk, []).append(operator.public_name)
    return [
        {
            "id": department.pk,
            "name": department.name,
            "slug": department.slug,
            "online": department.pk in online,
            "operators": sorted(online.get(department.pk, [])),
        }
        for department in Department.objects.filter(is_active=True).order_by("name")
    ]


def presence_payload(operator: Operator) -> dict:
    available = available_operators().filter(pk=operator.pk).exists()
    return {
        "operator": {
            "id": operator.pk,
            "name": operator.public_name,
            "status": operator.status,
            "available": available,
        },
        "departments": departments_presence(),
    }


# --- Canned messages ---------------------------------------------------------------------


def canned_for_operator(operator: Operator, *, chat: Chat | None = None) -> list:
    """The canned messages ``operator`` may use: every global one, those of their
    departments (and of ``chat``'s department, which they can see), and their own
    personal ones — never another department's or another operator's. One query.

    Ordered for the open chat: its department's first, then personal, then other
    departments', then global; by title within each."""
    from chat.models import CannedMessage, Membership

    Scope = CannedMessage.Scope
    member_of = Membership.objects.filter(operator=operator).values("department_id")
    department_q = Q(department_id__in=member_of)
    if chat is not None:
        department_q |= Q(department_id=chat.department_id)
    rows = list(
        CannedMessage.objects.filter(
            Q(scope=Scope.GLOBAL)
            | (Q(scope=Scope.DEPARTMENT) & department_q)
            | Q(scope=Scope.PERSONAL, operator=operator)
        ).select_related("department")
    )

    chat_department = chat.department_id if chat is not None else None

    def rank(row):
        if row.scope == Scope.DEPARTMENT and row.department_id == chat_department:
            group = 0
        else:
            group = {Scope.PERSONAL: 1, Scope.DEPARTMENT: 2, Scope.GLOBAL: 3}[row.scope]
        return (group, row.title.casefold(), row.pk)

    return sorted(rows, key=rank)


def canned_personal(operator: Operator) -> list:
    from chat.models import CannedMessage

    mine = CannedMessage.objects.filter(scope=CannedMessage.Scope.PERSONAL, operator=operator)
    return list(mine.order_by("title", "pk"))
