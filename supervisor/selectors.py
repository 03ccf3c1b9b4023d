"""The supervisor's reads, each in a fixed number of queries whatever the desk's size
(tests/supervisor/test_page_queries.py)."""

from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from chat.models import Chat, Department, Operator
from chat.selectors import administered_department_ids
from tickets.models import Ticket

LIVE = (Chat.Status.WAITING, Chat.Status.ACTIVE)


def supervised_department_ids(user) -> list[int] | None:
    """The departments ``user`` supervises: None for all (superusers, the Desk admin
    group), the ones they run as a Department admin, or [] (not a supervisor)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return []
    if user.is_superuser or user.has_perm("chat.change_department"):
        return None
    return sorted(administered_department_ids(user))


def _in(queryset, department_ids, lookup="department_id"):
    return (
        queryset if department_ids is None else queryset.filter(**{f"{lookup}__in": department_ids})
    )


def departments(department_ids) -> list[Department]:
    return list(_in(Department.objects.all(), department_ids, "pk").order_by("name"))


def live_chats(department_ids) -> list[dict]:
    """Every waiting and active chat of the departments, oldest first: one query."""
    chats = (
        _in(Chat.objects.filter(status__in=LIVE), department_ids)
        .select_related("department", "operator__user")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": str(chat.public_id),
            "patron": chat.patron_label,
            "department": chat.department.name,
            "status": chat.status,
            "status_label": chat.get_status_display(),
            "operator": chat.operator.public_name if chat.operator_id else "",
            "created_at": chat.created_at.isoformat(),
            "claimed_at": chat.claimed_at.isoformat() if chat.claimed_at else None,
            "messages": chat.last_seq,
        }
        for chat in chats
    ]


def staff_on_duty(department_ids) -> list[dict]:
    """The departments' operators with their status and how many active chats each has:
    one query. Online and Away first, then Offline."""
    operators = _in(Operator.objects.all(), department_ids, "departments").distinct()
    operators = (
        operators.select_related("user")
        .annotate(
            active_chats=Count("chats", filter=Q(chats__status=Chat.Status.ACTIVE), distinct=True)
        )
        .order_by("user__username")
    )
    rank = {Operator.Status.ONLINE: 0, Operator.Status.AWAY: 1, Operator.Status.OFFLINE: 2}
    rows = [
        {
            "id": operator.pk,
            "name": operator.public_name,
            "username": operator.user.get_username(),
            "status": operator.status,
            "status_label": operator.get_status_display(),
            "active_chats": operator.active_chats,
        }
        for operator in operators
    ]
    return sorted(rows, key=lambda row: rank.get(row["status"], 3))


def week_start(now=None) -> datetime:
    """Monday 00:00 of this week, in the desk's time zone."""
    local = timezone.localtime(now or timezone.now())
    monday = local.date() - timedelta(days=local.weekday())
    return timezone.make_aware(datetime.combine(monday, time.min))


def coverage_gaps(department_ids, now=None) -> list[dict]:
    """The hours this week when patrons came and nobody answered, by department:
    chats that ended without anyone claiming them (abandoned) and questions left in the
    offline form. Two queries (grouped by department and hour in SQL). Newest hour
    first."""
    since = week_start(now)
    tz = timezone.get_current_timezone()
    abandoned = (
        _in(Chat.objects.all(), department_ids)
        .filter(
            created_at__gte=since,
            claimed_at__isnull=True,
            status__in=(Chat.Status.ENDED, Chat.Status.CLOSED),
        )
        .annotate(hour=TruncHour("created_at", tzinfo=tz))
        .values("department__name", "hour")
        .annotate(n=Count("pk"))
    )
    offline = (
        _in(Ticket.objects.all(), department_ids)
        .filter(created_at__gte=since, source=Ticket.Source.OFFLINE_FORM)
        .annotate(hour=TruncHour("created_at", tzinfo=tz))
        .values("department__name", "hour")
        .annotate(n=Count("pk"))
    )
    gaps: dict[tuple, dict] = {}
    for kind, rows in (("abandoned", abandoned), ("offline", offline)):
        for row in rows:
            key = (row["department__name"], row["hour"])
            gap = gaps.setdefault(
                key,
                {
                    "department": key[0],
                    "hour": timezone.localtime(key[1], tz),
                    "abandoned": 0,
                    "offline": 0,
                },
            )
            gap[kind] += row["n"]
    return sorted(gaps.values(), key=lambda gap: (-gap["hour"].timestamp(), gap["department"]))


def watched_chat(department_ids, public_id) -> Chat | None:
    """A chat of the supervised departments, to watch (read-only)."""
    return (
        _in(Chat.objects.all(), department_ids)
        .select_related("department", "operator__user")
        .filter(public_id=public_id)
        .first()
    )
