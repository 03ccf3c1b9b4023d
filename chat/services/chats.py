"""Patron chats: start, messages, claim, end, close, system lines, the patron's email,
email transcripts."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chat import blocks, events, selectors
from chat.exceptions import AlreadyClaimed, Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from chat.models import (
    Chat,
    ChatAudit,
    Department,
    Message,
    Operator,
    hash_token,
)
from chat.services._common import (
    SeqTake,
    _append_in_one_statement,
    _append_message,
    _audit,
    _broadcast_queue,
    _clean_body,
    _clean_client_id,
    _clean_sent,
    _desk_setting,
    _lock_chat,
    _take_seq,
    strip_query,
)

# --- Patron side ----------------------------------------------------------------------


@transaction.atomic
def chat_start(
    *,
    department: Department,
    question: str,
    patron_name: str = "",
    patron_email: str = "",
    client_id: str = "",
    page_url: str = "",
    origin_digest: str = "",
) -> tuple[Chat, str]:
    """A patron asks a question: a new waiting chat with the question as message 1.

    ``origin_digest`` is ``chat.blocks.address_digest`` of the patron's address: kept
    on the chat (so its patron can be blocked), and refused (``Blocked``, a neutral
    message) while a block matches it.

    Returns the chat and the patron's token, which is shown only this once (the
    database keeps its digest).
    """
    if not department.is_active:
        raise InvalidInput("This department is not taking chats.", code="department_inactive")
    blocks.refuse_if_blocked(origin_digest)
    body = _clean_body(question)
    client_id = _clean_client_id(client_id)
    patron_name = (patron_name or "").strip()[:80]
    patron_email = (patron_email or "").strip()[:254]
    if patron_email:
        try:
            EmailValidator()(patron_email)
        except ValidationError:
            raise InvalidInput(
                "That email address does not look right.", code="bad_email"
            ) from None
    token = secrets.token_urlsafe(32)
    chat = Chat.objects.create(
        department=department,
        patron_token_digest=hash_token(token),
        patron_name=patron_name,
        patron_email=patron_email,
        page_url=strip_query(page_url),
        origin_digest=origin_digest or "",
    )
    chat = _lock_chat(chat.pk)
    _append_message(chat, sender=Message.Sender.PATRON, body=body, client_id=client_id)
    _audit(chat, ChatAudit.Action.CREATED)
    events.broadcast_on_commit(
        events.department_group(department.pk),
        {"type": "chat.waiting", "chat": events.chat_summary(chat, preview=body)},
        chat_pk=chat.pk,
    )
    _broadcast_queue(department.pk)
    return chat, token


# --- Messages -------------------------------------------------------------------------


def message_send(
    *,
    chat_id: int,
    body: str,
    client_id: str,
    sender: str,
    operator: Operator | None = None,
) -> tuple[Message, bool]:
    """Append a message; idempotent on ``client_id``.

    Returns ``(message, created)``. Sending the same client id again returns the
    message already stored (``created`` False) and broadcasts it again (see below).
    The sequence number is taken by one conditional ``UPDATE ... RETURNING`` on the
    chat row, which also locks the row until the commit: numbers are serialised per
    chat, and a refused or duplicate send rolls back, leaving no gap. On PostgreSQL
    that UPDATE and the message's INSERT are one statement
    (``_append_in_one_statement``); elsewhere, two in a transaction (``_take_seq``).
    """
    body, client_id = _clean_sent(body, client_id)
    try:
        return _message_send(
            chat_id=chat_id, body=body, client_id=client_id, sender=sender, operator=operator
        )
    except (IntegrityError, _Refused) as refused:
        # A client id already stored (a retry, or two sends of one id at once), or a
        # refusal: a retry of a stored message is answered with it whatever changed since.
        existing = (
            Message.objects.select_related("chat", "operator__user")
            .filter(chat_id=chat_id, client_id=client_id)
            .first()
        )
        if existing is None:
            if isinstance(refused, _Refused):
                raise refused.error from None
            raise
    # Sent again: the first send may have been stored but never broadcast (a process
    # killed after the commit, Redis down). Broadcast it again; every consumer drops
    # a seq its socket already sent, so nobody sees it twice.
    payload = events.message_payload(existing)
    events.broadcast_on_commit(
        events.chat_group(chat_id),
        {"type": "message.new", "chat": str(existing.chat.public_id), "message": payload},
        chat_pk=chat_id,
    )
    return existing, False


class _Refused(Exception):
    """Carries a DeskError out of ``_message_send``'s transaction (rolling back the
    sequence number it took) so that ``message_send`` can first look for a retry."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def _message_send(*, chat_id, body, client_id, sender, operator):
    take = _seq_take(sender, operator)
    append = _append_in_one_statement if connection.vendor == "postgresql" else _append_in_steps
    message = append(
        chat_id, take, sender=sender, operator=operator, client_id=client_id, body=body
    )
    if message is None:
        raise _Refused(_why_refused(chat_id, sender, take))
    _broadcast_stored(message)
    return message, True


