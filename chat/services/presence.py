"""Presence that keeps itself true (issue 4): idle → Away, end of shift → Offline, stale
dashboards → Offline, and the desk-wide sweep that also expires overdue transfers.

Design: the dashboard reports *activity* (a ``presence.activity`` frame, sent at most
every ``ACTIVITY_THROTTLE`` seconds while the librarian types, clicks or focuses the
page) and the server derives idleness from ``Operator.last_activity_at``. The server
decides, so a throttled background tab, a closed laptop or a crashed browser cannot
leave anyone Online: the check runs at every heartbeat of the operator's own dashboard,
and in the sweep (Celery beat ``chat.tasks.desk_sweep`` in production; heartbeats,
throttled by the cache, and ``manage.py desk_sweep`` in the embedded mode).

State changes go through ``chat.services.staff`` (``presence_set``, and
``presence_set_locked`` under the row lock the checks take): one write path for status.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from chat import events, selectors, services
from chat.models import Operator, OperatorConnection
from chat.services import staff

SWEEP_CACHE_KEY = "libdesk:desk-sweep"


def _desk(name):
    return settings.LIBDESK[name]


def broadcast_department_presence() -> None:
    """On commit: tell every widget watching a department whether it is online and who
    answers."""

    def routing_of_each(as_of):
        return [
            (
                events.department_presence_group(routing["id"]),
                events.department_presence(
                    routing["department"], routing["online"], routing["answering"], as_of
                ),
            )
            for routing in selectors.departments_routing()
        ]

    events.broadcast_snapshot_after_commit(routing_of_each)


@transaction.atomic
def activity(*, operator_id: int, now: datetime | None = None) -> None:
    """The librarian did something on the dashboard: the idle clock starts again."""
    Operator.objects.filter(pk=operator_id).update(last_activity_at=now or timezone.now())


def last_shift_end(shift_ends_at, now: datetime) -> datetime:
    """The most recent end of shift at or before ``now`` (local time, every day)."""
    local = timezone.localtime(now)
    end = local.replace(
        hour=shift_ends_at.hour, minute=shift_ends_at.minute, second=0, microsecond=0
    )
    if end > local:
        end -= timedelta(days=1)
    return end


def _due_change(operator: Operator, now: datetime) -> tuple[str, str] | None:
    """(new status, reason) when the desk must change this operator's status, else None."""
    if operator.status == Operator.Status.OFFLINE:
        return None
    if operator.shift_ends_at is not None:
        end = last_shift_end(operator.shift_ends_at, now)
        if operator.status_changed_at is None or operator.status_changed_at < end:
            return Operator.Status.OFFLINE, "shift_end"
    if operator.status == Operator.Status.ONLINE:
        idle_since = operator.last_activity_at or operator.status_changed_at
        if idle_since is None or idle_since <= now - timedelta(seconds=_desk("IDLE_AWAY_SECONDS")):
            return Operator.Status.AWAY, "idle"
    return None


@transaction.atomic
def operator_check(*, operator_id: int, now: datetime | None = None) -> Operator:
    """Idle → Away, end of shift → Offline, for one operator. Locks the operator row so
    a concurrent ``presence_set`` is not overwritten by a decision made on stale data."""
    now = now or timezone.now()
    operator = (
        Operator.objects.select_for_update(of=("self",)).select_related("user").get(pk=operator_id)
    )
    change = _due_change(operator, now)
    if change is not None:
        status, reason = change
        staff.presence_set_locked(operator=operator, status=status, reason=reason)
    return operator


def heartbeat(*, channel_name: str, operator_id: int) -> None:
    """A dashboard's ``ping``: the connection is alive; this operator's idle and shift
    checks; overdue transfers return to their senders; and, at most every
    SWEEP_SECONDS per cache, the whole desk's sweep (covers the embedded mode)."""
    from chat.services import transfers

    services.connection_touch(channel_name=channel_name)
    operator_check(operator_id=operator_id)
    transfers.expire_due()
    if cache.add(SWEEP_CACHE_KEY, 1, timeout=_desk("SWEEP_SECONDS")):
        sweep_presence()


def sweep_presence(*, now: datetime | None = None) -> dict:
    """Every operator who is not Offline: gone dashboards (e.g. a Daphne process that
    died without its disconnect) → Offline; idle → Away; end of shift → Offline."""
    now = now or timezone.now()
    changed = {"disconnected": 0, "idle": 0, "shift_end": 0}
    stale_before = now - timedelta(seconds=3 * _desk("HEARTBEAT_SECONDS"))
    quiet_before = now - timedelta(seconds=_desk("IDLE_AWAY_SECONDS"))
    for operator in Operator.objects.exclude(status=Operator.Status.OFFLINE):
        rows = list(
            OperatorConnection.objects.filter(operator=operator).values_list("last_seen", flat=True)
        )
        # Rows left by a process that died without its disconnect: all stale. No rows at
        # all is normally a closed tab inside its grace period (its own detached check
        # handles it); only a long-quiet operator without rows is reconciled here.
        latest = max(
            filter(None, [operator.status_changed_at, operator.last_activity_at]), default=None
        )
        gone = (
            all(seen < stale_before for seen in rows)
            if rows
            else (latest is None or latest <= quiet_before)
        )
        if gone:
            before = operator.status
            operator = services.presence_reconcile(operator_id=operator.pk)
            if before != operator.status:
                changed["disconnected"] += 1
            continue
        before = operator.status
        after = operator_check(operator_id=operator.pk, now=now)
        if after.status != before:
            reason = "shift_end" if after.status == Operator.Status.OFFLINE else "idle"
            changed[reason] += 1
    return changed


def desk_sweep(*, now: datetime | None = None) -> dict:
    """The periodic task's work: presence, then transfers that nobody claimed in time."""
    from chat.services import transfers

    result = sweep_presence(now=now)
    result["transfers_expired"] = transfers.expire_due(now=now)
    return result
