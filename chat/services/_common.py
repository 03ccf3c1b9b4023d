"""Helpers shared by the chat services: input cleaning, audit rows, appending a message
to a locked chat, the queue broadcast and the chat row lock."""

import contextlib
import functools
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from chat import events, selectors
from chat.exceptions import InvalidInput
from chat.models import (
    Chat,
    ChatAudit,
    Message,
)
from chat.text import check_text

CLIENT_ID_MAX = 64


def _desk_setting(name):
    return settings.LIBDESK[name]


def _clean_body(body) -> str:
    if not isinstance(body, str):
        raise InvalidInput(_("A message must be text."))
    body = check_text(body, "body").strip()
    if not body:
        raise InvalidInput(_("A message cannot be empty."), code="empty")
    limit = _desk_setting("MAX_MESSAGE_LENGTH")
    if len(body) > limit:
        raise InvalidInput(
            _("That message is too long (%(length)s characters; the limit is %(limit)s).")
            % {"length": len(body), "limit": limit},
            code="too_long",
        )
    return body


def _clean_client_id(client_id) -> str:
    if client_id is None:
        return ""
    if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX:
        raise InvalidInput(
            _("client_id must be a string of at most %(limit)s characters.")
            % {"limit": CLIENT_ID_MAX}
        )
    return check_text(client_id, "client_id")  # a form post (a file's) can carry NUL


def _clean_sent(body, client_id) -> tuple[str, str]:
    """A sent message's body and client id, checked (every live message has a client
    id: it makes a retry safe)."""
    body, client_id = _clean_body(body), _clean_client_id(client_id)
    if not client_id:
        raise InvalidInput(
            _("Every message needs a client_id (for safe retries)."), code="no_client_id"
        )
    return body, client_id


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


def _append_message(
    chat: Chat, *, sender, body, client_id="", operator=None, attachment=None
) -> Message:
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
        {
            "type": "message.new",
            "chat": str(chat.public_id),
            "message": events.message_payload(message),
        },
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


def chat_language(chat: Chat):
    """The chat's own language while its system lines are written (they are stored as
    text, in the patron's language: docs/protocol.md, "Languages")."""
    return translation.override(chat.language or settings.LANGUAGE_CODE)


def _lock_chat(chat_id) -> Chat:
    query = Chat.objects.select_for_update(of=("self",)).select_related(
        "department", "operator__user"
    )
    try:
        return query.get(pk=chat_id)
    except Chat.DoesNotExist:
        # PostgreSQL rechecks a row it waited for against the joined rows it first saw:
        # a chat whose department changed meanwhile (a transfer claimed) looks gone.
        # A new statement sees the committed row (and the lock is ours by now).
        return query.get(pk=chat_id)


class SeqTake(NamedTuple):
    """What a message's sequence number is taken on: the chat's status must be one of
    ``statuses``; with ``operator_id``, that operator must have the chat; with
    ``patron_limit`` (a patron's message), fewer than that many of the patron's
    messages may have been counted in ``minute`` (Unix time // 60), and this one is."""

    statuses: tuple
    operator_id: int | None = None
    patron_limit: int | None = None
    minute: int = 0

    def update_sql(self) -> str:
        """``UPDATE ... RETURNING`` the chat as far as a message needs it."""
        return _update_sql(
            len(self.statuses), self.operator_id is not None, self.patron_limit is not None
        )

    def params(self, chat_id) -> list:
        counted = self.patron_limit is not None
        params = [self.minute, self.minute] if counted else []
        params += [chat_id, *self.statuses]
        params += [self.operator_id] if self.operator_id is not None else []
        return params + ([self.minute, self.patron_limit] if counted else [])


@functools.cache
def _update_sql(statuses, with_operator, counted):
    qn = connection.ops.quote_name
    count = (
        # SET sees the row as it was: the count restarts in a new minute.
        ", patron_minute_messages = CASE WHEN patron_minute = %s"
        " THEN patron_minute_messages + 1 ELSE 1 END, patron_minute = %s"
    )
    return (
        f"UPDATE {qn(Chat._meta.db_table)} SET last_seq = last_seq + 1"
        + (count if counted else "")
        + f" WHERE id = %s AND status IN ({', '.join(['%s'] * statuses)})"
        + (" AND operator_id = %s" if with_operator else "")
        + (" AND (patron_minute <> %s OR patron_minute_messages < %s)" if counted else "")
        + f" RETURNING {', '.join(_SEQ_FIELDS)}"
    )


def _take_seq(chat_id, take: SeqTake) -> Chat | None:
    """The next sequence number of chat ``chat_id``, taken in one statement:
    ``UPDATE ... SET last_seq = last_seq + 1 ... RETURNING``, only if ``take``'s
    conditions hold.

    Precondition: inside a transaction. The UPDATE locks the row until the commit (on
    SQLite the IMMEDIATE transaction already serialises writers), so numbers are
    serialised per chat, and a rollback gives the number back (and the count). Returns
    the chat as far as a message needs it (id, public id, department, operator id,
    status, patron name, last_seq), or None when nothing matched (no lock is taken
    then)."""
    with connection.cursor() as cursor:
        cursor.execute(take.update_sql(), take.params(chat_id))
        row = cursor.fetchone()
    if row is None:
        return None
    return _chat_from_returned(list(row))


# What a numbered message needs of its chat, in the model's field order: ``from_db``
# takes values in that order (a name list only says which fields are loaded), so a
# RETURNING row in any other order would put one field's value in another (issue 15:
# the patron's name read the chat's status). The order is the model's, not written
# here, so a field moved in the model cannot swap them again.
_SEQ_FIELD_NAMES = frozenset(
    {"id", "public_id", "department_id", "operator_id", "status", "patron_name", "last_seq"}
)
_SEQ_FIELDS = [f.attname for f in Chat._meta.concrete_fields if f.attname in _SEQ_FIELD_NAMES]
_PUBLIC_ID = Chat._meta.get_field("public_id")


