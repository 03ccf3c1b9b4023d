"""Operators: presence (Online/Away/Offline), dashboard connections, ending sessions."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events, selectors
from chat.exceptions import InvalidInput
from chat.models import (
    Operator,
    OperatorConnection,
)
from chat.services._common import (
    _desk_setting,
)

# --- Presence -------------------------------------------------------------------------


def _broadcast_presence(operator: Operator, reason: str = "") -> None:
    """On commit: this operator's presence and every department's, to the dashboards;
    and to the widgets watching a department (chat.services.presence, issue 4)."""
    from chat.services import presence

    def changed(as_of):
        payload = selectors.presence_payload(operator.pk)
        if reason:
            payload["reason"] = reason
        return [(events.STAFF_GROUP, {"type": "presence.changed", **payload, "as_of": as_of})]

    events.broadcast_snapshot_after_commit(changed)
    presence.broadcast_department_presence()


@transaction.atomic
def presence_set(*, operator: Operator, status: str, reason: str = "") -> Operator:
    """The operator chooses Online, Away or Offline on the dashboard (``reason`` empty),
    or the desk changes it (``reason``: "idle", "shift_end", "disconnected")."""
    if status not in Operator.Status.values:
        raise InvalidInput(_("Status must be online, away or offline."))
    _read_status(operator)
    return presence_set_locked(operator=operator, status=status, reason=reason)


def presence_set_locked(*, operator: Operator, status: str, reason: str = "") -> Operator:
    """``presence_set`` for a caller that holds the operator's row lock and read
    ``operator`` under it (the desk's checks: idle, end of shift, gone dashboards)."""
    now = timezone.now()
    if operator.status != status:
        operator.status = status
        operator.status_changed_at = now
        Operator.objects.filter(pk=operator.pk).update(
            status=status, status_changed_at=operator.status_changed_at
        )
    if status == Operator.Status.ONLINE and not reason:
        # Choosing Online is activity: the idle clock starts again.
        operator.last_activity_at = now
        Operator.objects.filter(pk=operator.pk).update(last_activity_at=now)
    _broadcast_presence(operator, reason)
    return operator


def _read_status(operator: Operator) -> None:
    """The stored status into ``operator``, under the row lock: the caller's copy may be
    stale (a socket holds the one it read at connect while the desk sets it Away or
    Offline)."""
    locked = Operator.objects.select_for_update(of=("self",))
    operator.status, operator.status_changed_at = locked.values_list(
        "status", "status_changed_at"
    ).get(pk=operator.pk)


@transaction.atomic
def connection_open(*, operator: Operator, channel_name: str) -> None:
    """A dashboard socket opened. ``operator`` gets the stored status (its dashboard
    shows it): under the row lock, as presence_reconcile decides, so a dashboard opening
    as a closed one's grace period ends either is seen by that decision or reads its
    outcome — never shows Online while the desk sets the librarian Offline unseen."""
    _read_status(operator)
    OperatorConnection.objects.update_or_create(
        channel_name=channel_name, defaults={"operator": operator, "last_seen": timezone.now()}
    )
    _broadcast_presence(operator)


@transaction.atomic
def connection_touch(*, channel_name: str) -> None:
    """A dashboard heartbeat: the connection is alive."""
    OperatorConnection.objects.filter(channel_name=channel_name).update(last_seen=timezone.now())


@transaction.atomic
def connection_close(*, channel_name: str) -> None:
    connection = (
        OperatorConnection.objects.select_related("operator")
        .filter(channel_name=channel_name)
        .first()
    )
    if connection is None:
        return
    connection.delete()
    _broadcast_presence(connection.operator)


@transaction.atomic
def presence_reconcile(*, operator_id: int) -> Operator:
    """After the grace period: an operator with no live dashboard goes Offline."""
    operator = (
        Operator.objects.select_for_update(of=("self",)).select_related("user").get(pk=operator_id)
    )
    stale_before = timezone.now() - timedelta(seconds=3 * _desk_setting("HEARTBEAT_SECONDS"))
    OperatorConnection.objects.filter(operator=operator, last_seen__lt=stale_before).delete()
    if operator.status != Operator.Status.OFFLINE and not operator.connections.exists():
        presence_set_locked(
            operator=operator, status=Operator.Status.OFFLINE, reason="disconnected"
        )
    return operator


# --- Interface language --------------------------------------------------------------


@transaction.atomic
def operator_set_language(*, operator: Operator, language: str) -> Operator:
    """The operator chose their interface language (the Language menu): kept so that
    mail to them (a new ticket in their queue) is written in it. ``language`` is one
    of settings.LANGUAGES, or "" for the library's default."""
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("That language is not one the desk speaks."))
    if operator.language != language:
        operator.language = language
        Operator.objects.filter(pk=operator.pk).update(language=language)
    return operator


# --- Staff sessions ----------------------------------------------------------------------


def staff_sessions_end(*, user_id: int, reason: str, session_key: str | None = None) -> None:
    """Close the user's open dashboard sockets: the one of ``session_key`` (logout), or
    all of them (password change, deactivation). Sent on commit of the change."""
    digest = events.session_digest(session_key) if session_key else None
    events.broadcast_on_commit(
        events.user_group(user_id), {"type": "session.ended", "reason": reason, "session": digest}
    )
