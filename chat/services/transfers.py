"""Transfers (issue 4): an operator offers their active chat to an online colleague or an
online department; the receiver takes it with Claim Chat (``chat.services.chat_claim``,
which calls ``accept_locked`` under its row lock), or declines it, or nobody claims it in
TRANSFER_TIMEOUT_SECONDS. Declined or expired, it stays with (returns to) its sender.

Lifecycle of a ``Transfer`` row: offered → accepted | declined | expired; a partial
unique constraint allows one open offer per chat. While it is offered the chat stays
active with its sender, who can keep writing; from the claim on the receiver has it and
the sender can read but no longer write (``message_send`` checks ``chat.operator``).

Every step locks the chat row first (then the transfer row), the same order as
``chat_claim``: of several operators claiming a transferred chat exactly one wins.

Expiry works in both modes: in production a Celery task is queued on commit with a
countdown; in the embedded eager mode that task runs at once and finds nothing due, and
the sweep (every dashboard heartbeat, Celery beat, ``manage.py desk_sweep``) expires it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events, selectors
from chat.exceptions import AlreadyClaimed, Conflict, Forbidden, InvalidInput, NotFound
from chat.models import Chat, ChatAudit, Department, Message, Operator, Transfer
from chat.services import _append_message, _audit, _lock_chat
from chat.services._common import chat_language
from chat.services.chats import check_chat_limit_locked


def transferring_line(chat: Chat, target: str) -> str:
    with chat_language(chat):
        return _("You're being transferred to %(target)s; your conversation stays here.") % {
            "target": target
        }


def still_with_you_line(chat: Chat, name: str) -> str:
    with chat_language(chat):
        return _("The transfer did not go through: %(name)s is still with you.") % {"name": name}


NOTE_MAX = 500


def _timeout() -> int:
    return settings.LIBDESK["TRANSFER_TIMEOUT_SECONDS"]


def _lock_offer(chat: Chat) -> Transfer | None:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("from_operator__user", "to_operator__user", "to_department")
        .filter(chat=chat, status=Transfer.Status.OFFERED)
        .first()
    )


def open_offer_locked(chat: Chat) -> Transfer | None:
    """Precondition: ``chat`` is locked in this transaction. Its open offer, locked."""
    offer = _lock_offer(chat)
    if offer is not None:
        offer.chat = chat
    return offer


def _groups(offer: Transfer) -> list[str]:
    target = (
        events.operator_group(offer.to_operator_id)
        if offer.to_operator_id
        else events.department_group(offer.to_department_id)
    )
    return [events.operator_group(offer.from_operator_id), target]


def _is_receiver(offer: Transfer, operator: Operator) -> bool:
    if offer.to_operator_id:
        return offer.to_operator_id == operator.pk
    return (
        operator.user.is_superuser
        or operator.departments.filter(pk=offer.to_department_id).exists()
    )


def _resolved(offer: Transfer, by: Operator | None) -> None:
    # The same summary as the offer's (its preview too): a dashboard that shows the
    # transfer shows one chat, whichever of the two frames it read it from.
    preview = offer.chat.messages.filter(seq=1).values_list("body", flat=True).first() or ""
    events.broadcast_on_commit(
        _groups(offer),
        {
            "type": "transfer.resolved",
            "transfer": events.transfer_summary(offer, preview=preview),
            "by": events.operator_ref(by) if by else None,
        },
        chat_pk=offer.chat_id,
    )


@transaction.atomic
def chat_transfer(
    *,
    chat_id: int,
    operator: Operator,
    to_operator_id: int | None = None,
    to_department_id: int | None = None,
    note: str = "",
) -> Transfer:
    """Transfer: offer my active chat to an online colleague or department, with an
    optional note. The patron is told in a system message. Refused (with a clear
    message) to myself, to an offline colleague or department, for an ended or waiting
    chat, for a chat that is not mine, or while another offer is open."""
    if (to_operator_id is None) == (to_department_id is None):
        raise InvalidInput(_("Choose one colleague or one department to transfer to."))
    if not isinstance(note, str):
        raise InvalidInput(_("The note must be text."))
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            _("The note is too long (limit %(limit)s characters).") % {"limit": NOTE_MAX},
            code="too_long",
        )
    chat = _lock_chat(chat_id)
    if chat.status in (Chat.Status.ENDED, Chat.Status.CLOSED):
        raise Conflict(_("This chat has ended: it cannot be transferred."), code="chat_ended")
    if chat.status != Chat.Status.ACTIVE:
        raise Conflict(_("Claim this chat before transferring it."), code="chat_not_active")
    if chat.operator_id != operator.pk:
        raise Forbidden(_("Only the librarian who has this chat can transfer it."))
    if _lock_offer(chat) is not None:
        raise Conflict(_("This chat is already being transferred."), code="transfer_pending")
    available = selectors.available_operators()
    to_operator = to_department = None
    if to_operator_id is not None:
        if isinstance(to_operator_id, bool) or not isinstance(to_operator_id, int):
            raise InvalidInput(_("Ids are whole numbers."))
        to_operator = Operator.objects.select_related("user").filter(pk=to_operator_id).first()
        if to_operator is None:
            raise NotFound(_("No such colleague."))
        if to_operator.pk == operator.pk:
            raise InvalidInput(
                _("You cannot transfer a chat to yourself."), code="transfer_to_self"
            )
        if not available.filter(pk=to_operator.pk).exists():
            raise Conflict(
                _(
                    "%(name)s is not online, so the chat cannot be transferred. "
                    "Create a ticket instead."
                )
                % {"name": to_operator.public_name},
                code="offline",
            )
    else:
        if isinstance(to_department_id, bool) or not isinstance(to_department_id, int):
            raise InvalidInput(_("Ids are whole numbers."))
        to_department = Department.objects.filter(pk=to_department_id, is_active=True).first()
        if to_department is None:
            raise NotFound(_("No such department."))
        if not available.filter(departments=to_department).exclude(pk=operator.pk).exists():
            raise Conflict(
                _(
                    "Nobody in %(department)s is online, so the chat cannot be transferred. "
                    "Create a ticket instead."
                )
                % {"department": to_department.name},
                code="offline",
            )
    offer = Transfer.objects.create(
        chat=chat,
        from_operator=operator,
        to_operator=to_operator,
        to_department=to_department,
        note=note,
        expires_at=timezone.now() + timedelta(seconds=_timeout()),
    )
    offer.chat = chat
    _append_message(
        chat,
        sender=Message.Sender.SYSTEM,
        body=transferring_line(chat, offer.target_name),
    )
    _audit(
        chat,
        ChatAudit.Action.TRANSFERRED,
        actor=operator.user,
        from_operator=operator,
        to_operator=to_operator,
        to_department=to_department,
        note=note,
        outcome="offered",
    )
    preview = chat.messages.filter(seq=1).values_list("body", flat=True).first() or ""
    events.broadcast_on_commit(
        _groups(offer),
        {"type": "transfer.offered", "transfer": events.transfer_summary(offer, preview=preview)},
        chat_pk=chat.pk,
    )
    transaction.on_commit(lambda: _queue_expiry(offer.pk))
    return offer


def _queue_expiry(transfer_id: int) -> None:
    from chat import tasks

    try:
        tasks.transfer_expire.apply_async((transfer_id,), countdown=_timeout() + 1)
    except Exception:  # no broker: the sweep expires it (heartbeats, beat, desk_sweep)
        import logging

        logging.getLogger(__name__).exception(
            "could not queue the expiry of transfer %s", transfer_id
        )


def accept_locked(*, chat: Chat, offer: Transfer, operator: Operator) -> Chat:
    """Claim Chat on a transferred chat. Precondition: called by ``chat_claim`` with
    ``chat`` and ``offer`` locked in its transaction (so exactly one claimer wins). The
    receiver's chat limit holds here as for any claim (Conflict ``chat_limit``)."""
    if operator.pk == offer.from_operator_id:
        raise Conflict(
            _("You are transferring this chat; wait for your colleague to claim it."),
            code="own_transfer",
        )
    if not _is_receiver(offer, operator):
        raise AlreadyClaimed(_("This chat is being transferred to someone else."))
    check_chat_limit_locked(operator)
    now = timezone.now()
    old_department_id = chat.department_id
    offer.status, offer.resolved_at, offer.resolved_by = Transfer.Status.ACCEPTED, now, operator
    Transfer.objects.filter(pk=offer.pk).update(
        status=offer.status, resolved_at=now, resolved_by=operator
    )
    chat.operator, chat.claimed_at = operator, now
    updates = {"operator": operator, "claimed_at": now}
    if offer.to_department_id:
        # A chat transferred to a department becomes that department's chat.
        chat.department = offer.to_department
        updates["department"] = offer.to_department
    Chat.objects.filter(pk=chat.pk).update(**updates)
    _audit(
        chat,
        ChatAudit.Action.CLAIMED,
        actor=operator.user,
        from_operator=offer.from_operator,
        to_operator=operator,
        to_department=offer.to_department,
        note=offer.note,
        outcome="accepted",
    )
    with chat_language(chat):
        joined = _("%(name)s has joined the chat.") % {"name": operator.public_name}
    _append_message(chat, sender=Message.Sender.SYSTEM, body=joined)
    claimed = events.chat_claimed(chat, operator)
    groups = [
        events.department_group(old_department_id),
        events.department_group(chat.department_id),
        events.chat_group(chat.pk),
        *_groups(offer),
    ]
    events.broadcast_on_commit(list(dict.fromkeys(groups)), claimed, chat_pk=chat.pk)
    _resolved(offer, operator)
    return chat