_PUBLIC_ID_AT = _SEQ_FIELDS.index("public_id")


def _chat_from_returned(values: list, alias: str | None = None) -> Chat:
    """The chat as far as a message needs it, from ``_SEQ_FIELDS``' values as a
    RETURNING clause gave them (the other fields deferred: reading one costs a query,
    and none on the hot path does)."""
    values[_PUBLIC_ID_AT] = _PUBLIC_ID.to_python(values[_PUBLIC_ID_AT])  # SQLite: hex text
    return Chat.from_db(alias or connection.alias, _SEQ_FIELDS, values)


def _append_in_one_statement(
    chat_id, take: SeqTake, *, sender, operator, client_id, body
) -> Message | None:
    """PostgreSQL: take the chat's next sequence number and store the message in one
    statement (``_take_seq``'s UPDATE, and an ``INSERT ... SELECT`` from what it
    returned, as data-modifying CTEs), so a message costs one round trip instead of
    BEGIN, UPDATE, INSERT and COMMIT. Under the hot path's load the database threads
    spent most of their time waiting on those round trips, holding the chat's row lock
    across them.

    The statement is atomic: a client id already stored (a retry, or two sends of one
    id at once: the second waits for the first's row lock, then its INSERT fails)
    raises IntegrityError and gives the number (and the count) back, as does any other
    failure. Returns the message (its ``chat`` as ``_take_seq`` returns it), or None
    when the chat did not match (nothing written)."""
    created_at = timezone.now()
    params = take.params(chat_id)
    params += [sender, operator.pk if operator is not None else None, client_id, body, created_at]
    with _statement_transaction(), _statement_cursor() as cursor:
        cursor.execute(_one_statement_sql(take.update_sql()), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return _stored_message(row, sender=sender, operator=operator, client_id=client_id, body=body)


def _statement_cursor():
    """A cursor for the message path's numbering statements (one text per shape: the
    single send's few, the batch's one per size). On PostgreSQL it binds parameters on
    the server, so psycopg prepares each shape once a connection has run it
    ``prepare_threshold`` times (5; the socket threads keep their connections) and
    PostgreSQL stops parsing and planning it for every message. Django's own cursors
    bind on the client: every statement arrives as new text. ``DB_PREPARE_MESSAGE_STATEMENTS=0``
    turns it off (a PgBouncer older than 1.21 in transaction mode cannot keep prepared
    statements)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg  # only on PostgreSQL

    # What Django's connection.cursor() does around create_cursor(), with psycopg's
    # plain (server-binding) cursor instead of Django's ClientCursor.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:  # DB_PREPARE_MESSAGE_STATEMENTS=0
            return connection.cursor()
        raw = psycopg.Cursor(connection.connection)
        tzloader = connection.connection.adapters.get_loader(1184, psycopg.pq.Format.TEXT)
        if connection.timezone != tzloader.timezone:
            from django.db.backends.postgresql.psycopg_any import register_tzloader

            register_tzloader(connection.timezone, raw)
        return connection._prepare_cursor(raw)


def _statement_transaction():
    """Around a statement that numbers and stores messages: in autocommit the statement
    is its own transaction; inside a caller's, a savepoint, so that a retry's
    IntegrityError leaves the caller's transaction usable."""
    return transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()


# The message's concrete fields, in the model's order: from_db's positional fast path.
_MESSAGE_FIELDS = [f.attname for f in Message._meta.concrete_fields]


def _stored_message(row, *, sender, operator, client_id, body, alias=None) -> Message:
    """The message a numbering statement stored, from its row: the chat's
    ``_SEQ_FIELDS``, then the message's id and time. Built as a loaded row is
    (``from_db`` with every field, positionally: keyword arguments cost Django's
    ``Model.__init__`` a third more), its chat and operator cached on it."""
    alias = alias or connection.alias
    n = len(_SEQ_FIELDS)
    chat = _chat_from_returned(list(row[:n]), alias)
    values = {
        "id": row[n],
        "chat_id": chat.pk,
        "seq": chat.last_seq,
        "sender": sender,
        "operator_id": operator.pk if operator is not None else None,
        "client_id": client_id,
        "body": body,
        "created_at": row[n + 1],
    }
    message = Message.from_db(alias, _MESSAGE_FIELDS, [values[f] for f in _MESSAGE_FIELDS])
    message.chat = chat
    Message.operator.field.set_cached_value(message, operator)
    return message


@functools.cache
def _one_statement_sql(update_sql):
    """``_append_in_one_statement``'s SQL around ``update_sql`` (built once: the same
    few texts on every message)."""
    qn = connection.ops.quote_name
    columns, casts = [], []
    for name in ("sender", "operator", "client_id", "body", "created_at"):
        field = Message._meta.get_field(name)
        columns.append(qn(field.column))
        casts.append(f"%s::{field.cast_db_type(connection)}")
    chat_column = qn(Message._meta.get_field("chat").column)
    seq_column = qn(Message._meta.get_field("seq").column)
    returned = ", ".join(f"taken.{qn(f)}" for f in _SEQ_FIELDS)
    inserted = ", ".join([chat_column, seq_column, *columns])
    return (
        f"WITH taken AS ({update_sql}),"
        f" stored AS (INSERT INTO {qn(Message._meta.db_table)} ({inserted})"
        f" SELECT id, last_seq, {', '.join(casts)} FROM taken RETURNING id, created_at)"
        f" SELECT {returned}, stored.id, stored.created_at FROM taken, stored"
    )