def _seq_take(sender, operator) -> SeqTake:
    """What a message of ``sender`` may take its sequence number on (see SeqTake)."""
    if sender == Message.Sender.PATRON:
        limit = settings.LIBDESK_LIMITS["PATRON_MESSAGES_PER_MINUTE"]
        return SeqTake(
            statuses=(Chat.Status.WAITING, Chat.Status.ACTIVE),
            patron_limit=limit if limit > 0 else None,
            minute=int(timezone.now().timestamp()) // 60,
        )
    if sender == Message.Sender.OPERATOR:
        if operator is None:
            raise Forbidden("Only the librarian who claimed this chat can write in it.")
        return SeqTake(statuses=(Chat.Status.ACTIVE,), operator_id=operator.pk)
    raise InvalidInput("Unknown sender.")


def _broadcast_stored(message: Message) -> None:
    """A message just stored goes to its chat's group (on commit)."""
    chat = message.chat
    Message.attachment.related.set_cached_value(message, None)
    events.broadcast_on_commit(
        events.chat_group(chat.pk),
        {
            "type": "message.new",
            "chat": str(chat.public_id),
            "message": events.message_payload(message),
        },
        chat_pk=chat.pk,
    )


@transaction.atomic
def _append_in_steps(chat_id, take, *, sender, operator, client_id, body):
    """``_append_in_one_statement`` for databases without data-modifying CTEs (SQLite,
    whose transaction already serialises writers): the same conditions, in a transaction."""
    chat = _take_seq(chat_id, take)
    if chat is None:
        return None
    message = Message.objects.create(
        chat=chat,
        seq=chat.last_seq,
        sender=sender,
        operator=operator,
        client_id=client_id,
        body=body,
    )
    message.chat = chat
    return message


def _why_refused(chat_id, sender, take):
    found = Chat.objects.filter(pk=chat_id).values("status").first()
    if found is None:
        return NotFound()
    if sender == Message.Sender.PATRON:
        if take.patron_limit is not None and found["status"] in take.statuses:
            # Open, so the UPDATE's other condition failed: the minute's count was reached.
            return RateLimited(
                f"You can send up to {take.patron_limit} messages a minute. Please wait a moment; "
                "your message was not sent."
            )
        return Conflict("This chat has ended.", code="chat_ended")
    if found["status"] != Chat.Status.ACTIVE:
        return Conflict("This chat is not active.", code="chat_not_active")
    return Forbidden("Only the librarian who claimed this chat can write in it.")


# --- The operator's loop: claim, end, close --------------------------------------------


