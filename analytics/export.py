"""CSV export of Reference Analytics entries, streamed.

The column names are a published interface (docs/analytics-csv.md): add columns at
the end, never rename or reorder. Rows come from the database in chunks
(``iterator(chunk_size=…)``) as plain tuples, so memory stays flat whatever the range.
"""

import csv
from itertools import islice

from asgiref.sync import sync_to_async
from django.db.models import BooleanField, Case, F, TextField, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

COLUMNS = [
    ("id", F("id")),
    ("occurred_at", F("occurred_at")),
    ("recorded_at", F("recorded_at")),
    ("staff", F("staff__username")),
    ("department", F("department__name")),
    ("location", F("location__name")),
    ("mode", F("mode__name")),
    ("duration_minutes", F("duration_minutes")),
    ("referral_kind", F("referral_kind")),
    (
        "referred_by",
        Coalesce(
            NullIf(F("referred_by_operator__display_name"), Value("")),
            NullIf(F("referred_by_operator__user__first_name"), Value("")),
            F("referred_by_operator__user__username"),
            F("referred_by_department__name"),
            F("referred_by_text"),
        ),
    ),
    ("question_type", F("question_type__name")),
    ("read_scale", F("read_scale")),
    ("patron_type", F("patron_type__name")),
    ("topic", F("topic__name")),
    ("question", F("question")),
    ("answer", F("answer")),
    ("internal_note", F("note")),
    ("chat_id", F("chat__public_id")),
    # The patron's language (issue 19), for entries from a chat.
    ("patron_language", F("chat__language")),
    ("ticket", F("ticket_ref")),
    # Set ("yes") when question, answer and internal_note are withheld (left empty): the
    # entry is another department's and its free text is not library-wide
    # (analytics.free_text).
    ("free_text_withheld", Value(False)),
]
FREE_TEXT_COLUMNS = ("question", "answer", "internal_note")
HEADER = [name for name, _ in COLUMNS]
CHUNK_SIZE = 2000
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def rows_queryset(qs, readable=None):
    """The rows as tuples of the COLUMNS. ``readable``: the entries whose free text the
    reader may see (analytics.free_text.readable_entries; None: all); the others' free
    text cells are empty and ``free_text_withheld`` says so."""
    annotations = {f"csv_{name}": expression for name, expression in COLUMNS}
    if readable is not None:
        for name in FREE_TEXT_COLUMNS:
            annotations[f"csv_{name}"] = Case(
                When(readable, then=annotations[f"csv_{name}"]),
                default=Value(""),
                output_field=TextField(),
            )
        annotations["csv_free_text_withheld"] = Case(
            When(readable, then=Value(False)), default=Value(True), output_field=BooleanField()
        )
    return qs.order_by("occurred_at", "id").annotate(**annotations).values_list(*annotations.keys())


def _cell(value):
    if value is None or value is False:
        return ""
    if value is True:
        return "yes"
    if hasattr(value, "isoformat"):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _line(writer, row):
    return writer.writerow([_cell(value) for value in row])


def stream_rows(qs, readable=None):
    """Lines of CSV (header first), for a WSGI StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)  # BOM: spreadsheet programs then read UTF-8
    for row in rows_queryset(qs, readable).iterator(chunk_size=CHUNK_SIZE):
        yield _line(writer, row)


async def astream_rows(qs, readable=None):
    """The same lines, as an async iterator: under ASGI (Daphne) a sync iterator would be
    read into memory whole before the first byte is sent. Each database chunk is fetched
    in the request's sync thread (``QuerySet.aiterator`` would run a values_list query
    in the event loop) and sent as one piece."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)
    rows = rows_queryset(qs, readable).iterator(chunk_size=CHUNK_SIZE)  # a lazy generator
    next_chunk = sync_to_async(lambda: list(islice(rows, CHUNK_SIZE)))
    while chunk := await next_chunk():
        yield "".join(_line(writer, row) for row in chunk)


def filename(flt) -> str:
    return f"reference-analytics-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}.csv"
