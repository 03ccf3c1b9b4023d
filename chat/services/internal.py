"""Internal chat (issue 4): staff to staff, or staff to a department. Services only:
every state change is one keyword-only function in a transaction; events leave through
``chat.events.broadcast_on_commit``; reads are in ``chat.selectors`` (internal section).

A chat to a department reaches the dashboards of all its operators (its ``dept-<pk>``
group); the first of them to reply answers it (a locked row: exactly one wins) and the
others are told who took it. Patrons never see any of this: every event goes to staff
groups only, and the patron socket forwards a fixed list of event types.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat import events, selectors
from chat.exceptions import Conflict, Forbidden, InvalidInput, NotFound
from chat.models import (
    Chat,
    Department,
    InternalChat,
    InternalChatArchive,
    InternalMessage,
    Operator,
)
from chat.services import _clean_body, _clean_client_id


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_message = gettext_lazy("A colleague has already answered this internal chat.")


def _target_groups(internal: InternalChat) -> list[str]:
    if internal.to_operator_id:
        return [events.operator_group(internal.to_operator_id)]
    return [events.department_group(internal.to_department_id)]


def _participant_groups(internal: InternalChat) -> list[str]:
    """Who gets the messages: the starter, and the receiver (once a department chat is
    answered, only the colleague who answered it)."""
    groups = [events.operator_group(internal.created_by_id)]
    if internal.answered_by_id:
        groups.append(events.operator_group(internal.answered_by_id))
    else:
        groups += _target_groups(internal)
    return list(dict.fromkeys(groups))


def _lock(internal_id: int) -> InternalChat:
    # Lock the bare row first, then read it with its relations: a row locked through
    # joins would be rechecked against stale joined rows when it changed meanwhile.
    InternalChat.objects.select_for_update().filter(pk=internal_id).values_list("pk").get()
    return selectors._internal_base().get(pk=internal_id)


def _lock_visible(internal_id: int, operator: Operator) -> InternalChat:
    internal = _lock(internal_id)
    if not selectors.operator_can_see_internal(operator, internal):
        raise NotFound(_("No such internal chat."))
    return internal


def _append(
    internal: InternalChat, *, operator: Operator, body: str, client_id: str
) -> InternalMessage:
    """Precondition: ``internal`` is locked in this transaction (serialises ``seq``)."""
    internal.last_seq += 1
    InternalChat.objects.filter(pk=internal.pk).update(last_seq=internal.last_seq)
    message = InternalMessage.objects.create(
        chat=internal, seq=internal.last_seq, operator=operator, client_id=client_id, body=body
    )
    _unarchive_for_the_message(internal)
    events.broadcast_on_commit(
        _participant_groups(internal),
        {
            "type": "internal.message",
            "internal": str(internal.public_id),
            "message": events.internal_message_payload(message),
        },
    )
    return message


def _unarchive_for_the_message(internal: InternalChat) -> None:
    """A new message brings the chat back to the lists of those it reaches who had
    archived it: before an answer (of a department chat), every operator of the
    department; after it, the two colleagues (a colleague who only read it stays as
    they chose). Each is told before the message itself, which their dashboard would
    otherwise not know where to put. Precondition: ``internal`` is locked."""
    archived = InternalChatArchive.objects.filter(internal_chat=internal)
    if internal.answered_by_id or internal.to_operator_id:
        archived = archived.filter(
            operator_id__in=[
                internal.created_by_id,
                internal.answered_by_id or internal.to_operator_id,
            ]
        )
    operator_ids = list(archived.order_by("operator_id").values_list("operator_id", flat=True))
    if not operator_ids:
        return
    archived.delete()  # the same rows: the chat is locked
    summary = events.internal_summary(internal)
    for operator_id in operator_ids:
        events.broadcast_on_commit(
            [events.operator_group(operator_id)],
            {"type": "internal.unarchived", "internal": summary, "operator": operator_id},
        )


@transaction.atomic
def internal_start(
    *,
    operator: Operator,
    to_operator_id: int | None = None,
    to_department_id: int | None = None,
    about_chat: Chat | None = None,
    body: str = "",
    client_id: str = "",
) -> InternalChat:
    """Start an internal chat with an online colleague or an online department,
    optionally about a patron chat (the receiver may read its transcript) and with a
    first message. Offline receivers are refused (the ticket path exists for them)."""
    if (to_operator_id is None) == (to_department_id is None):
        raise InvalidInput(_("Choose one colleague or one department."))
    to_operator = to_department = None
    if to_operator_id is not None:
        to_operator = (
            Operator.objects.select_related("user").filter(pk=_int_id(to_operator_id)).first()
        )
        if to_operator is None:
            raise NotFound(_("No such colleague."))
        if to_operator.pk == operator.pk:
            raise InvalidInput(
                _("You cannot start an internal chat with yourself."), code="to_self"
            )
        if not selectors.available_operators().filter(pk=to_operator.pk).exists():
            raise Conflict(
                _("%(name)s is not online. Create a ticket instead.")
                % {"name": to_operator.public_name},
                code="offline",
            )
    else:
        to_department = Department.objects.filter(
            pk=_int_id(to_department_id), is_active=True
        ).first()
        if to_department is None:
            raise NotFound(_("No such department."))
        if not (
            selectors.available_operators()
            .filter(departments=to_department)
            .exclude(pk=operator.pk)
            .exists()
        ):
            raise Conflict(
                _("Nobody in %(department)s is online. Create a ticket instead.")
                % {"department": to_department.name},
                code="offline",
            )
    if about_chat is not None and not selectors.operator_can_see_chat(operator, about_chat):
        raise NotFound()
    body = _clean_body(body) if body else ""
    client_id = _clean_client_id(client_id)
    internal = InternalChat.objects.create(
        created_by=operator,
        to_operator=to_operator,
        to_department=to_department,
        about_chat=about_chat,
    )
    internal = _lock(internal.pk)
    if body:
        _append(internal, operator=operator, body=body, client_id=client_id)
    events.broadcast_on_commit(
        [events.operator_group(operator.pk), *_target_groups(internal)],
        {"type": "internal.started", "internal": events.internal_summary(internal)},
    )
    return internal


def _int_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("Ids are whole numbers."))
    return value


def internal_send(
    *, internal_id: int, operator: Operator, body: str, client_id: str
) -> tuple[InternalMessage, bool]:
    """Write in an internal chat; idempotent on ``client_id`` (same contract as patron
    chats). The receiver's first reply answers it: on a department chat, of several
    colleagues replying at once exactly one wins (the row is locked); the others get
    AlreadyAnswered."""
    body = _clean_body(body)
    client_id = _clean_client_id(client_id)
    if not client_id:
        raise InvalidInput(
            _("Every message needs a client_id (for safe retries)."), code="no_client_id"
        )
    try:
        return _internal_send(
            internal_id=internal_id, operator=operator, body=body, client_id=client_id
        )
    except IntegrityError:
        existing = InternalMessage.objects.select_related("operator__user").get(
            chat_id=internal_id, client_id=client_id
        )
        return existing, False


@transaction.atomic
def _internal_send(*, internal_id, operator, body, client_id):
    internal = _lock(internal_id)
    existing = (
        InternalMessage.objects.select_related("operator__user")
        .filter(chat=internal, client_id=client_id)
        .first()
    )
    if existing is not None:
        return existing, False
    if not selectors.operator_can_see_internal(operator, internal):
        raise NotFound(_("No such internal chat."))
    if internal.closed_at is not None:
        raise Conflict(_("This internal chat is closed."), code="internal_closed")
    if operator.pk != internal.created_by_id:
        if internal.answered_by_id is None:
            now = timezone.now()
            internal.answered_by, internal.answered_at = operator, now
            InternalChat.objects.filter(pk=internal.pk).update(
                answered_by=operator, answered_at=now
            )
            events.broadcast_on_commit(
                [events.operator_group(internal.created_by_id), *_target_groups(internal)],
                {
                    "type": "internal.answered",
                    "internal": str(internal.public_id),
                    "by": events.operator_ref(operator),
                },
            )
        elif internal.answered_by_id != operator.pk:
            raise AlreadyAnswered(
                _("%(name)s has already answered this internal chat.")
                % {"name": internal.answered_by.public_name}
            )
    return _append(internal, operator=operator, body=body, client_id=client_id), True


@transaction.atomic
def internal_close(*, internal_id: int, operator: Operator) -> InternalChat:
    """Close an internal chat (for both sides). Its starter or the colleague who
    answered it may; closing a closed one is a no-op."""
    internal = _lock_visible(internal_id, operator)
    if operator.pk not in (
        internal.created_by_id,
        internal.answered_by_id,
        internal.to_operator_id,
    ):
        raise Forbidden(_("Only the two colleagues in this internal chat can close it."))
    if internal.closed_at is None:
        internal.closed_at = timezone.now()
        InternalChat.objects.filter(pk=internal.pk).update(closed_at=internal.closed_at)
        events.broadcast_on_commit(
            [events.operator_group(internal.created_by_id), *_target_groups(internal)]
            + ([events.operator_group(internal.answered_by_id)] if internal.answered_by_id else []),
            {"type": "internal.closed", "internal": str(internal.public_id)},
        )
    return internal


@transaction.atomic
def internal_archive(*, internal_id: int, operator: Operator) -> InternalChat:
    """Archive an internal chat for ``operator`` only: it leaves their Internal Chat
    list for their Archived view; the colleague's list is theirs to manage. Open or
    closed; archiving an archived one is a no-op. The chat's row is locked, so that a
    message written meanwhile (which brings it back) is either before or after."""
    internal = _lock_visible(internal_id, operator)
    _, created = InternalChatArchive.objects.get_or_create(
        internal_chat=internal, operator=operator, defaults={"archived_at": timezone.now()}
    )
    if created:
        events.broadcast_on_commit(
            [events.operator_group(operator.pk)],
            {
                "type": "internal.archived",
                "internal": str(internal.public_id),
                "operator": operator.pk,
            },
        )
    return internal


@transaction.atomic
def internal_unarchive(*, internal_id: int, operator: Operator) -> InternalChat:
    """Bring an internal chat ``operator`` archived back to their Internal Chat list
    (their other tabs get it with its summary); a chat not archived is a no-op."""
    internal = _lock_visible(internal_id, operator)
    deleted, _rows = InternalChatArchive.objects.filter(
        internal_chat=internal, operator=operator
    ).delete()
    if deleted:
        events.broadcast_on_commit(
            [events.operator_group(operator.pk)],
            {
                "type": "internal.unarchived",
                "internal": events.internal_summary(internal),
                "operator": operator.pk,
            },
        )
    return internal