@transaction.atomic
def chat_claim(*, chat_id: int, operator: Operator) -> Chat:
    """Claim Chat. Locks the chat row (select_for_update; on SQLite the IMMEDIATE
    transaction serialises writers): of several operators claiming at once exactly one
    wins; the others get AlreadyClaimed.

    A chat being transferred (active, with an open offer) is claimed the same way by
    the offer's receiver (chat.services.transfers.accept_locked, under the same row lock)."""
    chat = _lock_chat(chat_id)
    if chat.status == Chat.Status.ACTIVE:
        from chat.services import transfers

        offer = transfers.open_offer_locked(chat)
        if offer is not None:
            return transfers.accept_locked(chat=chat, offer=offer, operator=operator)
    if not selectors.operator_can_see_chat(operator, chat):
        raise Forbidden("That chat belongs to a department you are not in.")
    if chat.status != Chat.Status.WAITING:
        raise (
            AlreadyClaimed()
            if chat.status == Chat.Status.ACTIVE
            else Conflict("This chat has ended.", code="chat_ended")
        )
    now = timezone.now()
    chat.status = Chat.Status.ACTIVE
    chat.operator = operator
    chat.claimed_at = now
    Chat.objects.filter(pk=chat.pk).update(status=chat.status, operator=operator, claimed_at=now)
    _audit(
        chat, ChatAudit.Action.CLAIMED, actor=operator.user, to_operator=operator, outcome="claimed"
    )
    _append_message(
        chat, sender=Message.Sender.SYSTEM, body=f"{operator.public_name} has joined the chat."
    )
    events.broadcast_on_commit(
        [events.department_group(chat.department_id), events.chat_group(chat.pk)],
        events.chat_claimed(chat, operator),
        chat_pk=chat.pk,
    )
    _broadcast_queue(chat.department_id)
    return chat


@transaction.atomic
def chat_end(*, chat_id: int, by: str, operator: Operator | None = None) -> Chat:
    """End Chat, by the patron, the operator who has it, or the system.
    Ending an ended chat is a no-op (a retried frame must not fail)."""
    chat = _lock_chat(chat_id)
    if by == "operator":
        if operator is None or not selectors.operator_can_see_chat(operator, chat):
            raise Forbidden("That chat belongs to a department you are not in.")
        if chat.status == Chat.Status.ACTIVE and chat.operator_id != operator.pk:
            raise Forbidden("Only the librarian who claimed this chat can end it.")
    elif by not in ("patron", "system"):
        raise InvalidInput("Unknown actor.")
    if chat.status in (Chat.Status.ENDED, Chat.Status.CLOSED):
        return chat
    was_waiting = chat.status == Chat.Status.WAITING
    now = timezone.now()
    chat.status, chat.ended_at, chat.ended_by = Chat.Status.ENDED, now, by
    Chat.objects.filter(pk=chat.pk).update(status=chat.status, ended_at=now, ended_by=by)
    who = {"patron": "The patron", "operator": "The librarian", "system": "The desk"}[by]
    _append_message(chat, sender=Message.Sender.SYSTEM, body=f"{who} ended the chat.")
    _audit(chat, ChatAudit.Action.ENDED, actor=operator.user if operator else None, note=by)
    events.broadcast_on_commit(
        [events.chat_group(chat.pk), events.department_group(chat.department_id)],
        {"type": "chat.ended", "chat": str(chat.public_id), "by": by},
    )
    if was_waiting:
        _broadcast_queue(chat.department_id)
    return chat


@transaction.atomic
def chat_close(*, chat_id: int, operator: Operator) -> Chat:
    """Close Chat: the ended chat leaves the operator's dashboard. Idempotent."""
    chat = _lock_chat(chat_id)
    if not selectors.operator_can_see_chat(operator, chat):
        raise Forbidden("That chat belongs to a department you are not in.")
    if chat.status == Chat.Status.CLOSED:
        return chat
    if chat.status != Chat.Status.ENDED:
        raise Conflict("End the chat before closing it.", code="not_ended")
    if chat.operator_id and chat.operator_id != operator.pk:
        raise Forbidden("Only the librarian who had this chat can close it.")
    now = timezone.now()
    chat.status, chat.closed_at = Chat.Status.CLOSED, now
    Chat.objects.filter(pk=chat.pk).update(status=chat.status, closed_at=now)
    _audit(chat, ChatAudit.Action.CLOSED, actor=operator.user)
    events.broadcast_on_commit(
        [events.operator_group(operator.pk), events.chat_group(chat.pk)],
        {"type": "chat.closed", "chat": str(chat.public_id)},
    )
    return chat


