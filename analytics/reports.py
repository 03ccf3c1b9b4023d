"""The read side of Reference Analytics: every number is aggregated in the database.

No function here loads entries into Python; each returns a few grouped rows. The page
needs a fixed number of queries whatever the date range or the number of entries.
Medians are computed by the database too: ``percentile_cont`` on PostgreSQL, an
ORDER BY … LIMIT/OFFSET query elsewhere (SQLite).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    NullIf,
    TruncDate,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analytics import rollups
from analytics.models import Interaction
from chat.aggregates import PercentileCont, SecondsBetween, median  # noqa: F401
from chat.models import Chat

WEEKDAYS = rollups.WEEKDAYS
# What a report can be filtered by besides the dates: entries' (and chats') fields.
FILTERS = ("department", "location", "mode", "staff", "question_type")
DEFAULT_DAYS = 30
# The filters whose every choice's share of the entries is kept (analytics.rollups).
SHARES = {
    "mode": rollups.Figure.MODE,
    "location": rollups.Figure.LOCATION,
    "question_type": rollups.Figure.QUESTION_TYPE,
}


@dataclass(frozen=True)
class ReportFilter:
    """What the reports cover. Dates are inclusive, in the desk's time zone."""

    start: date
    end: date
    department: object = None
    location: object = None
    mode: object = None
    staff: object = None
    question_type: object = None

    @classmethod
    def from_form(cls, cleaned: dict) -> "ReportFilter":
        today = timezone.localdate()
        end = cleaned.get("end") or today
        start = cleaned.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        return cls(
            start=start,
            end=end,
            department=cleaned.get("department"),
            location=cleaned.get("location"),
            mode=cleaned.get("mode"),
            staff=cleaned.get("staff"),
            question_type=cleaned.get("question_type"),
        )

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start of the first day, start of the day after the last) as aware datetimes."""
        tz = timezone.get_current_timezone()
        lower = timezone.make_aware(datetime.combine(self.start, time.min), tz)
        upper = timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), tz)
        return lower, upper

    @property
    def filters_set(self) -> set[str]:
        return {name for name in FILTERS if getattr(self, name) is not None}

    @property
    def applies_to_chats_only_partly(self) -> bool:
        """Location, mode and question type describe entries, not chats."""
        return bool(self.location or self.mode or self.question_type)


def interactions(flt: ReportFilter) -> QuerySet:
    lower, upper = flt.bounds
    qs = Interaction.objects.filter(occurred_at__gte=lower, occurred_at__lt=upper)
    for field in FILTERS:
        value = getattr(flt, field)
        if value is not None:
            qs = qs.filter(**{field: value})
    return qs


def chats(flt: ReportFilter) -> QuerySet:
    """Patron chats that entered the queue in the range (department and staff filters apply)."""
    lower, upper = flt.bounds
    qs = Chat.objects.filter(created_at__gte=lower, created_at__lt=upper)
    if flt.department is not None:
        qs = qs.filter(department=flt.department)
    if flt.staff is not None:
        qs = qs.filter(operator__user=flt.staff)
    return qs


# --- Database helpers ------------------------------------------------------------------


# SecondsBetween, PercentileCont and median live in chat.aggregates (the chat desk's
# estimated wait uses them too); imported above.


# --- The reports -----------------------------------------------------------------------


def per_day(flt: ReportFilter) -> list[dict]:
    """Every day in the range (zeros included): ``[{"day": date, "count": n}, …]``."""
    rows = (
        interactions(flt)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )
    counts = {row["day"]: row["count"] for row in rows}
    days = (flt.end - flt.start).days + 1
    return [
        {"day": d, "count": counts.get(d, 0)}
        for d in (flt.start + timedelta(days=i) for i in range(days))
    ]


def heatmap(flt: ReportFilter) -> dict:
    """Weekday × hour counts:
    ``{"rows": [{"weekday": "Monday", "cells": [24 ints]}, …], "max": n}``."""
    rows = (
        interactions(flt)
        .annotate(weekday=ExtractIsoWeekDay("occurred_at"), hour=ExtractHour("occurred_at"))
        .values("weekday", "hour")
        .annotate(count=Count("id"))
        .order_by()
    )
    grid = [[0] * 24 for _ in range(7)]
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = row["count"]
    return {
        "rows": [{"weekday": WEEKDAYS[i], "cells": grid[i]} for i in range(7)],
        "max": max(max(r) for r in grid),
    }


def _counts_by(qs: QuerySet, label_expression) -> list[dict]:
    rows = qs.annotate(label=label_expression).values("label").annotate(count=Count("id"))
    return rollups.busiest([(row["label"], row["count"]) for row in rows])


def by_mode(flt):
    return _counts_by(interactions(flt), F("mode__name"))


def by_location(flt):
    return _counts_by(interactions(flt), F("location__name"))


def by_question_type(flt):
    return _counts_by(interactions(flt), F("question_type__name"))


def entry_languages(flt) -> dict[str, int]:
    """Entries by their chat's patron language: ``{code: n}`` ("": none, as an entry
    not from a chat)."""
    rows = interactions(flt).values_list("chat__language").annotate(n=Count("id")).order_by()
    out: dict[str, int] = {}
    for code, n in rows:
        out[code or ""] = out.get(code or "", 0) + n
    return out


def language_rows(data: dict) -> list[dict]:
    """The report's "By language" rows from ``report()``'s figures: each patron language
    with its chats and entries, named in the active language ("Spanish", "Español"),
    busiest first, "(not recorded)" last."""
    entries = data["entry_languages"]
    chats = data["chats"].get("by_language", {})
    rows = []
    for code in set(entries) | set(chats):
        if code:
            try:
                label = str(translation.get_language_info(code)["name_translated"])
            except KeyError:  # a language the desk no longer ships
                label = code
        else:
            label = _("(not recorded)")
        rows.append(
            {
                "code": code,
                "label": label,
                "chats": chats.get(code, 0),
                "entries": entries.get(code, 0),
            }
        )
    rows.sort(key=lambda r: (not r["code"], -(r["chats"] + r["entries"]), r["label"]))
    return rows


def by_read_scale(flt) -> list[dict]:
    rows = interactions(flt).values("read_scale").annotate(count=Count("id")).order_by("read_scale")
    counts = {row["read_scale"]: row["count"] for row in rows}
    out = [{"label": str(level), "count": counts.get(level, 0)} for level in range(1, 7)]
    if counts.get(None):
        out.append({"label": _("(not recorded)"), "count": counts[None]})
    return out


_REFERRAL_SOURCE = Coalesce(
    NullIf(F("referred_by_operator__display_name"), Value("")),
    NullIf(F("referred_by_operator__user__first_name"), Value("")),
    F("referred_by_operator__user__username"),
    F("referred_by_department__name"),
    NullIf(F("referred_by_text"), Value("")),
)


def by_referral(flt) -> list[dict]:
    """Who referred questions: ``{"kind": …, "label": source, "count": n}``, busiest first."""
    rows = (
        interactions(flt)
        .exclude(referral_kind="")
        .annotate(source=_REFERRAL_SOURCE)
        .values_list("referral_kind", "source")
        .annotate(count=Count("id"))
        .order_by()
    )
    return rollups.referral_rows(list(rows))


def duration(flt) -> dict:
    qs = interactions(flt)
    stats = qs.aggregate(count=Count("id"), mean=Avg("duration_minutes"))
    return {
        "count": stats["count"],
        "mean": stats["mean"],
        "median": median(qs, F("duration_minutes")),
    }


class MedianAggregate(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`` as an aggregate
    (so it takes ``filter=``, and shares one pass with the other aggregates)."""

    function = "percentile_cont"
    name = "Median"
    output_field = FloatField()
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


