"""Word search over chat messages, one selector over two engines.

PostgreSQL: ``to_tsvector('english', body) @@ plainto_tsquery('english', words)``,
the very expression of the GIN index made in history's migration 0001, so the planner
reads the index. SQLite (the embedded default): the FTS5 table that migration keeps in
step by triggers, ``rowid IN (SELECT rowid … MATCH …)``.

Both take what a person types: plainto_tsquery accepts any text; for FTS5 each
word is quoted (no operators reach MATCH, so no input can be a syntax error).

``highlight`` marks the words in a snippet for display: each piece of patron text is
escaped on its own and only our <mark> tags are added, so text stays text.
"""

import re

from django.db import connection
from django.db.models import BooleanField, F, Func, Value
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WORD = re.compile(r"\w+", re.UNICODE)
SNIPPET_CHARS = 220


def _storable(text: str) -> str:
    """``text`` without what no database takes (lone surrogates; NUL on PostgreSQL)."""
    return (text or "").encode("utf-8", "ignore").decode("utf-8").replace("\x00", " ")


def words_of(text: str) -> list[str]:
    """The words searched for (at most 16)."""
    return WORD.findall(_storable(text))[:16]


class _PostgresWordsMatch(Func):
    """``body @@ words``, spelled as the GIN index of history's migration 0001 is.
    translate(): PostgreSQL's parser reads "<maps>" as an HTML tag and indexes no word
    of it; patron text is text, so angle brackets are spaces, in the index and here."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        body, words = (compiler.compile(expression) for expression in self.source_expressions)
        sql = (
            f"(to_tsvector('english'::regconfig, translate({body[0]}, '<>', '  ')) "
            f"@@ plainto_tsquery('english'::regconfig, {words[0]}))"
        )
        return sql, (*body[1], *words[1])


class _SqliteWordsMatch(Func):
    output_field = BooleanField()
    template = "(%(expressions)s))"
    arg_joiner = " IN (SELECT rowid FROM history_message_fts WHERE history_message_fts MATCH "


def fts5_query(text: str) -> str:
    """Every word quoted, all required (FTS5's implicit AND)."""
    return " ".join(f'"{word}"' for word in words_of(text))


def message_matches(text: str):
    """A boolean expression for a Message queryset: the message contains the words of
    ``text``. None when ``text`` has no words."""
    if not words_of(text):
        return None
    if connection.vendor == "postgresql":
        # The text as typed: PostgreSQL's own parser splits it as it split the messages
        # ("1.00", "e-mail" stay one word), every word required, no operators.
        typed = _storable(text)[:500].replace("<", " ").replace(">", " ")
        return _PostgresWordsMatch(F("body"), Value(typed))
    return _SqliteWordsMatch(F("id"), Value(fts5_query(text)))


def _stems(text: str) -> list[str]:
    # A rough English stem (what both engines match): "atlases" finds "atlas", so mark
    # every word that starts like a searched word, less its common endings.
    stems = []
    for word in words_of(text):
        stem = word.lower()
        for ending in ("ies", "es", "s", "ing", "ed"):
            if len(stem) > len(ending) + 2 and stem.endswith(ending):
                stem = stem[: -len(ending)]
                break
        stems.append(stem)
    return sorted(set(stems), key=len, reverse=True)


def _window(body: str, stems: list[str]) -> str:
    """The part of ``body`` around its first searched word, at most SNIPPET_CHARS."""
    lowered = body.lower()
    positions = [lowered.find(stem) for stem in stems if lowered.find(stem) >= 0]
    if len(body) <= SNIPPET_CHARS:
        return body
    start = max(0, min(positions) - SNIPPET_CHARS // 3) if positions else 0
    piece = body[start : start + SNIPPET_CHARS]
    return ("…" if start else "") + piece + ("…" if start + SNIPPET_CHARS < len(body) else "")


def highlight(body: str, text: str) -> SafeString:
    """``body`` (patron or staff text), cut around the searched words, escaped, with
    each word that begins with a searched word's stem in <mark>."""
    body = body or ""
    stems = _stems(text)
    snippet = _window(body, stems)
    if not stems:
        return escape(snippet)
    marked = []
    last = 0
    for match in WORD.finditer(snippet):
        if any(match.group().lower().startswith(stem) for stem in stems):
            marked.append(escape(snippet[last : match.start()]))
            marked.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    marked.append(escape(snippet[last:]))
    return mark_safe("".join(marked))  # noqa: S308 - every piece above is escaped


class _InArrayOf(Func):
    """``pk = ANY(ARRAY(subquery))`` on PostgreSQL: the subquery runs once, first (an
    InitPlan), and its ids are looked up by primary key. Written so because an ``IN``
    semi-join lets the planner walk every chat newest first and test each (seconds at
    100,000 chats for a word in a few hundred messages)."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        (lhs, lhs_params), (sub, sub_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        if connection.vendor == "postgresql":
            return f"({lhs} = ANY(ARRAY({sub})))", (*lhs_params, *sub_params)
        return f"({lhs} IN ({sub}))", (*lhs_params, *sub_params)


def id_in(column, subquery):
    from django.db.models import Subquery

    return _InArrayOf(F(column), Subquery(subquery))