def _return_to_sender(chat: Chat, offer: Transfer, status: str, by: Operator | None, now) -> None:
    offer.status, offer.resolved_at, offer.resolved_by = status, now, by
    Transfer.objects.filter(pk=offer.pk).update(status=status, resolved_at=now, resolved_by=by)
    declined = status == Transfer.Status.DECLINED
    _audit(
        chat,
        ChatAudit.Action.TRANSFER_DECLINED if declined else ChatAudit.Action.TRANSFER_EXPIRED,
        actor=by.user if by else None,
        from_operator=offer.from_operator,
        to_operator=offer.to_operator or by,
        to_department=offer.to_department,
        note=offer.note,
        outcome=status,
    )
    if chat.status == Chat.Status.ACTIVE:
        _append_message(
            chat,
            sender=Message.Sender.SYSTEM,
            body=still_with_you_line(chat, offer.from_operator.public_name),
        )
    _resolved(offer, by)


@transaction.atomic
def transfer_decline(*, chat_id: int, operator: Operator) -> Transfer:
    """Decline: a receiver of the open offer turns it down; the chat stays with (returns
    to) its sender, who is told. For a department, one receiver's Decline declines it."""
    chat = _lock_chat(chat_id)
    offer = _lock_offer(chat)
    if offer is None:
        raise Conflict(
            _("There is no transfer to decline (it was claimed, declined or expired)."),
            code="no_transfer",
        )
    offer.chat = chat
    if not _is_receiver(offer, operator) or operator.pk == offer.from_operator_id:
        raise Forbidden(_("Only the colleague the chat is transferred to can decline it."))
    _return_to_sender(chat, offer, Transfer.Status.DECLINED, operator, timezone.now())
    return offer


@transaction.atomic
def transfer_expire(*, transfer_id: int, now: datetime | None = None) -> bool:
    """Expire one offer if it is still open and past its deadline (else do nothing:
    safe to run early, twice, or after a claim). Returns whether it expired."""
    now = now or timezone.now()
    chat_id = Transfer.objects.filter(pk=transfer_id).values_list("chat_id", flat=True).first()
    if chat_id is None:
        return False
    chat = _lock_chat(chat_id)
    offer = _lock_offer(chat)
    if offer is None or offer.pk != transfer_id or offer.expires_at > now:
        return False
    offer.chat = chat
    _return_to_sender(chat, offer, Transfer.Status.EXPIRED, None, now)
    return True


def expire_due(*, now: datetime | None = None) -> int:
    """Expire every open offer past its deadline; each in its own transaction."""
    now = now or timezone.now()
    due = Transfer.objects.filter(status=Transfer.Status.OFFERED, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(transfer_expire(transfer_id=pk, now=now) for pk in list(due))