def chat_stats(flt) -> dict:
    """Chats in the range: how many, how long patrons waited (queue → claim), how many
    ended before anyone claimed them, and how many ended chats have no entry, and how
    many in each patron language (``by_language``). Two queries on PostgreSQL (every
    figure in one pass, then the languages); SQLite adds its median's queries."""
    qs = chats(flt)
    claimed = Q(claimed_at__isnull=False)
    wait = SecondsBetween("created_at", "claimed_at")
    # NOT IN over every entry's chat id: one hashed set of ids for the whole range, not a
    # probe of the entries per chat (NOT EXISTS) — the figure's cost over a year.
    has_entry = Q(pk__in=Interaction.objects.filter(chat__isnull=False).values("chat_id"))
    finished = [Chat.Status.ENDED, Chat.Status.CLOSED]
    figures = {
        "total": Count("id"),
        "claimed": Count("id", filter=claimed),
        "abandoned": Count("id", filter=Q(claimed_at__isnull=True, status__in=finished)),
        "waiting_now": Count("id", filter=Q(status=Chat.Status.WAITING)),
        "mean_wait": Avg(wait, filter=claimed),
        "without_entry": Count("id", filter=claimed & Q(status__in=finished) & ~has_entry),
    }
    if connection.vendor == "postgresql":
        figures["median_wait"] = MedianAggregate(wait, filter=claimed)
    stats = qs.aggregate(**figures)
    if "median_wait" not in stats:
        stats["median_wait"] = median(qs.filter(claimed), wait)
    languages = qs.values_list("language").annotate(n=Count("id")).order_by()
    stats["by_language"] = {code: n for code, n in languages if n}
    return stats


