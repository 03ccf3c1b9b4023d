"""CSV export of Reference Analytics entries, streamed.

The column names are a published interface (docs/analytics-csv.md): add columns at
the end, never rename or reorder. Rows come from the database in chunks
(``iterator(chunk_size=…)``) as plain tuples, so memory stays flat whatever the range.
"""

import csv
from itertools import islice

from asgiref.sync import sync_to_async
from django.db.models import F, Value
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
    ("ticket", F("ticket_ref")),
]
HEADER = [name for name, _ in COLUMNS]
CHUNK_SIZE = 2000
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def rows_queryset(qs):
    annotations = {f"csv_{name}": expression for name, expression in COLUMNS}
    return qs.order_by("occurred_at", "id").annotate(**annotations).values_list(*annotations.keys())


def _cell(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _line(writer, row):
    return writer.writerow([_cell(value) for value in row])


def stream_rows(qs):
    """Lines of CSV (header first), for a WSGI StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)  # BOM: spreadsheet programs then read UTF-8
    for row in rows_queryset(qs).iterator(chunk_size=CHUNK_SIZE):
        yield _line(writer, row)


async def astream_rows(qs):
    """The same lines, as an async iterator: under ASGI (Daphne) a sync iterator would be
    read into memory whole before the first byte is sent. Each database chunk is fetched
    in the request's sync thread (``QuerySet.aiterator`` would run a values_list query
    in the event loop) and sent as one piece."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(HEADER)
    rows = rows_queryset(qs).iterator(chunk_size=CHUNK_SIZE)  # a lazy generator
    next_chunk = sync_to_async(lambda: list(islice(rows, CHUNK_SIZE)))
    while chunk := await next_chunk():
        yield "".join(_line(writer, row) for row in chunk)


def filename(flt) -> str:
    return f"reference-analytics-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}.csv"
