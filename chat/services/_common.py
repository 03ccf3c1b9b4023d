"""Helpers shared by the chat services: input cleaning, audit rows, appending a message
to a locked chat, the queue broadcast and the chat row lock."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

from chat import events, selectors
from chat.exceptions import InvalidInput
from chat.models import (
    Chat,
    ChatAudit,
    Message,
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
    ``attachment``: an unlinked chat.Attachment this message carries (chat.services.attachments)."""
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


def _take_seq(chat_id, *, statuses, operator_id=None) -> Chat | None:
    """The next sequence number of chat ``chat_id``, taken in one statement:
    ``UPDATE ... SET last_seq = last_seq + 1 ... RETURNING``, only if the chat's status
    is one of ``statuses`` (and, with ``operator_id``, only if that operator has it).

    Precondition: inside a transaction. The UPDATE locks the row until the commit (on
    SQLite the IMMEDIATE transaction already serialises writers), so numbers are
    serialised per chat, and a rollback gives the number back. Returns the chat as
    far as a message needs it (id, public id, department, operator id, status, patron
    name, last_seq), or None when nothing matched (no lock is taken then)."""
    table = connection.ops.quote_name(Chat._meta.db_table)
    placeholders = ", ".join(["%s"] * len(statuses))
    sql = (
        f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s AND status IN ({placeholders})"
        + (" AND operator_id = %s" if operator_id is not None else "")
        + f" RETURNING {', '.join(_SEQ_FIELDS)}"
    )
    params = [chat_id, *statuses] + ([operator_id] if operator_id is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    row[1] = Chat._meta.get_field("public_id").to_python(row[1])  # SQLite: hex text
    # The other fields are deferred: reading one costs a query (none on this path).
    return Chat.from_db(connection.alias, _SEQ_FIELDS, row)


_SEQ_FIELDS = [
    "id", "public_id", "department_id", "operator_id", "status", "patron_name", "last_seq"
]