# --- The whole page in one pass (PostgreSQL) ----------------------------------------------

# Every entry figure of the page from one scan of the range's entries: GROUPING SETS
# over the entries' own columns (day and weekday × hour in the desk's time zone, mode,
# location, question type, READ level, referral, duration) and their chat's patron
# language (the one join per entry: a LEFT JOIN on the chat's primary key); the
# names are joined to the few grouped rows afterwards (and grouped again by name, as the
# one-figure functions above group). GROUPING(…) tells each row's set: one bit per
# column left out of it. Days and the heatmap are sets of their own (a year: 365 + 168
# rows, where one set of hours was ~8,000).
_GROUPED = [
    "day",
    "weekday",
    "hour",
    "mode_id",
    "location_id",
    "question_type_id",
    "read_scale",
    "referral_kind",
    "referred_by_operator_id",
    "referred_by_department_id",
    "referred_by_text",
    "duration_minutes",
    "language",
]
_SETS = {
    "days": ("day",),
    "weekday_hours": ("weekday", "hour"),
    "by_mode": ("mode_id",),
    "by_location": ("location_id",),
    "by_question_type": ("question_type_id",),
    "by_read_scale": ("read_scale",),
    "by_referral": (
        "referral_kind",
        "referred_by_operator_id",
        "referred_by_department_id",
        "referred_by_text",
    ),
    "duration": ("duration_minutes",),
    "by_language": ("language",),
}
_LABELLED = [
    "day",
    "weekday",
    "hour",
    "mode_label",
    "location_label",
    "type_label",
    "read_scale",
    "referral_kind",
    "source",
    "duration_minutes",
    "language",
]


def _grouping_mask(columns) -> int:
    return sum(1 << (len(_GROUPED) - 1 - i) for i, c in enumerate(_GROUPED) if c not in columns)


def _one_pass_sql(flt: ReportFilter) -> tuple[str, list]:
    from django.contrib.auth import get_user_model

    from analytics.models import Location, Mode, QuestionType
    from chat.models import Department, Operator

    rows = (
        interactions(flt)
        .order_by()
        .annotate(
            day=TruncDate("occurred_at"),
            weekday=ExtractIsoWeekDay("occurred_at"),
            hour=ExtractHour("occurred_at"),
            language=Coalesce(F("chat__language"), Value("")),
        )
        .values(*_GROUPED)
    )
    inner, params = rows.query.sql_with_params()
    grouped = ", ".join(_GROUPED)
    sets = ", ".join("(" + ", ".join(cols) + ")" for cols in _SETS.values())
    table = {
        model: connection.ops.quote_name(model._meta.db_table)
        for model in (Mode, Location, QuestionType, Operator, get_user_model(), Department)
    }
    sql = f"""
        WITH g AS (
            SELECT GROUPING({grouped}) AS grp, {grouped}, COUNT(*) AS n
            FROM ({inner}) AS e GROUP BY GROUPING SETS ({sets})
        )
        SELECT g.grp, g.day, g.weekday, g.hour, m.name, l.name, q.name, g.read_scale,
               g.referral_kind,
               COALESCE(NULLIF(o.display_name, ''), NULLIF(u.first_name, ''), u.username,
                        d.name, NULLIF(g.referred_by_text, '')),
               g.duration_minutes, g.language, SUM(g.n)
        FROM g
        LEFT JOIN {table[Mode]} m ON m.id = g.mode_id
        LEFT JOIN {table[Location]} l ON l.id = g.location_id
        LEFT JOIN {table[QuestionType]} q ON q.id = g.question_type_id
        LEFT JOIN {table[Operator]} o ON o.id = g.referred_by_operator_id
        LEFT JOIN {table[get_user_model()]} u ON u.id = o.user_id
        LEFT JOIN {table[Department]} d ON d.id = g.referred_by_department_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
        ORDER BY 1, 13 DESC, 5, 6, 7, 9, 10, 12
    """
    return sql, list(params)


