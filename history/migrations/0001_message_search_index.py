"""The word index over chat messages, for Chat History's search (history.search).

PostgreSQL: a GIN expression index on to_tsvector('english', body) (angle brackets read
as spaces: the parser would take "<maps>" for a tag and index nothing of it); the
search's WHERE clause spells the same expression, so the planner uses it.

SQLite (the embedded default): an FTS5 table with external content (the rows stay in
chat_message; the index holds only the words), kept in step by triggers on
chat_message, so every write path (the ORM, the one-statement send, bulk loads) is
indexed without knowing about it. Messages already stored are indexed here.
"""

from django.db import migrations

POSTGRES_CREATE = (
    "CREATE INDEX IF NOT EXISTS history_message_words "
    "ON chat_message USING GIN (to_tsvector('english', translate(body, '<>', '  ')))"
)
POSTGRES_DROP = "DROP INDEX IF EXISTS history_message_words"

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS history_message_fts USING fts5("
    "body, content='chat_message', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS history_message_fts_insert AFTER INSERT ON chat_message "
    "BEGIN INSERT INTO history_message_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS history_message_fts_delete AFTER DELETE ON chat_message "
    "BEGIN INSERT INTO history_message_fts(history_message_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS history_message_fts_update AFTER UPDATE OF body "
    "ON chat_message BEGIN "
    "INSERT INTO history_message_fts(history_message_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); "
    "INSERT INTO history_message_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO history_message_fts(history_message_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS history_message_fts_insert",
    "DROP TRIGGER IF EXISTS history_message_fts_delete",
    "DROP TRIGGER IF EXISTS history_message_fts_update",
    "DROP TABLE IF EXISTS history_message_fts",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("chat", "0006_patron_minute")]

    operations = [migrations.RunPython(create, drop)]
