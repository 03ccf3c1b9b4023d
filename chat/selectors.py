"""Reads: what a page or a socket needs, in a fixed number of queries."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from chat import events
from chat.models import (
    Chat,
    Department,
    Membership,
    Message,
    Operator,
    OperatorConnection,
    hash_token,
)


def operator_for_user(user) -> Operator | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return None
    return Operator.objects.select_related("user").filter(user=user).first()


def administered_department_ids(user) -> frozenset[int]:
    """The departments ``user`` runs as a Department admin (their membership's role):
    theirs to configure, with their canned messages and chats, in /admin/."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return frozenset()
    return frozenset(
        Membership.objects.filter(operator__user=user, role=Membership.Role.ADMIN).values_list(
            "department_id", flat=True
        )
    )


def department_ids_for(operator: Operator) -> list[int] | None:
    """The departments an operator works in; None means all (a superuser)."""
    if operator.user.is_superuser:
        return None
    return list(operator.departments.values_list("pk", flat=True))


def operator_can_see_chat(operator: Operator, chat: Chat) -> bool:
    """Superusers see every chat; an operator the chats of their departments, the chat
    they have, chats they transferred away (read-only) and chats offered to them or to
    one of their departments (to read before Claim Chat)."""
    if operator.user.is_superuser or chat.operator_id == operator.pk:
        return True
    if operator.departments.filter(pk=chat.department_id).exists():
        return True
    from chat.models import Transfer

    return (
        Transfer.objects.filter(chat=chat)
        .filter(
            Q(from_operator=operator)
            | Q(to_operator=operator)
            | Q(to_department__in=operator.departments.all())
        )
        .exists()
    )


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
        .select_related("operator__user", "attachment")
        .order_by("seq")[:limit]
    )
    for row in rows:
        row.chat = chat
    return rows


def last_seqs(chat_pks) -> dict[str, int]:
    """{public id: last seq} of the chats ``chat_pks``. One query (none for no chats)."""
    if not chat_pks:
        return {}
    rows = Chat.objects.filter(pk__in=chat_pks).values_list("public_id", "last_seq")
    return {str(public_id): last_seq for public_id, last_seq in rows}


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


_LOOK_UP = object()


def dashboard_chats(operator: Operator, department_ids=_LOOK_UP) -> dict:
    """Patron Chats for the dashboard: the waiting queue of the operator's departments
    (``department_ids``, None for every one; looked up when not given), and the
    operator's own chats that are not closed, with their pks by public id. One query
    and its prefetch."""
    if department_ids is _LOOK_UP:
        department_ids = department_ids_for(operator)
    if department_ids is None:
        waiting_q = Q(status=Chat.Status.WAITING)
    else:
        waiting_q = Q(status=Chat.Status.WAITING, department_id__in=department_ids)
    mine_q = Q(operator=operator, status__in=[Chat.Status.ACTIVE, Chat.Status.ENDED])
    rows = list(
        Chat.objects.select_related("department", "operator__user")
        .prefetch_related(_first_patron_message())
        .filter(waiting_q | mine_q)
    )
    waiting = [c for c in rows if c.status == Chat.Status.WAITING]
    waiting.sort(key=lambda c: (c.created_at, c.pk))  # queue order
    mine = [c for c in rows if c.status != Chat.Status.WAITING]
    mine.sort(key=lambda c: (c.claimed_at, c.pk))
    return {
        "waiting": _summaries(waiting),
        "mine": _summaries(mine),
        "mine_pks": {str(c.public_id): c.pk for c in mine},
    }


def dashboard_snapshot(operator: Operator) -> dict:
    """What ``dashboard.state`` needs before the socket joins its groups, each read
    once: the operator's departments (every one for a superuser: the groups to join),
    the waiting queue and the operator's chats (with the pks of theirs), whether the
    operator is available, and every department's presence. Six queries, whatever the
    data (seven for a superuser). The rest of the frame: ``dashboard_extras``."""
    department_ids = department_ids_for(operator)
    chats = dashboard_chats(operator, department_ids)
    departments, available_ids = _departments_presence()
    if department_ids is None:
        department_ids = list(Department.objects.values_list("pk", flat=True))
    return {
        "department_ids": department_ids,
        "mine_pks": chats["mine_pks"],
        "operator": _operator_payload(operator, operator.pk in available_ids),
        "departments": departments,
        "waiting": chats["waiting"],
        "mine": chats["mine"],
    }


