"""The reports, read from figures kept per day and per month.

A report over a year used to scan every entry and chat of the year (~1 s at 300,000
entries and 100,000 chats). The figures of a day — entries per hour, per mode, per
location…, chats claimed, abandoned, waits — add up across days, so once a day is over
they are kept (``ReportDay`` and ``ReportFigure``; each department's share too, in
``ReportDepartmentDay`` and ``ReportFigure.department``), and a month whose days are
all kept is added up once more (``ReportMonth``): a year reads twelve months' rows.
Medians add up too when the figure is kept as "how many of each value": minutes of
duration, whole seconds of wait.

Which days are kept: ``analytics.services.report_days_build`` (Celery beat hourly,
``manage.py build_report_days``) keeps the days before today whose chats have all
finished; recording, correcting or deleting an entry marks its day (and its chat's day)
changed, and a changed day (and its month) counts as not kept until it is built again.
A report reads the kept days' and months' figures and computes the others (today,
changed days, days never built) from the entries and chats themselves, with the same
function the build uses (``compute_days``), so the two can only agree.

The unfiltered report and a report filtered by department alone are read this way
(what a library looks at most: a month, a term, a year, a department's); any other
filter (location, mode, staff, question type) takes its entry figures from
``analytics.reports``' one pass over the entries, and its chat figures from here
(``chat_figures``: location, mode and question type describe entries, not chats) but
for a staff filter, which narrows the chats too.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, Round, TruncDate
from django.utils import timezone

from analytics.models import (
    Interaction,
    Location,
    Mode,
    QuestionType,
    ReportDay,
    ReportDepartmentDay,
    ReportFigure,
    ReportMonth,
)
from chat.aggregates import SecondsBetween
from chat.models import Chat, Department, Operator

Figure = ReportFigure.Figure
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FINISHED = (Chat.Status.ENDED, Chat.Status.CLOSED)
FEW_DAYS = 3  # compute_days: up to this many days, one query for every entry figure

# The key of one counted value: (figure, value, referral kind, operator, department, text),
# ReportFigure's fields in that order.
Key = tuple[str, int | None, str, int | None, int | None, str]
KEY_FIELDS = (
    "figure",
    "value",
    "referral_kind",
    "referred_by_operator",
    "referred_by_department",
    "referred_by_text",
)
HOUR_FIGURES = (Figure.HOUR, Figure.WEEKDAY_HOUR)

# Entry figures other than the hour: the entry column each counts.
_ENTRY_COLUMNS = {
    Figure.MODE: "mode_id",
    Figure.LOCATION: "location_id",
    Figure.QUESTION_TYPE: "question_type_id",
    Figure.READ_SCALE: "read_scale",
    Figure.DURATION: "duration_minutes",
}
_REFERRAL_COLUMNS = (
    "referral_kind",
    "referred_by_operator_id",
    "referred_by_department_id",
    "referred_by_text",
)


def key(figure, value=None, kind="", operator=None, department=None, text="") -> Key:
    return (str(figure), value, kind, operator, department, text)


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
    unfinished: int = 0  # waiting or active: the day cannot be kept yet
    counts: Counter = field(default_factory=Counter)  # Key -> how many

    def add(self, other: "DayFigures") -> "DayFigures":
        for name in (*TOTALS, "waiting", "unfinished"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.counts.update(other.counts)
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


def compute_days(days, *, department=None, per_department=False) -> dict:
    """The figures of ``days`` from the entries and chats themselves (days in the desk's
    time zone): ``{day: DayFigures}`` of the whole library, or of one ``department`` (its
    pk: its entries and its chats). ``per_department``: ``{(day, department pk or None):
    DayFigures}`` instead, each department's share (None: entries of no department), as
    the build keeps them. Three grouped queries for a few days (today, a changed day),
    nine for more, whatever the number of entries."""
    runs = day_ranges(days)
    out: dict = {}
    if not runs:
        return out
    group = ("d", "department_id") if per_department else ("d",)
    g = len(group)

    def day(row) -> DayFigures:
        return out.setdefault(tuple(row[:g]) if per_department else row[0], DayFigures())

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
    if department is not None:
        entries = entries.filter(department_id=department)
        chats = chats.filter(department_id=department)
    if len(days) <= FEW_DAYS:
        # Grouped by every column a figure counts (about one row per entry at this
        # scale), each row then added to every figure: one query for all of them.
        columns = len(_ENTRY_COLUMNS)
        for row in entries.values_list(
            *group, "h", *_ENTRY_COLUMNS.values(), *_REFERRAL_COLUMNS
        ).annotate(n=Count("id")):
            values = zip(_ENTRY_COLUMNS, row[g + 1 : g + 1 + columns], strict=True)
            _count_entries(day(row), row[-1], row[g], values, row[g + 1 + columns : -1])
    else:
        # Many days: one grouping per figure, so that there is a row per day and value
        # (~300 a day) rather than one per entry (a year: 300,000).
        for row in entries.values_list(*group, "h").annotate(n=Count("id")):
            _count_entries(day(row), row[-1], row[g])
        for figure, column in _ENTRY_COLUMNS.items():
            for row in entries.values_list(*group, column).annotate(n=Count("id")):
                day(row).counts[key(figure, row[g])] += row[-1]
        for row in (
            entries.exclude(referral_kind="")
            .values_list(*group, *_REFERRAL_COLUMNS)
            .annotate(n=Count("id"))
        ):
            _count_entries(day(row), row[-1], referral=row[g:-1])

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
    return out


def _count_entries(figures: DayFigures, n: int, hour=None, values=(), referral=None) -> None:
    """Add ``n`` entries to a day's figures: to its hour (None: counted elsewhere), to
    the (figure, value) pairs given, to their referral (kind, operator, department,
    text)."""
    if hour is not None:
        figures.entries += n
        figures.counts[key(Figure.HOUR, hour)] += n
    for figure, value in values:
        figures.counts[key(figure, value)] += n
    if referral and referral[0]:
        kind, operator, department, text = referral
        figures.counts[
            key(Figure.REFERRAL, kind=kind, operator=operator, department=department, text=text)
        ] += n


def figure_rows(day: date, figures: DayFigures, department=None) -> list[ReportFigure]:
    """The rows that keep one day's counts (of the library, or of ``department``)."""
    return [
        ReportFigure(
            day=day, department=department, count=n, **dict(zip(KEY_FIELDS, k, strict=True))
        )
        for k, n in figures.counts.items()
    ]


