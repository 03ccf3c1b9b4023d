"""Every state change of the chat desk: one function each, in a transaction.

Views, consumers, admin actions and tasks call these; they never save chat models
themselves. Events leave only through ``chat.events.broadcast_on_commit``.
"""

import secrets
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import events, ratelimit, selectors
from chat.exceptions import AlreadyClaimed, Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from chat.models import (
    CannedMessage,
    Chat,
    ChatAudit,
    Department,
    Message,
    Operator,
    OperatorConnection,
    hash_token,
)

CLIENT_ID_MAX = 64


def _desk_setting(name):
    return settings.LIBDESK[name]


def _clean_body(body) -> str:
    if not isinstance(body, str):
        raise InvalidInput("A message must be text.")
    body = body.strip()
    if not body:
        raise InvalidInput("A message cannot be empty.", code="empty")
    limit = _desk_setting("MAX_MESSAGE_LENGTH")
    if len(body) > limit:
        raise InvalidInput(
            f"That message is too long ({len(body)} characters; the limit is {limit}).",
            code="too_long",
        )
    return body


def _clean_client_id(client_id) -> str:
    if client_id is None:
        return ""
    if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX:
        raise InvalidInput(f"client_id must be a string of at most {CLIENT_ID_MAX} characters.")
    return client_id


def strip_query(url: str) -> str:
    """The page a patron came from, without query string or fragment (privacy)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:500]


def _audit(
    chat,
    action,
    *,
    actor=None,
    from_operator=None,
    to_operator=None,
    note="",
    to_department=None,
    outcome="",
):
    ChatAudit.objects.create(
        chat=chat,
        action=action,
        actor=actor,
        from_operator=from_operator,
        to_operator=to_operator,
        note=note[:500],
        to_department=to_department,
        outcome=outcome,
    )


def _append_message(chat: Chat, *, sender, body, client_id="", operator=None, attachment=None) -> Message:
    """Precondition: ``chat`` was locked (select_for_update) in this transaction.
    ``attachment``: an unlinked chat.Attachment this message carries (chat.attachments)."""
    chat.last_seq += 1
    Chat.objects.filter(pk=chat.pk).update(last_seq=chat.last_seq)
    message = Message.objects.create(
        chat=chat,
        seq=chat.last_seq,
        sender=sender,
        operator=operator,
        client_id=client_id,
        body=body,
    )
    message.chat = chat
    if attachment is not None:
        attachment.message = message
        attachment.save(update_fields=["message"])
    Message.attachment.related.set_cached_value(message, attachment)
    events.broadcast_on_commit(
        events.chat_group(chat.pk),
        {"type": "message.new", "chat": str(chat.public_id), "message": events.message_payload(message)},
        chat_pk=chat.pk,
    )
    return message


def _broadcast_queue(department_id: int) -> None:
    waiting = selectors.waiting_chat_ids(department_id)
    events.broadcast_on_commit(
        events.department_queue_group(department_id),
        {
            "type": "queue.changed",
            "department": department_id,
            "waiting": waiting,
            "estimated_wait": selectors.estimated_wait_seconds(department_id),
        },
    )


def _lock_chat(chat_id) -> Chat:
    query = Chat.objects.select_for_update(of=("self",)).select_related("department", "operator__user")
    try:
        return query.get(pk=chat_id)
    except Chat.DoesNotExist:
        # PostgreSQL rechecks a row it waited for against the joined rows it first saw:
        # a chat whose department changed meanwhile (a transfer claimed) looks gone.
        # A new statement sees the committed row (and the lock is ours by now).
        return query.get(pk=chat_id)


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
) -> tuple[Chat, str]:
    """A patron asks a question: a new waiting chat with the question as message 1.

    Returns the chat and the patron's token, which is shown only this once (the
    database keeps its digest).
    """
    if not department.is_active:
        raise InvalidInput("This department is not taking chats.", code="department_inactive")
    body = _clean_body(question)
    client_id = _clean_client_id(client_id)
    patron_name = (patron_name or "").strip()[:80]
    patron_email = (patron_email or "").strip()[:254]
    if patron_email:
        try:
            EmailValidator()(patron_email)
        except ValidationError:
            raise InvalidInput("That email address does not look right.", code="bad_email") from None
    token = secrets.token_urlsafe(32)
    chat = Chat.objects.create(
        department=department,
        patron_token_digest=hash_token(token),
        patron_name=patron_name,
        patron_email=patron_email,
        page_url=strip_query(page_url),
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
    message already stored (``created`` False) and broadcasts nothing. Locks the chat
    row, which serialises sequence numbers per chat.
    """
    body = _clean_body(body)
    client_id = _clean_client_id(client_id)
    if not client_id:
        raise InvalidInput("Every message needs a client_id (for safe retries).", code="no_client_id")
    try:
        return _message_send(chat_id=chat_id, body=body, client_id=client_id, sender=sender, operator=operator)
    except IntegrityError:
        # Two concurrent sends of one client id: the other one won; return its row.
        existing = Message.objects.select_related("chat", "operator__user").get(
            chat_id=chat_id, client_id=client_id
        )
        return existing, False