def _entry_figures_one_pass(flt: ReportFilter) -> dict:
    """What per_day, heatmap, by_* and duration return, from one query (PostgreSQL)."""
    sql, params = _one_pass_sql(flt)
    with transaction.atomic(), connection.cursor() as cursor:
        # For this query only: hash every set in memory (the default 4 MB made PostgreSQL
        # sort 300,000 rows for a year's ~9,000 hours instead), and no JIT, whose
        # compilation (~200 ms) costs more than it saves on a scan this size.
        cursor.execute("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off")
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    by_set = {name: [] for name in _SETS}
    masks = {_grouping_mask(cols): name for name, cols in _SETS.items()}
    for mask, *values, n in fetched:
        by_set[masks[mask]].append((dict(zip(_LABELLED, values, strict=True)), int(n)))

    days = {row["day"]: n for row, n in by_set["days"]}  # local days
    grid = [[0] * 24 for _ in range(7)]
    for row, n in by_set["weekday_hours"]:
        grid[int(row["weekday"]) - 1][int(row["hour"])] += n

    def labelled(name, key):
        return [(row[key], n) for row, n in by_set[name]]

    return rollups.entry_figures(
        flt.start,
        flt.end,
        per_day=days,
        grid=grid,
        labelled={
            "by_mode": labelled("by_mode", "mode_label"),
            "by_location": labelled("by_location", "location_label"),
            "by_question_type": labelled("by_question_type", "type_label"),
        },
        read_levels={row["read_scale"]: n for row, n in by_set["by_read_scale"]},
        referrals=[(row["referral_kind"], row["source"], n) for row, n in by_set["by_referral"]],
        minutes=sorted((row["duration_minutes"], n) for row, n in by_set["duration"]),
        languages={row["language"]: n for row, n in by_set["by_language"]},
    )


def report(flt: ReportFilter) -> dict:
    """Everything the /analytics/ page shows. Unfiltered, or by one filter but staff
    (a department, a mode, a location, a question type): from the figures kept per day
    (``analytics.rollups``; the days not kept are computed from the entries). Other
    filters: the entry figures on PostgreSQL in one query whatever the range (every
    figure in one pass), elsewhere one or two queries per figure; the chat figures kept
    too (location, mode and question type leave them as they are) unless by staff (one
    more query)."""
    if not flt.filters_set:
        return {"filter": flt, **rollups.report(flt.start, flt.end)}
    (only,) = flt.filters_set if len(flt.filters_set) == 1 else (None,)
    if only == "department":  # the kept figures hold each department's share…
        return {"filter": flt, **rollups.report(flt.start, flt.end, flt.department.pk)}
    if only in SHARES:  # …and each mode's, location's and question type's of the entries
        share = (SHARES[only], getattr(flt, only).pk)
        return {"filter": flt, **rollups.report(flt.start, flt.end, share=share)}
    if flt.staff is None:
        # Location, mode and question type describe entries, not chats: the chat figures
        # are the library's or the department's, kept.
        department = flt.department.pk if flt.department is not None else None
        chat_figures = rollups.chat_figures(flt.start, flt.end, department)
    else:
        chat_figures = chat_stats(flt)
    if connection.vendor == "postgresql":
        return {"filter": flt, **_entry_figures_one_pass(flt), "chats": chat_figures}
    duration_stats = duration(flt)
    return {
        "filter": flt,
        "total": duration_stats["count"],
        "per_day": per_day(flt),
        "heatmap": heatmap(flt),
        "by_mode": by_mode(flt),
        "by_location": by_location(flt),
        "by_question_type": by_question_type(flt),
        "by_read_scale": by_read_scale(flt),
        "by_referral": by_referral(flt),
        "entry_languages": entry_languages(flt),
        "duration": duration_stats,
        "chats": chat_figures,
    }
