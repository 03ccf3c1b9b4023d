"""A day's figures: what they are (``DayFigures``, the ``Key`` of one counted value)
and how they are computed from the entries and chats themselves (``compute_days``).
The build (``analytics.services``) keeps them; ``read`` adds them up."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import ExtractHour, Round, TruncDate
from django.utils import timezone

from analytics.models import (
    Interaction,
    ReportFigure,
)
from chat.aggregates import SecondsBetween
from chat.models import Chat

Figure = ReportFigure.Figure
FINISHED = (Chat.Status.ENDED, Chat.Status.CLOSED)
FEW_DAYS = 3  # compute_days: up to this many days, one query for every entry figure
# compute_days on PostgreSQL: up to this many days (a month: the build's batches, a
# month's report before its days are kept), the entry figures in one scan. Past it the
# planner, expecting far more groups than there are, sorts instead of hashing (a year:
# 0.97 s against 0.82 s with one query per figure; a month: 58 ms against 80).
ONE_SCAN_DAYS = 31

# The key of one counted value: (figure, value, referral kind, operator, department, text,
# language), ReportFigure's fields in that order.
Key = tuple[str, int | None, str, int | None, int | None, str, str]
KEY_FIELDS = (
    "figure",
    "value",
    "referral_kind",
    "referred_by_operator",
    "referred_by_department",
    "referred_by_text",
    "language",
)
HOUR_FIGURES = (Figure.HOUR, Figure.WEEKDAY_HOUR)
# The choices a report is filtered by that describe entries: each choice's share of a
# day's entries is kept too (``ReportFigure.share``).
SHARE_FIGURES = (Figure.MODE, Figure.LOCATION, Figure.QUESTION_TYPE)
NO_SHARE = ("", None)  # (share, share_value) of the library's and departments' rows

# Entry figures other than the hour: the entry column each counts. The patron's
# language is the entry's chat's (a join, in the queries that count it alone).
_ENTRY_COLUMNS = {
    Figure.MODE: "mode_id",
    Figure.LOCATION: "location_id",
    Figure.QUESTION_TYPE: "question_type_id",
    Figure.READ_SCALE: "read_scale",
    Figure.DURATION: "duration_minutes",
    Figure.LANGUAGE: "chat__language",
}
# Figures whose value is a language code (``ReportFigure.language``), not a number.
LANGUAGE_FIGURES = (Figure.LANGUAGE, Figure.CHAT_LANGUAGE)
_REFERRAL_COLUMNS = (
    "referral_kind",
    "referred_by_operator_id",
    "referred_by_department_id",
    "referred_by_text",
)


def key(figure, value=None, kind="", operator=None, department=None, text="", language="") -> Key:
    return (str(figure), value, kind, operator, department, text, language)


def value_key(figure, value) -> Key:
    """The key of ``figure``'s ``value``: a language code in its own field (none: "")."""
    if figure in LANGUAGE_FIGURES:
        return key(figure, language=value or "")
    return key(figure, value)


# A day's totals, as ``ReportDay``, ``ReportDepartmentDay`` and ``DayFigures`` name them.
TOTALS = (
    "entries",
    "chats",
    "chats_claimed",
    "chats_abandoned",
    "chats_without_entry",
    "wait_seconds_total",
)