@transaction.atomic
def _message_send(*, chat_id, body, client_id, sender, operator):
    chat = _lock_chat(chat_id)
    existing = (
        Message.objects.select_related("operator__user").filter(chat=chat, client_id=client_id).first()
    )
    if existing is not None:
        existing.chat = chat
        # Sent again: the first send may have been stored but never broadcast (a process
        # killed after the commit, Redis down). Broadcast it again; every consumer drops
        # a seq its socket already sent, so nobody sees it twice.
        events.broadcast_on_commit(
            events.chat_group(chat.pk),
            {"type": "message.new", "chat": str(chat.public_id), "message": events.message_payload(existing)},
            chat_pk=chat.pk,
        )
        return existing, False
    if sender == Message.Sender.PATRON:
        if chat.status not in (Chat.Status.WAITING, Chat.Status.ACTIVE):
            raise Conflict("This chat has ended.", code="chat_ended")
        limit = settings.LIBDESK_LIMITS["PATRON_MESSAGES_PER_MINUTE"]
        if not ratelimit.allow("patron-msg", str(chat.pk), limit=limit, window_seconds=60):
            raise RateLimited(
                f"You can send up to {limit} messages a minute. Please wait a moment; "
                "your message was not sent."
            )
    elif sender == Message.Sender.OPERATOR:
        if chat.status != Chat.Status.ACTIVE:
            raise Conflict("This chat is not active.", code="chat_not_active")
        if operator is None or chat.operator_id != operator.pk:
            raise Forbidden("Only the librarian who claimed this chat can write in it.")
    else:
        raise InvalidInput("Unknown sender.")
    message = _append_message(chat, sender=sender, body=body, client_id=client_id, operator=operator)
    return message, True


# --- The operator's loop: claim, end, close --------------------------------------------