# --- Reading a report -----------------------------------------------------------------


def median_of_counts(counts: list[tuple[float, int]]) -> float | None:
    """``percentile_cont(0.5)`` of values given as sorted (value, how many) pairs."""
    n = sum(k for _v, k in counts)
    if not n:
        return None
    position = (n - 1) / 2
    low_index, high_index = int(position), int(position) + (position % 1 > 0)
    low = high = None
    seen = 0
    for value, k in counts:
        if low is None and low_index < seen + k:
            low = value
        if high_index < seen + k:
            high = value
            break
        seen += k
    return float(low + (high - low) * (position - low_index))


def _kept(start: date, end: date):
    return ReportDay.objects.filter(
        day__gte=start, day__lte=end, built_token=F("token"), time_zone=time_zone_name()
    )


def month_days(month: date) -> list[date]:
    """Every day of the calendar month that starts on ``month``."""
    following = (month + timedelta(days=32)).replace(day=1)
    return [month + timedelta(days=i) for i in range((following - month).days)]


def _kept_months(start: date, end: date, kept_days: set[date]) -> list[date]:
    """The kept months wholly inside start…end (every one of their days kept too)."""
    months = ReportMonth.objects.filter(
        month__gte=start, month__lte=end, time_zone=time_zone_name()
    ).values_list("month", flat=True)
    return [
        m for m in months if month_days(m)[-1] <= end and all(d in kept_days for d in month_days(m))
    ]


def summed_by_value(figures: QuerySet, *also: str) -> QuerySet:
    """Every figure but the hours of ``figures`` (kept rows) added up per value (and per
    the fields ``also``): dicts of those fields, KEY_FIELDS and ``n``."""
    return (
        figures.exclude(figure__in=HOUR_FIGURES)
        .values(*also, *KEY_FIELDS)
        .annotate(n=Sum("count"))
        .order_by()
    )


def summed_by_weekday_hour(figures: QuerySet, *also: str) -> QuerySet:
    """The hours of ``figures`` added up: dicts of ``also``, ``figure``, ``weekday``
    (ISO, of the row's day: what an HOUR row means; a month's WEEKDAY_HOUR carries it in
    its value), ``value`` and ``n``."""
    return (
        figures.filter(figure__in=HOUR_FIGURES)
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values(*also, "figure", "weekday", "value")
        .annotate(n=Sum("count"))
        .order_by()
    )