@dataclass
class DayFigures:
    """What one day adds to a report (or several days, added up)."""

    entries: int = 0
    chats: int = 0
    chats_claimed: int = 0
    chats_abandoned: int = 0
    chats_without_entry: int = 0
    wait_seconds_total: float = 0.0
    waiting: int = 0  # still in the queue
    unfinished: int = 0  # waiting or active
    counts: Counter = field(default_factory=Counter)  # Key -> how many
    # compute_days(finished_only=True): the chats left out, still waiting or active.
    open_chats: list = field(default_factory=list)

    def add(self, other: "DayFigures") -> "DayFigures":
        for name in (*TOTALS, "waiting", "unfinished"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.counts.update(other.counts)
        self.open_chats += other.open_chats
        return self


def time_zone_name() -> str:
    return timezone.get_current_timezone_name()


def day_ranges(days) -> list[tuple[date, date]]:
    """Sorted days as inclusive runs of consecutive days."""
    runs = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _within(column: str, runs) -> Q:
    tz = timezone.get_current_timezone()
    q = Q()
    for first, last in runs:
        lower = timezone.make_aware(datetime.combine(first, time.min), tz)
        upper = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
        q |= Q(**{f"{column}__gte": lower, f"{column}__lt": upper})
    return q


def compute_days(
    days,
    *,
    department=None,
    per_department=False,
    share=None,
    per_share=None,
    with_entries=True,
    finished_only=False,
    chats_among=None,
):
    """The figures of ``days`` from the entries and chats themselves (days in the desk's
    time zone): ``{day: DayFigures}`` of the whole library, or of one ``department`` (its
    pk: its entries and its chats), or of one ``share`` ((figure, choice id), a figure of
    SHARE_FIGURES: the entries with that mode, location or question type, and no chat
    figures: those choices describe entries, not chats). ``per_department``: ``{(day,
    department pk or None): DayFigures}`` instead, each department's share (None: entries
    of no department); ``per_share`` (a figure of SHARE_FIGURES): ``{(day, choice id or
    None): DayFigures}``, each choice's share of the entries; as the build keeps them.
    ``with_entries=False``: the chat figures alone. ``finished_only``: the chat figures
    of the finished chats alone, the others' pks in ``open_chats`` (as the build keeps
    a day); ``chats_among``: of those chats alone. Three grouped queries for a few days
    (today, a changed day), and for more days three on PostgreSQL up to a month (the
    entries in one scan, ``GROUPING SETS``) and nine otherwise, whatever the number of
    entries (two of them for the chats)."""
    runs = day_ranges(days)
    out: dict = {}
    if not runs:
        return out
    entries = (
        Interaction.objects.filter(_within("occurred_at", runs))
        .annotate(d=TruncDate("occurred_at"), h=ExtractHour("occurred_at"))
        .order_by()
    )
    chats = (
        Chat.objects.filter(_within("created_at", runs))
        .annotate(d=TruncDate("created_at"))
        .order_by()
    )
    if per_share is not None:
        # Under a name of its own: grouped by it, and counted as its figure's value too.
        entries = entries.annotate(part=F(_ENTRY_COLUMNS[per_share]))
        group = ("d", "part")
    else:
        group = ("d", "department_id") if per_department else ("d",)
    g = len(group)

    def day(row) -> DayFigures:
        at = tuple(row[:g]) if g > 1 else row[0]
        figures = out.get(at)
        if figures is None:  # (not setdefault: a DayFigures built per row, ~50,000 a month)
            figures = out[at] = DayFigures()
        return figures

    if department is not None:
        entries = entries.filter(department_id=department)
        chats = chats.filter(department_id=department)
    if share is not None:
        figure, value = share
        entries = entries.filter(**{_ENTRY_COLUMNS[figure]: value})
    if with_entries and len(days) <= FEW_DAYS:
        # Grouped by every column a figure counts (about one row per entry at this
        # scale), each row then added to every figure: one query for all of them.
        columns = len(_ENTRY_COLUMNS)
        for row in entries.values_list(
            *group, "h", *_ENTRY_COLUMNS.values(), *_REFERRAL_COLUMNS
        ).annotate(n=Count("id")):
            values = zip(_ENTRY_COLUMNS, row[g + 1 : g + 1 + columns], strict=True)
            _count_entries(day(row), row[-1], row[g], values, row[g + 1 + columns : -1])
    elif with_entries and len(days) <= ONE_SCAN_DAYS and connection.vendor == "postgresql":
        _count_entries_in_one_scan(entries, group, day)
    elif with_entries:
        # Many days: one grouping per figure, so that there is a row per day and value
        # (~300 a day) rather than one per entry (a year: 300,000).
        for row in entries.values_list(*group, "h").annotate(n=Count("id")):
            _count_entries(day(row), row[-1], row[g])
        for figure, column in _ENTRY_COLUMNS.items():
            for row in entries.values_list(*group, column).annotate(n=Count("id")):
                day(row).counts[value_key(figure, row[g])] += row[-1]
        for row in (
            entries.exclude(referral_kind="")
            .values_list(*group, *_REFERRAL_COLUMNS)
            .annotate(n=Count("id"))
        ):
            _count_entries(day(row), row[-1], referral=row[g:-1])
    if share is not None or per_share is not None:
        return out  # entries only

    if chats_among is not None:
        chats = chats.filter(pk__in=chats_among)
    if finished_only:
        # Their figures are not final (a claim, an end to come): left out, and counted
        # as they are when a report is read (analytics.rollups.read).
        for row in chats.exclude(status__in=FINISHED).values_list(*group, "pk"):
            day(row).open_chats.append(row[-1])
        chats = chats.filter(status__in=FINISHED)
    claimed = Q(claimed_at__isnull=False)
    wait = SecondsBetween("created_at", "claimed_at")
    # An index probe per chat: the days computed here are few (today, changed days).
    has_entry = Exists(Interaction.objects.filter(chat=OuterRef("pk")))
    for row in chats.values_list(*group).annotate(
        total=Count("id"),
        claimed=Count("id", filter=claimed),
        abandoned=Count("id", filter=Q(claimed_at__isnull=True, status__in=FINISHED)),
        without_entry=Count("id", filter=claimed & Q(status__in=FINISHED) & ~has_entry),
        waiting=Count("id", filter=Q(status=Chat.Status.WAITING)),
        unfinished=Count("id", filter=~Q(status__in=FINISHED)),
        wait_total=Sum(wait, filter=claimed),
    ):
        figures = day(row)
        (
            figures.chats,
            figures.chats_claimed,
            figures.chats_abandoned,
            figures.chats_without_entry,
            figures.waiting,
            figures.unfinished,
        ) = row[g : g + 6]
        figures.wait_seconds_total = float(row[g + 6] or 0)
    for row in (
        chats.filter(claimed)
        .annotate(s=Round(wait))
        .values_list(*group, "s")
        .annotate(n=Count("id"))
    ):
        day(row).counts[key(Figure.WAIT, int(row[g]))] += row[-1]
    for row in chats.values_list(*group, "language").annotate(n=Count("id")):
        day(row).counts[value_key(Figure.CHAT_LANGUAGE, row[g])] += row[-1]
    return out


def _count_entries_in_one_scan(entries, group, day) -> None:
    """PostgreSQL: the many-days groupings of ``compute_days`` (the hour, each figure,
    the referral; each by ``group`` too) from one scan of the entries, as ``GROUPING
    SETS``: the same rows, counted the same way, for one pass over ~25,000 entries a
    month instead of seven."""
    g = len(group)
    figure_columns = ["h", *_ENTRY_COLUMNS.values()]
    columns = [*group, *figure_columns, *_REFERRAL_COLUMNS]
    names = [f"c{i}" for i in range(len(columns))]
    # Annotations only, so that the inner query selects exactly these, in this order.
    inner = entries.annotate(**{name: F(c) for name, c in zip(names, columns, strict=True)})
    sql, params = inner.values_list(*names).query.sql_with_params()
    f = len(figure_columns)
    grouped, per_figure, referral = names[:g], names[g : g + f], names[g + f :]
    sets = [[*grouped, name] for name in per_figure] + [[*grouped, *referral]]
    not_grouped = per_figure + referral

    def mask(kept) -> int:  # GROUPING(not_grouped): a 1 for each column left out
        return sum(
            1 << (len(not_grouped) - 1 - i) for i, c in enumerate(not_grouped) if c not in kept
        )

    figure_of = {mask([name]): i for i, name in enumerate(per_figure)}
    referral_mask = mask(referral)
    query = (
        f"SELECT GROUPING({', '.join(not_grouped)}), {', '.join(names)}, COUNT(*)"
        f" FROM ({sql}) AS e({', '.join(names)})"
        f" GROUP BY GROUPING SETS ({', '.join('(' + ', '.join(s) + ')' for s in sets)})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # For this query (and the rest of a build's transaction): every set hashed in
        # memory (at the default 4 MB PostgreSQL sorts for five of the seven: 42 ms
        # against 22 for a month), and no JIT, whose compilation (~200 ms) costs more
        # than it saves on a scan this size.
        cursor.execute("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")
        cursor.execute(query, params)
        fetched = cursor.fetchall()
    figures = list(_ENTRY_COLUMNS)
    for grouping, *row, n in fetched:
        if grouping == referral_mask:
            _count_entries(day(row), n, referral=row[g + len(per_figure) :])
            continue
        i = figure_of[grouping]
        value = row[g + i]
        if i == 0:  # the hour (EXTRACT gives a numeric)
            _count_entries(day(row), n, int(value))
        else:
            day(row).counts[value_key(figures[i - 1], value)] += n


def _count_entries(figures: DayFigures, n: int, hour=None, values=(), referral=None) -> None:
    """Add ``n`` entries to a day's figures: to its hour (None: counted elsewhere), to
    the (figure, value) pairs given, to their referral (kind, operator, department,
    text)."""
    if hour is not None:
        figures.entries += n
        figures.counts[key(Figure.HOUR, hour)] += n
    for figure, value in values:
        figures.counts[value_key(figure, value)] += n
    if referral and referral[0]:
        kind, operator, department, text = referral
        figures.counts[
            key(Figure.REFERRAL, kind=kind, operator=operator, department=department, text=text)
        ] += n


def figure_rows(day: date, figures: DayFigures, department=None, share=None) -> list[ReportFigure]:
    """The rows that keep one day's counts: of the library, of ``department``, or of
    ``share`` ((figure, choice id): the entries with that choice)."""
    share_figure, share_value = share or NO_SHARE
    return [
        ReportFigure(
            day=day,
            department=department,
            share=share_figure,
            share_value=share_value,
            count=n,
            **dict(zip(KEY_FIELDS, k, strict=True)),
        )
        for k, n in figures.counts.items()
    ]


def month_days(month: date) -> list[date]:
    """Every day of the calendar month that starts on ``month``."""
    following = (month + timedelta(days=32)).replace(day=1)
    return [month + timedelta(days=i) for i in range((following - month).days)]