# --- For other apps (tickets, analytics) -------------------------------------------------


@transaction.atomic
def chat_post_system_message(*, chat_id: int, body: str) -> Message:
    """A system line in a chat's transcript (e.g. "A ticket was created"), seen by the
    patron and staff alike. Works on ended chats too: the record stays complete."""
    body = _clean_body(body)
    chat = _lock_chat(chat_id)
    return _append_message(chat, sender=Message.Sender.SYSTEM, body=body)


# --- Email transcript (issue 6) -----------------------------------------------------------

TRANSCRIPT_AUDIT_ACTION = "transcript_emailed"


@transaction.atomic
def transcript_email_request(
    *, chat_id: int, email: str = "", requested_by: Operator | None = None
) -> str:
    """Email the chat's transcript to the patron (the dashboard's **Email transcript**, or
    the patron's "Email me this transcript" when ``requested_by`` is None: the caller
    has checked the patron's token).

    ``email``: empty means the address the patron gave; if they gave none, InvalidInput
    with code ``no_email`` (ask for one). An address given when the chat had none is
    stored on the chat. Writes an audit row and queues ``chat.tasks.email_transcript``
    on commit. At most ``TRANSCRIPT_EMAILS_PER_CHAT`` per chat (a patron's request must
    not become a way to send mail to anyone, again and again). Returns the address.
    """
    from chat import tasks

    chat = _lock_chat(chat_id)
    if requested_by is not None and not selectors.operator_can_see_chat(requested_by, chat):
        raise Forbidden("That chat belongs to a department you are not in.")
    email = (email if isinstance(email, str) else "").strip()[:254] or chat.patron_email
    if not email:
        raise InvalidInput(
            "The patron gave no email address: which address should the transcript go to?",
            code="no_email",
        )
    try:
        EmailValidator()(email)
    except ValidationError:
        raise InvalidInput("That email address does not look right.", code="bad_email") from None
    limit = _desk_setting("TRANSCRIPT_EMAILS_PER_CHAT")
    if ChatAudit.objects.filter(chat=chat, action=TRANSCRIPT_AUDIT_ACTION).count() >= limit:
        raise Conflict(
            "This transcript has already been emailed the most times allowed.",
            code="transcript_limit",
        )
    if not chat.patron_email:
        chat.patron_email = email
        Chat.objects.filter(pk=chat.pk).update(patron_email=email)
    _audit(
        chat,
        TRANSCRIPT_AUDIT_ACTION,
        actor=requested_by.user if requested_by else None,
        note=f"by {'operator' if requested_by else 'patron'} to {email}",
    )
    chat_pk = chat.pk
    transaction.on_commit(lambda: tasks.email_transcript.delay(chat_pk, email))
    return email


@transaction.atomic
def chat_set_patron_email(*, chat_id: int, email: str) -> Chat:
    """The patron's email address, given after the chat started (e.g. when a ticket
    needs somewhere to send its reply). Raises InvalidInput (code ``bad_email``)."""
    email = (email or "").strip()[:254]
    try:
        EmailValidator()(email)
    except ValidationError:
        raise InvalidInput("That email address does not look right.", code="bad_email") from None
    chat = _lock_chat(chat_id)
    if chat.patron_email != email:
        chat.patron_email = email
        Chat.objects.filter(pk=chat.pk).update(patron_email=email)
    return chat