def dashboard_extras(operator: Operator, department_ids: list[int]) -> dict:
    """The open internal chats and transfer offers of ``dashboard.state``, for an
    operator of ``department_ids`` (from ``dashboard_snapshot``). Three queries."""
    visible = None if operator.user.is_superuser else department_ids
    return {
        "internal": _internal_rows(operator, visible),
        "transfers": _transfer_rows(operator, visible),
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
    """Every active department, online or not, with who is online in it. Three queries."""
    return _departments_presence()[0]


def _departments_presence() -> tuple[list[dict], set[int]]:
    """``departments_presence()`` and the ids of every available operator."""
    online, available_ids = {}, set()
    for operator in available_operators().select_related("user").prefetch_related("departments"):
        available_ids.add(operator.pk)
        for department in operator.departments.all():
            online.setdefault(department.pk, []).append(
                {"id": operator.pk, "name": operator.public_name}
            )
    for members in online.values():
        members.sort(key=lambda member: (member["name"], member["id"]))
    departments = [
        {
            "id": department.pk,
            "name": department.name,
            "slug": department.slug,
            "online": department.pk in online,
            "operators": [member["name"] for member in online.get(department.pk, [])],
            # The same people with their ids: the dashboard starts internal chats with them.
            "online_operators": online.get(department.pk, []),
        }
        for department in Department.objects.filter(is_active=True).order_by("name")
    ]
    return departments, available_ids


def _operator_payload(operator: Operator, available: bool) -> dict:
    return {
        "id": operator.pk,
        "name": operator.public_name,
        "status": operator.status,
        "available": available,
    }


def presence_payload(operator_pk: int) -> dict:
    """One operator's presence as stored now (status, and available: Online with a live
    dashboard), and every department's. Four queries."""
    operator = Operator.objects.select_related("user").get(pk=operator_pk)
    departments, available_ids = _departments_presence()
    return {
        "operator": _operator_payload(operator, operator.pk in available_ids),
        "departments": departments,
    }


# --- Canned messages ---------------------------------------------------------------------


def canned_for_operator(operator: Operator, *, chat: Chat | None = None) -> list:
    """The canned messages ``operator`` may use: every global one, those of their
    departments (and of ``chat``'s department, which they can see), and their own
    personal ones — never another department's or another operator's. One query.

    Ordered for the open chat: those in the chat's language first, then those for any
    language, then the others; within each, its department's first, then personal, then
    other departments', then global; by title within each."""
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
    chat_language = chat.language if chat is not None else ""

    def rank(row):
        if row.scope == Scope.DEPARTMENT and row.department_id == chat_department:
            group = 0
        else:
            group = {Scope.PERSONAL: 1, Scope.DEPARTMENT: 2, Scope.GLOBAL: 3}[row.scope]
        if not chat_language:
            language = 0
        else:
            language = 0 if row.language == chat_language else 1 if not row.language else 2
        return (language, group, row.title.casefold(), row.pk)

    return sorted(rows, key=rank)


def canned_personal(operator: Operator) -> list:
    from chat.models import CannedMessage

    mine = CannedMessage.objects.filter(scope=CannedMessage.Scope.PERSONAL, operator=operator)
    return list(mine.order_by("title", "pk"))


# --- Routing a new chat (issue 4): a department, or its fallback when it is offline ----


def answering_department(department: Department, online_ids: set[int] | None = None):
    """The department that will answer a new chat asked of ``department``: itself when
    online, else the first online department along its fallback chain, else None."""
    if online_ids is None:
        online_ids = set(available_operators().values_list("departments", flat=True).distinct())
    seen = set()
    current = department
    while current is not None and current.pk not in seen and len(seen) < 10:
        seen.add(current.pk)
        if current.is_active and current.pk in online_ids:
            return current
        current = current.fallback
    return None


def departments_routing() -> list[dict]:
    """For the widget of every active department: is it online, and which department
    answers a new chat (itself, a fallback, or none). Two queries."""
    online_ids = set(available_operators().values_list("departments", flat=True).distinct())
    departments = {d.pk: d for d in Department.objects.all()}
    for department in departments.values():
        department.fallback = departments.get(department.fallback_id)
    out = []
    for department in departments.values():
        if not department.is_active:
            continue
        out.append(department_routing(department, online_ids))
    return out


def department_routing(department: Department, online_ids: set[int] | None = None) -> dict:
    answering = answering_department(department, online_ids)
    return {
        "id": department.pk,
        "department": department.slug,
        "online": answering is not None and answering.pk == department.pk,
        "answering": {"name": answering.name, "slug": answering.slug} if answering else None,
    }


# --- Internal chat and transfers (issue 4) -----------------------------------------------


def _internal_base():
    from chat.models import InternalChat

    return InternalChat.objects.select_related(
        "created_by__user",
        "to_operator__user",
        "to_department",
        "answered_by__user",
        "about_chat__department",
    )


def operator_can_see_internal(operator: Operator, internal) -> bool:
    """Its starter, its receiver, and every operator of the department it was sent to
    (a superuser counts as one of every department, as for the Patron Chats queue)."""
    if operator.pk in (internal.created_by_id, internal.to_operator_id, internal.answered_by_id):
        return True
    if internal.to_department_id is None:
        return False
    return (
        operator.user.is_superuser
        or operator.departments.filter(pk=internal.to_department_id).exists()
    )


def internal_for_staff(operator: Operator, public_id):
    """The internal chat with ``public_id`` if ``operator`` may see it, else None."""
    try:
        internal = _internal_base().get(public_id=public_id)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        return None
    return internal if operator_can_see_internal(operator, internal) else None


def dashboard_internal(operator: Operator) -> list[dict]:
    """The Internal Chat section: open internal chats I started, that were sent to me,
    or to one of my departments (with who answered them). Two queries."""
    return _internal_rows(operator, department_ids_for(operator))


def _internal_in(operator: Operator) -> Q:
    """The internal chats ``operator`` is one of the two colleagues of."""
    return Q(created_by=operator) | Q(to_operator=operator) | Q(answered_by=operator)


def _internal_visible(operator: Operator, department_ids: list[int] | None) -> Q:
    visible = _internal_in(operator)
    if department_ids is None:
        visible |= Q(to_department__isnull=False)
    else:
        visible |= Q(to_department_id__in=department_ids)
    return visible


def _archived_by(operator: Operator):
    from chat.models import InternalChatArchive

    return InternalChatArchive.objects.filter(internal_chat=OuterRef("pk"), operator=operator)


def _internal_rows(operator: Operator, department_ids: list[int] | None) -> list[dict]:
    """``dashboard_internal`` for an operator of ``department_ids`` (None: every one):
    the open ones they can see, and the closed ones they were in, until they archive
    them. One query."""
    rows = (
        _internal_base()
        .filter(
            _internal_visible(operator, department_ids),
            Q(closed_at__isnull=True) | _internal_in(operator),
        )
        .exclude(Exists(_archived_by(operator)))
        .order_by("created_at", "pk")
    )
    return [events.internal_summary(row) for row in rows]


ARCHIVED_SHOWN = 50


def archived_internal(operator: Operator, limit: int = ARCHIVED_SHOWN) -> dict:
    """The Archived view: the internal chats ``operator`` archived (and may still see),
    the most recently archived first, at most ``limit`` of them, with how many there are
    in all. Three queries (the operator's departments, the rows, the count)."""
    archived = (
        _internal_base()
        .filter(_internal_visible(operator, department_ids_for(operator)))
        .annotate(archived_at=Subquery(_archived_by(operator).values("archived_at")[:1]))
        .filter(archived_at__isnull=False)
    )
    rows = archived.order_by("-archived_at", "-pk")[:limit]
    return {
        "chats": [
            {**events.internal_summary(row), "archived_at": row.archived_at.isoformat()}
            for row in rows
        ],
        "total": archived.count(),
    }


def internal_messages_after(internal, after_seq: int = 0) -> list[dict]:
    from chat.models import InternalMessage

    rows = (
        InternalMessage.objects.filter(chat=internal, seq__gt=after_seq)
        .select_related("operator__user")
        .order_by("seq")
    )
    return [events.internal_message_payload(row) for row in rows]


def open_transfers_for(operator: Operator) -> list[dict]:
    """Open transfer offers this operator should see: to them, to one of their
    departments (every online operator of it may claim), and their own outgoing ones."""
    return _transfer_rows(operator, department_ids_for(operator))


def _transfer_rows(operator: Operator, department_ids: list[int] | None) -> list[dict]:
    """``open_transfers_for`` an operator of ``department_ids`` (None: every one). Two queries."""
    from chat.models import Transfer

    visible = Q(to_operator=operator) | Q(from_operator=operator)
    if department_ids is None:
        visible |= Q(to_department__isnull=False)
    else:
        visible |= Q(to_department_id__in=department_ids)
    rows = (
        Transfer.objects.filter(visible, status=Transfer.Status.OFFERED)
        .select_related(
            "chat__department",
            "chat__operator__user",
            "from_operator__user",
            "to_operator__user",
            "to_department",
        )
        .prefetch_related(
            Prefetch(
                "chat__messages", queryset=Message.objects.filter(seq=1), to_attr="first_messages"
            )
        )
        .order_by("created_at", "pk")
    )
    return [
        events.transfer_summary(
            row, preview=row.chat.first_messages[0].body if row.chat.first_messages else ""
        )
        for row in rows
    ]


# --- The patron's wait (issue 7) ----------------------------------------------------------

RECENT_CLAIMS = 20


def estimated_wait_seconds(department_id: int, recent: int = RECENT_CLAIMS) -> int | None:
    """The median wait (created → claimed) of the department's last ``recent`` claimed
    chats, computed in the database; None when there is no history yet. One query on
    PostgreSQL (percentile_cont), two on SQLite (chat.aggregates.median)."""
    from chat.aggregates import SecondsBetween, median

    claimed = Chat.objects.filter(department_id=department_id, claimed_at__isnull=False).order_by(
        "-claimed_at"
    )
    last_ids = claimed.values("pk")[:recent]
    value = median(Chat.objects.filter(pk__in=last_ids), SecondsBetween("created_at", "claimed_at"))
    return None if value is None else int(round(value))