@transaction.atomic
def chat_claim(*, chat_id: int, operator: Operator) -> Chat:
    """Claim Chat. Locks the chat row (select_for_update; on SQLite the IMMEDIATE
    transaction serialises writers): of several operators claiming at once exactly one
    wins; the others get AlreadyClaimed.

    A chat being transferred (active, with an open offer) is claimed the same way by
    the offer's receiver (chat.transfers.accept_locked, under the same row lock)."""
    chat = _lock_chat(chat_id)
    if chat.status == Chat.Status.ACTIVE:
        from chat import transfers

        offer = transfers.open_offer_locked(chat)
        if offer is not None:
            return transfers.accept_locked(chat=chat, offer=offer, operator=operator)
    if not selectors.operator_can_see_chat(operator, chat):
        raise Forbidden("That chat belongs to a department you are not in.")
    if chat.status != Chat.Status.WAITING:
        raise AlreadyClaimed() if chat.status == Chat.Status.ACTIVE else Conflict(
            "This chat has ended.", code="chat_ended"
        )
    now = timezone.now()
    chat.status = Chat.Status.ACTIVE
    chat.operator = operator
    chat.claimed_at = now
    Chat.objects.filter(pk=chat.pk).update(status=chat.status, operator=operator, claimed_at=now)
    _audit(chat, ChatAudit.Action.CLAIMED, actor=operator.user, to_operator=operator, outcome="claimed")
    _append_message(chat, sender=Message.Sender.SYSTEM, body=f"{operator.public_name} has joined the chat.")
    claimed = {"type": "chat.claimed", "chat": str(chat.public_id), "operator": events.operator_ref(operator)}
    events.broadcast_on_commit(
        [events.department_group(chat.department_id), events.chat_group(chat.pk)], claimed, chat_pk=chat.pk
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


# --- Presence -------------------------------------------------------------------------


def _broadcast_presence(operator: Operator, reason: str = "") -> None:
    payload = selectors.presence_payload(operator)
    if reason:
        payload["reason"] = reason
    events.broadcast_on_commit(events.STAFF_GROUP, {"type": "presence.changed", **payload})
    # Widgets watching a department follow it live (chat.presence, issue 4).
    from chat import presence

    presence.broadcast_department_presence()


@transaction.atomic
def presence_set(*, operator: Operator, status: str, reason: str = "") -> Operator:
    """The operator chooses Online, Away or Offline on the dashboard (``reason`` empty),
    or the desk changes it (``reason``: "idle", "shift_end", "disconnected")."""
    if status not in Operator.Status.values:
        raise InvalidInput("Status must be online, away or offline.")
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


@transaction.atomic
def connection_open(*, operator: Operator, channel_name: str) -> None:
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
    connection = OperatorConnection.objects.select_related("operator").filter(channel_name=channel_name).first()
    if connection is None:
        return
    connection.delete()
    _broadcast_presence(connection.operator)


@transaction.atomic
def presence_reconcile(*, operator_id: int) -> Operator:
    """After the grace period: an operator with no live dashboard goes Offline."""
    operator = Operator.objects.select_for_update(of=("self",)).select_related("user").get(pk=operator_id)
    stale_before = timezone.now() - timedelta(seconds=3 * _desk_setting("HEARTBEAT_SECONDS"))
    OperatorConnection.objects.filter(operator=operator, last_seen__lt=stale_before).delete()
    if operator.status != Operator.Status.OFFLINE and not operator.connections.exists():
        presence_set(operator=operator, status=Operator.Status.OFFLINE, reason="disconnected")
    return operator


# --- Staff sessions ----------------------------------------------------------------------


def staff_sessions_end(*, user_id: int, reason: str, session_key: str | None = None) -> None:
    """Close the user's open dashboard sockets: the one of ``session_key`` (logout), or
    all of them (password change, deactivation). Sent on commit of the change."""
    digest = events.session_digest(session_key) if session_key else None
    events.broadcast_on_commit(
        events.user_group(user_id), {"type": "session.ended", "reason": reason, "session": digest}
    )


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


# --- Canned messages -------------------------------------------------------------------


def _check_canned(canned: CannedMessage) -> None:
    for name in ("title", "shortcut", "body"):
        value = getattr(canned, name)
        if not isinstance(value, str):
            raise InvalidInput(f"The {name} must be text.")
        setattr(canned, name, value.strip())
    limit = _desk_setting("MAX_MESSAGE_LENGTH")
    if len(canned.body) > limit:
        raise InvalidInput(
            f"That body is too long ({len(canned.body)} characters; the limit is {limit}).",
            code="too_long",
        )
    try:
        canned.full_clean(exclude=["created_at", "updated_at"])
    except ValidationError as error:
        messages = [
            message for field_messages in error.message_dict.values() for message in field_messages
        ]
        raise InvalidInput(" ".join(messages), code="invalid_canned") from None


@transaction.atomic
def canned_message_save(*, canned: CannedMessage) -> CannedMessage:
    """The one write path of a canned message (admin, dashboard, demo data): validates
    placeholders, shortcut and scope, then creates or updates it."""
    _check_canned(canned)
    if canned.pk is None:
        canned.save()
    else:
        canned.save(
            update_fields=[
                "scope", "department", "operator", "title", "shortcut", "body", "updated_at"
            ]
        )
    return canned


@transaction.atomic
def canned_message_delete(*, canned: CannedMessage) -> None:
    CannedMessage.objects.filter(pk=canned.pk).delete()


def _own_canned(operator: Operator, canned_id) -> CannedMessage:
    """Precondition: inside a transaction. Locks the row; only its owner gets it."""
    try:
        canned = CannedMessage.objects.select_for_update().get(pk=int(canned_id))
    except (CannedMessage.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such canned message.") from None
    if canned.scope != CannedMessage.Scope.PERSONAL or canned.operator_id != operator.pk:
        raise Forbidden("You can change only your own personal canned messages.")
    return canned


@transaction.atomic
def canned_personal_create(
    *, operator: Operator, title: str, body: str, shortcut: str = ""
) -> CannedMessage:
    """An operator adds a canned message of their own (from the dashboard)."""
    canned = CannedMessage(
        scope=CannedMessage.Scope.PERSONAL,
        operator=operator,
        title=title,
        body=body,
        shortcut=shortcut,
    )
    return canned_message_save(canned=canned)


@transaction.atomic
def canned_personal_update(
    *, operator: Operator, canned_id: int, title: str, body: str, shortcut: str = ""
) -> CannedMessage:
    """An operator edits one of their own personal canned messages; anyone else's (or a
    department's or global one) is refused with Forbidden."""
    canned = _own_canned(operator, canned_id)
    canned.title, canned.body, canned.shortcut = title, body, shortcut
    return canned_message_save(canned=canned)


@transaction.atomic
def canned_personal_delete(*, operator: Operator, canned_id: int) -> None:
    canned = _own_canned(operator, canned_id)
    canned_message_delete(canned=canned)


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
