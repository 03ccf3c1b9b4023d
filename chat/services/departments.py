"""Departments and operators as the desk admin configures them (/admin/): the one write
path for ``Department``, ``Operator`` and ``Membership`` rows.

Every function runs in a transaction and, on commit, tells the live desk what it must
know: staff dashboards get ``departments.changed`` (the Departments section: names,
who is online where) and widgets watching a department get ``department.presence``
(online, who answers — a fallback may have changed). An operator's own change also goes
out as ``presence.changed``, as when they change their status.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from chat import events, selectors
from chat.exceptions import InvalidInput
from chat.models import Department, Membership, Operator

# The greeting and offline message are kept per language (chat/translation.py): the
# columns of every language in settings.LANGUAGES are saved with the department.
TRANSLATED_FIELDS = [
    f"{field}_{code.replace('-', '_')}"
    for field in ("greeting", "offline_message")
    for code, _name in settings.LANGUAGES
]
DEPARTMENT_FIELDS = [
    "name",
    "slug",
    "description",
    "is_active",
    "greeting",
    "offline_message",
    *TRANSLATED_FIELDS,
    "fallback",
    "screenshare_mode",
    "block_days",
]
OPERATOR_FIELDS = ["user", "display_name", "max_chats", "meeting_url", "shift_ends_at"]


def _full_clean(obj, exclude=()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as error:
        messages = [message for field in error.message_dict.values() for message in field]
        raise InvalidInput(" ".join(messages), code="invalid") from None


def fallback_loops(department: Department, fallback: Department | None) -> bool:
    """Would ``department`` → ``fallback`` → … come back to ``department``? (A chain
    that goes round would pass chats round forever.) Reads the chain as stored."""
    seen = {department.pk} if department.pk else set()
    node = fallback
    while node is not None:
        if node.pk in seen:
            return True
        seen.add(node.pk)
        node = node.fallback
    return False


def _broadcast_departments(*, gone: Iterable[tuple[int, str]] = ()) -> None:
    """On commit: the Departments section of every dashboard, and every widget watching
    a department. ``gone``: (pk, slug) of departments deleted or deactivated, whose
    widgets must hear that nobody answers there any more."""
    from chat.services import presence

    gone = list(gone)
    events.broadcast_snapshot_after_commit(
        lambda as_of: [
            (
                events.STAFF_GROUP,
                {
                    "type": "departments.changed",
                    "departments": selectors.departments_presence(),
                    "as_of": as_of,
                },
            )
        ]
    )
    presence.broadcast_department_presence()
    events.broadcast_snapshot_after_commit(
        lambda as_of: [
            (
                events.department_presence_group(pk),
                events.department_presence(slug, online=False, answering=None, as_of=as_of),
            )
            for pk, slug in gone
        ]
    )


def _set_memberships(rows: Iterable[tuple[Operator, Department, str]], *, keep: dict) -> None:
    """Make the memberships ``keep`` selects exactly ``rows`` (operator, department, role)."""
    wanted = {}
    for operator, department, role in rows:
        if role not in Membership.Role.values:
            raise InvalidInput(_("Unknown role %(role)s.") % {"role": repr(role)})
        wanted[(operator.pk, department.pk)] = role
    existing = {(m.operator_id, m.department_id): m for m in Membership.objects.filter(**keep)}
    # Operators whose departments change: their open dashboards follow (on commit).
    moved = {operator_id for operator_id, _d in wanted.keys() ^ existing.keys()}
    for operator_id in sorted(moved):
        events.broadcast_on_commit(
            events.operator_group(operator_id), {"type": "memberships.changed"}
        )
    for key, membership in existing.items():
        if key not in wanted:
            membership.delete()
        elif membership.role != wanted[key]:
            membership.role = wanted[key]
            membership.save(update_fields=["role"])
    Membership.objects.bulk_create(
        [
            Membership(operator_id=operator_id, department_id=department_id, role=role)
            for (operator_id, department_id), role in wanted.items()
            if (operator_id, department_id) not in existing
        ]
    )


# --- Departments ------------------------------------------------------------------------


@transaction.atomic
def department_save(
    *,
    department: Department,
    memberships: Iterable[tuple[Operator, str]] | None = None,
) -> Department:
    """Create or update a department; with ``memberships`` ((operator, role) pairs) its
    operators become exactly those. Refuses a fallback chain that would loop.

    Locks every department row when the fallback is set, so that two admins cannot close
    a loop by saving A → B and B → A at the same moment (departments are few)."""
    if department.fallback_id is not None:
        list(Department.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        stored = {row.pk: row for row in Department.objects.all()}
        for row in stored.values():
            row.fallback = stored.get(row.fallback_id)
        if fallback_loops(department, stored.get(department.fallback_id)):
            raise InvalidInput(
                _("That fallback would go round in a circle back to this department."),
                code="fallback_loop",
            )
    _full_clean(department, exclude=["fallback"])
    was_active = (
        Department.objects.filter(pk=department.pk).values_list("is_active", flat=True).first()
        if department.pk
        else None
    )
    if department.pk is None:
        department.save()
    else:
        department.save(update_fields=DEPARTMENT_FIELDS)
    if memberships is not None:
        _set_memberships(
            [(operator, department, role) for operator, role in memberships],
            keep={"department": department},
        )
    gone = [(department.pk, department.slug)] if was_active and not department.is_active else []
    _broadcast_departments(gone=gone)
    return department


@transaction.atomic
def department_delete(*, department: Department) -> None:
    """Delete a department (its memberships go with it; a department that still has
    chats is protected by the database and refused by the admin before this)."""
    pk, slug = department.pk, department.slug
    Department.objects.filter(pk=pk).delete()
    _broadcast_departments(gone=[(pk, slug)])


# --- Operators --------------------------------------------------------------------------


@transaction.atomic
def operator_save(
    *,
    operator: Operator,
    memberships: Iterable[tuple[Department, str]] | None = None,
) -> Operator:
    """Create or update an operator's profile (never their status: that is
    ``presence_set``); with ``memberships`` ((department, role) pairs) their departments
    become exactly those."""
    from chat.services.staff import _broadcast_presence

    _full_clean(operator, exclude=["status", "status_changed_at", "last_activity_at"])
    if operator.pk is None:
        operator.save()
    else:
        operator.save(update_fields=OPERATOR_FIELDS)
    if memberships is not None:
        _set_memberships(
            [(operator, department, role) for department, role in memberships],
            keep={"operator": operator},
        )
    operator = Operator.objects.select_related("user").get(pk=operator.pk)
    _broadcast_presence(operator)  # presence.changed (dashboards) + department.presence (widgets)
    return operator


@transaction.atomic
def operator_delete(*, operator: Operator) -> None:
    """Remove an operator (not the user account): their memberships and dashboard
    connections go with them; chats they answered keep their transcript."""
    Operator.objects.filter(pk=operator.pk).delete()
    _broadcast_departments()
