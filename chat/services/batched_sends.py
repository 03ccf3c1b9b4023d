"""``message_send`` for several chats at once: one statement stores them all.

Under load the desk's cost per message is PostgreSQL's: each message is one statement
(``_append_in_one_statement``: take the chat's next number under its row lock, store
the message), and a statement's fixed cost (parsing, planning, starting the executor,
the round trip, the commit) is most of it. When several sends are waiting for a
database thread at once (``chat.consumers.sends.SendBatches`` collects them), they go as
one statement: each chat's row is updated and each message inserted as before, with
the same conditions per message, so what is stored and refused is what one
``message_send`` each would store and refuse. Measured with pgbench on this machine:
eight messages in one statement cost about as much PostgreSQL CPU as three alone.

Anything the one statement cannot settle goes through ``message_send`` alone, which
gives its exact answer: a message it refused (ended chat, not the librarian's chat,
the patron's limit: the statement leaves it out), and every message of a statement
that failed as a whole (a retried client id already stored, or two batches that
locked the same chats crosswise). Those are the rare paths; the result is the same.
"""

import contextlib
import functools

from django.db import DatabaseError, connection
from django.utils import timezone, translation

from chat.exceptions import DeskError
from chat.models import Chat, Message
from chat.services import chats
from chat.services._common import (
    _SEQ_FIELDS,
    _clean_sent,
    _statement_cursor,
    _statement_transaction,
    _stored_message,
)


def messages_send(requests: list[dict]) -> list:
    """``chats.message_send(**request)`` for each of ``requests``, whose chats are all
    different: on PostgreSQL the messages that can be stored are stored by one statement.
    Returns, in order, ``(message, created)`` or the exception that request got (a
    DeskError, or a database error that ``message_send`` alone would have raised)."""
    if len({request["chat_id"] for request in requests}) != len(requests):
        raise ValueError("One message per chat: a chat's messages take their numbers in turn.")
    results: list = [None] * len(requests)
    # Each request's refusal is worded in its own socket's language (a batch serves
    # sockets of several languages): ``language``, set by the consumer's SendBatches.
    languages = [request.pop("language", None) for request in requests]
    pending = []  # (index, request, SeqTake) to store in one statement
    for i, request in enumerate(requests):
        try:
            body, client_id, take = _checked(request)
        except DeskError as error:
            results[i] = _worded(error, request, languages[i])
            continue
        pending.append((i, {**request, "body": body, "client_id": client_id}, take))
    if connection.vendor == "postgresql" and len(pending) > 1:
        try:
            for i, message in _append_many(pending):
                chats._broadcast_stored(message)
                results[i] = (message, True)
        except DatabaseError:
            pass  # e.g. a retried client id: each goes alone below, and gets its answer
    for i, request in enumerate(requests):
        if results[i] is None:
            try:
                with _language(languages[i]):
                    results[i] = chats.message_send(**request)
            except Exception as error:  # this request's answer (a DeskError, the database down…)
                results[i] = error
    return results


def _checked(request):
    body, client_id = _clean_sent(request["body"], request["client_id"])
    return body, client_id, chats._seq_take(request["sender"], request.get("operator"))


def _worded(error: DeskError, request, language) -> DeskError:
    """``error`` in ``language``: the request checked again with it active (activating
    a language costs more than the checks, so only a refused request pays for it)."""
    if not language:
        return error
    try:
        with _language(language):
            _checked(request)
    except DeskError as worded:
        return worded
    return error


def _language(code):
    return translation.override(code) if code else contextlib.nullcontext()