def report(start: date, end: date, department: int | None = None) -> dict:
    """Every figure of the report for ``start``…``end`` (inclusive) of the whole library
    or of one ``department`` (its pk), in the shape ``analytics.reports.report``
    returns. Kept months and days: three or four queries over their figures; the other
    days: ``compute_days``; then the names of the choices, operators and departments
    counted."""
    day_rows, kept_days, live = _days(start, end, department)
    per_day = {row["day"]: row["entries"] for row in day_rows}
    grid = [[0] * 24 for _ in range(7)]
    for d, fig in live.items():
        per_day[d] = fig.entries
        for (figure, value, *_rest), n in fig.counts.items():
            if figure == Figure.HOUR:
                grid[d.isoweekday() - 1][value] += n
    totals = _totals(day_rows, live)  # the live hours too, unread below: the grid has them
    counts = totals.counts
    figures = _kept_figures(start, end, kept_days, department)
    if figures is not None:
        for row in summed_by_value(figures):
            counts[key(*(row[name] for name in KEY_FIELDS))] += row["n"]
        for row in summed_by_weekday_hour(figures):
            if row["figure"] == Figure.HOUR:
                grid[row["weekday"] - 1][row["value"]] += row["n"]
            else:
                grid[row["value"] // 24][row["value"] % 24] += row["n"]

    def values_of(figure) -> list[tuple]:
        return _by_value((k[1], n) for k, n in counts.items() if k[0] == figure)

    chats = _chat_figures(totals, values_of(Figure.WAIT))
    return {
        **entry_figures(
            start,
            end,
            per_day=per_day,
            grid=grid,
            labelled=_labelled(counts),
            read_levels=dict(values_of(Figure.READ_SCALE)),
            referrals=_referrals(counts),
            minutes=values_of(Figure.DURATION),
        ),
        "chats": chats,
    }


def chat_figures(start: date, end: date, department: int | None = None) -> dict:
    """``report(start, end, department)["chats"]`` alone: the chat figures, which the
    filters that describe entries and not chats (location, mode, question type) leave
    as they are. The kept days' totals and waits, and the days not kept computed."""
    day_rows, kept_days, live = _days(start, end, department)
    totals = _totals(day_rows, live)
    waits = Counter({k[1]: n for k, n in totals.counts.items() if k[0] == Figure.WAIT})
    figures = _kept_figures(start, end, kept_days, department)
    if figures is not None:
        summed = figures.filter(figure=Figure.WAIT).values("value").annotate(n=Sum("count"))
        for row in summed.order_by():
            waits[row["value"]] += row["n"]
    return _chat_figures(totals, _by_value(waits.items()))


def _totals(day_rows, live) -> "DayFigures":
    """The kept days' totals rows and the live days' figures, added up."""
    totals = DayFigures(**{name: sum(row[name] for row in day_rows) for name in TOTALS})
    for fig in live.values():
        totals.add(fig)
    return totals


def _by_value(pairs) -> list[tuple]:
    """(value, count) pairs with a count, by value (None last)."""
    return sorted(((v, n) for v, n in pairs if n), key=lambda pair: (pair[0] is None, pair[0] or 0))


def _days(start, end, department):
    """The kept days of ``start``…``end``: their totals rows (the library's, or the
    department's share) and the set of them; and the figures of the other days,
    computed (``compute_days``)."""
    if department is None:
        day_rows = list(_kept(start, end).values("day", *TOTALS))
        kept_days = {row["day"] for row in day_rows}
    else:
        kept_days = set(_kept(start, end).values_list("day", flat=True))
        day_rows = list(
            ReportDepartmentDay.objects.filter(
                department=department, day__gte=start, day__lte=end
            ).values("day", *TOTALS)
        )
        day_rows = [row for row in day_rows if row["day"] in kept_days]
    span = (end - start).days + 1
    every_day = [start + timedelta(days=i) for i in range(span)]
    live = compute_days([d for d in every_day if d not in kept_days], department=department)
    return day_rows, kept_days, live


def _kept_figures(start, end, kept_days, department) -> QuerySet | None:
    """The kept figure rows that cover ``kept_days``: a whole month's sums where every
    day of the month is kept, the days' own rows elsewhere (None: no day kept)."""
    if not kept_days:
        return None
    months = _kept_months(start, end, kept_days)
    in_months = {d for m in months for d in month_days(m)}
    kept = [Q(whole_month=True, day__in=months)] if months else []
    kept += [
        Q(whole_month=False, day__gte=first, day__lte=last)
        for first, last in day_ranges(kept_days - in_months)
    ]
    return ReportFigure.objects.filter(reduce(or_, kept), department=department)


def _chat_figures(totals: "DayFigures", waits: list[tuple]) -> dict:
    claimed = totals.chats_claimed
    return {
        "total": totals.chats,
        "claimed": claimed,
        "abandoned": totals.chats_abandoned,
        "without_entry": totals.chats_without_entry,
        "waiting_now": totals.waiting,
        "mean_wait": totals.wait_seconds_total / claimed if claimed else None,
        "median_wait": median_of_counts(waits),
    }


def _labelled(counts: Counter) -> dict[str, list[tuple[str | None, int]]]:
    """Mode, location and question-type counts by name (two ids of one name add up, as
    the one-pass query groups by name too)."""
    out = {}
    for figure, model, name in (
        (Figure.MODE, Mode, "by_mode"),
        (Figure.LOCATION, Location, "by_location"),
        (Figure.QUESTION_TYPE, QuestionType, "by_question_type"),
    ):
        ids = {k[1] for k in counts if k[0] == figure and k[1] is not None}
        names = dict(model.objects.filter(pk__in=ids).values_list("pk", "name"))
        by_name: Counter = Counter()
        for k, n in counts.items():
            if k[0] == figure and n:
                by_name[names.get(k[1])] += n
        out[name] = list(by_name.items())
    return out


def _referrals(counts: Counter) -> list[tuple[str, str | None, int]]:
    """(kind, source, n): the source named as the reports' SQL names it — the
    operator's display name, first name or username, else the department's name, else
    the text typed."""
    rows = [(k, n) for k, n in counts.items() if k[0] == Figure.REFERRAL and n]
    operators = {
        o.pk: (o.display_name or o.user.first_name or o.user.username)
        for o in Operator.objects.filter(pk__in={k[3] for k, _n in rows if k[3]}).select_related(
            "user"
        )
    }
    departments = dict(
        Department.objects.filter(pk__in={k[4] for k, _n in rows if k[4]}).values_list("pk", "name")
    )
    by_source: Counter = Counter()
    for (_figure, _value, kind, operator, department, text), n in rows:
        source = operators.get(operator) or departments.get(department) or text or None
        by_source[(kind, source)] += n
    return [(kind, source, n) for (kind, source), n in by_source.items()]


def busiest(rows: list[tuple[str | None, int]]) -> list[dict]:
    """(label, count) pairs as the report's rows: busiest first, then by name, the
    unnamed last (ordered here, the same on SQLite and PostgreSQL, which put NULL at
    opposite ends)."""
    ordered = sorted(rows, key=lambda r: (-r[1], r[0] is None, r[0] or ""))
    return [{"label": label or "(not recorded)", "count": n} for label, n in ordered]


def referral_rows(referrals: list[tuple[str, str | None, int]]) -> list[dict]:
    """(kind, source, count) triples as the report's referral rows, busiest first; the
    empty kind ("nobody") left out."""
    kinds = dict(Interaction.Referral.choices)
    ordered = sorted(referrals, key=lambda r: (-r[2], r[0], r[1] is None, r[1] or ""))
    return [
        {"kind": kinds.get(kind, kind), "label": source or "(unnamed)", "count": n}
        for kind, source, n in ordered
        if kind
    ]


def entry_figures(
    start: date,
    end: date,
    *,
    per_day: dict[date, int],
    grid: list[list[int]],
    labelled: dict[str, list[tuple[str | None, int]]],
    read_levels: dict[int | None, int],
    referrals: list[tuple[str, str | None, int]],
    minutes: list[tuple[int, int]],
) -> dict:
    """The report's entry figures in the page's shape, from counts however they were
    obtained (kept days, live days, or ``analytics.reports``' one pass): every day of
    the range (zeros included), the weekday × hour grid, counts by name busiest first
    (``None`` = not recorded), READ levels 1–6, referrals, duration median and mean."""
    total = sum(n for _v, n in minutes)
    span = (end - start).days + 1
    read_scale = [
        {"label": str(level), "count": read_levels.get(level, 0)} for level in range(1, 7)
    ]
    if read_levels.get(None):
        read_scale.append({"label": "(not recorded)", "count": read_levels[None]})
    return {
        "total": total,
        "per_day": [
            {"day": d, "count": per_day.get(d, 0)}
            for d in (start + timedelta(days=i) for i in range(span))
        ],
        "heatmap": {
            "rows": [{"weekday": WEEKDAYS[i], "cells": grid[i]} for i in range(7)],
            "max": max(max(r) for r in grid),
        },
        "by_mode": busiest(labelled["by_mode"]),
        "by_location": busiest(labelled["by_location"]),
        "by_question_type": busiest(labelled["by_question_type"]),
        "by_read_scale": read_scale,
        "by_referral": referral_rows(referrals),
        "duration": {
            "count": total,
            "mean": sum(v * n for v, n in minutes) / total if total else None,
            "median": median_of_counts(minutes),
        },
    }