def _append_many(pending) -> list[tuple[int, Message]]:
    """Store ``pending`` ((index, request, SeqTake), distinct chats) in one statement:
    ``_append_in_one_statement`` for each, as data-modifying CTEs over the messages
    passed as one array per column (``_MANY_SQL``). Returns (index, message) for each
    message stored; a message whose conditions failed is left out (nothing written for
    it). Atomic: it raises, having written nothing, if any message could not be
    inserted."""
    created_at = timezone.now()
    columns = [[] for _ in _MANY_COLUMNS]
    # In chat order: the rows are locked in the order of the arrays, so that two
    # batches of the same chats never lock them crosswise.
    for i, request, take in sorted(pending, key=lambda p: p[1]["chat_id"]):
        operator = request.get("operator")
        # The statuses it may be sent in, always two (s1, s2): one is repeated.
        statuses = (*take.statuses, take.statuses[-1])[:2]
        row = (
            i,
            request["chat_id"],
            *statuses,
            take.operator_id,
            take.patron_limit,
            take.minute,
            request["sender"],
            operator.pk if operator is not None else None,
            request["client_id"],
            request["body"],
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    with _statement_transaction(), _statement_cursor() as cursor:
        cursor.execute(_many_sql(), [*columns, created_at])
        rows = cursor.fetchall()
    by_index = {request_index: request for request_index, request, _t in pending}
    stored = []
    alias = connection.alias  # looked up once: each lookup goes through a thread-local
    for i, *row in rows:
        request = by_index[i]
        message = _stored_message(
            row,
            sender=request["sender"],
            operator=request.get("operator"),
            client_id=request["client_id"],
            body=request["body"],
            alias=alias,
        )
        stored.append((i, message))
    return stored


# The batch's columns (name, SQL type; the message's from its fields), one array each.
_MANY_COLUMNS = [
    ("i", "int"),
    ("chat_id", "bigint"),
    ("s1", "varchar(16)"),
    ("s2", "varchar(16)"),
    ("op", "bigint"),
    ("lim", "int"),
    ("minute", "bigint"),
    ("m_sender", "sender"),
    ("m_operator", "operator"),
    ("m_client_id", "client_id"),
    ("m_body", "body"),
]


@functools.cache
def _many_sql() -> str:
    """The statement for any number of messages: one text whatever the batch's size, so
    that psycopg parses it once (it re-parsed the VALUES list of a big batch, a text too
    long for its cache, on every call: 8-12% of a busy Daphne's CPU) and prepares it
    once per connection, and PostgreSQL plans it once."""
    qn = connection.ops.quote_name
    chat_table, message_table = qn(Chat._meta.db_table), qn(Message._meta.db_table)
    message_fields = {f.name: f for f in Message._meta.concrete_fields}
    arrays = []
    for _name, cast in _MANY_COLUMNS:
        if cast in message_fields:
            cast = message_fields[cast].cast_db_type(connection)
        arrays.append(f"%s::{cast}[]")
    names = ", ".join(name for name, _cast in _MANY_COLUMNS)
    created_at = Message._meta.get_field("created_at").cast_db_type(connection)
    returned = ", ".join(f"c.{qn(f)}" for f in _SEQ_FIELDS)
    message_columns = ["sender", "operator", "client_id", "body", "created_at"]
    inserted = ", ".join(
        qn(Message._meta.get_field(name).column) for name in ["chat", "seq", *message_columns]
    )
    counted = "r.lim IS NOT NULL"
    return (
        f"WITH r ({names}) AS (SELECT * FROM unnest({', '.join(arrays)})),"
        f" taken AS (UPDATE {chat_table} c SET last_seq = c.last_seq + 1,"
        # As _update_sql counts a patron's messages per minute (SET sees the row as it was).
        f" patron_minute_messages = CASE WHEN NOT ({counted}) THEN c.patron_minute_messages"
        " WHEN c.patron_minute = r.minute THEN c.patron_minute_messages + 1 ELSE 1 END,"
        f" patron_minute = CASE WHEN {counted} THEN r.minute ELSE c.patron_minute END"
        " FROM r WHERE c.id = r.chat_id AND c.status IN (r.s1, r.s2)"
        " AND (r.op IS NULL OR c.operator_id = r.op)"
        f" AND (NOT ({counted}) OR c.patron_minute <> r.minute OR c.patron_minute_messages < r.lim)"
        f" RETURNING r.i, {returned}),"
        f" stored AS (INSERT INTO {message_table} ({inserted})"
        f" SELECT t.id, t.last_seq, r.m_sender, r.m_operator, r.m_client_id, r.m_body,"
        f" %s::{created_at}"
        " FROM taken t JOIN r ON r.i = t.i RETURNING id, chat_id, created_at)"
        " SELECT t.*, s.id, s.created_at FROM taken t JOIN stored s ON s.chat_id = t.id"
    )
