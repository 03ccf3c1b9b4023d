"""Reading a report from the kept days and months, with the days not kept computed."""

from collections import Counter
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, When
from django.db.models.functions import ExtractIsoWeekDay

from analytics.models import (
    ReportDay,
    ReportDepartmentDay,
    ReportFigure,
    ReportMonth,
)
from analytics.rollups.days import (
    HOUR_FIGURES,
    KEY_FIELDS,
    NO_SHARE,
    TOTALS,
    DayFigures,
    Figure,
    compute_days,
    day_ranges,
    key,
    month_days,
    time_zone_name,
)
from analytics.rollups.shape import entry_figures, median_of_counts, named_counts, referral_counts


def _kept(start: date, end: date):
    return ReportDay.objects.filter(
        day__gte=start, day__lte=end, built_token=F("token"), time_zone=time_zone_name()
    )


def _around(start: date, end: date) -> tuple[date, date]:
    """start…end widened to whole months: a month's sums less its days outside the range
    need to know those days are kept too."""
    return start.replace(day=1), month_days(end.replace(day=1))[-1]


def summed_by_value(figures: QuerySet, *also: str, count: str = "count") -> QuerySet:
    """Every figure but the hours of ``figures`` (kept rows) added up per value (and per
    the fields ``also``): dicts of those fields, KEY_FIELDS and ``n``, the sum of
    ``count`` (``signed`` for ``_kept_figures``' rows)."""
    return (
        figures.exclude(figure__in=HOUR_FIGURES)
        .values(*also, *KEY_FIELDS)
        .annotate(n=Sum(count))
        .order_by()
    )


def summed_by_weekday_hour(figures: QuerySet, *also: str, count: str = "count") -> QuerySet:
    """The hours of ``figures`` added up: dicts of ``also``, ``figure``, ``weekday``
    (ISO, of the row's day: what an HOUR row means; a month's WEEKDAY_HOUR carries it in
    its value), ``value`` and ``n`` (the sum of ``count``)."""
    return (
        figures.filter(figure__in=HOUR_FIGURES)
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values(*also, "figure", "weekday", "value")
        .annotate(n=Sum(count))
        .order_by()
    )


def report(
    start: date, end: date, department: int | None = None, share: tuple | None = None
) -> dict:
    """Every figure of the report for ``start``…``end`` (inclusive) of the whole library,
    of one ``department`` (its pk), or of the entries of one ``share`` ((figure, choice
    id): a mode, location or question type; the chat figures are then the library's,
    which those choices do not narrow), in the shape ``analytics.reports.report``
    returns. Kept months and days: three or four queries over their figures; the other
    days: ``compute_days``; then the names of the choices, operators and departments
    counted."""
    if department is not None and share is not None:
        raise ValueError("Shares of a choice are kept for the whole library only.")
    day_rows, kept_days, live, still_open = _days(start, end, department, share)
    per_day = {row["day"]: row["entries"] for row in day_rows}
    grid = [[0] * 24 for _ in range(7)]
    for d, fig in live.items():
        per_day[d] = fig.entries
        for (figure, value, *_rest), n in fig.counts.items():
            if figure == Figure.HOUR:
                grid[d.isoweekday() - 1][value] += n
    # The live hours too, unread below: the grid has them.
    totals = _totals(day_rows, live, still_open)
    counts = totals.counts
    figures = _kept_figures(start, end, kept_days, department, share)
    if figures is not None:
        for row in summed_by_value(figures, count="signed"):
            counts[key(*(row[name] for name in KEY_FIELDS))] += row["n"]
        for row in summed_by_weekday_hour(figures, count="signed"):
            if row["figure"] == Figure.HOUR:
                grid[row["weekday"] - 1][row["value"]] += row["n"]
            else:
                grid[row["value"] // 24][row["value"] % 24] += row["n"]

    def values_of(figure) -> list[tuple]:
        return _by_value((k[1], n) for k, n in counts.items() if k[0] == figure)

    if share is None:
        chats = _chat_figures(
            totals, values_of(Figure.WAIT), languages_of(counts, Figure.CHAT_LANGUAGE)
        )
    else:
        chats = chat_figures(start, end)
    return {
        **entry_figures(
            start,
            end,
            per_day=per_day,
            grid=grid,
            labelled=named_counts(counts),
            read_levels=dict(values_of(Figure.READ_SCALE)),
            referrals=referral_counts(counts),
            minutes=values_of(Figure.DURATION),
            languages=languages_of(counts, Figure.LANGUAGE),
        ),
        "chats": chats,
    }


def languages_of(counts: Counter, figure) -> dict[str, int]:
    """A language figure's counts by language code ("": none recorded)."""
    out: Counter = Counter()
    for k, n in counts.items():
        if k[0] == figure and n:
            out[k[6]] += n
    return dict(out)


def chat_figures(start: date, end: date, department: int | None = None) -> dict:
    """``report(start, end, department)["chats"]`` alone: the chat figures, which the
    filters that describe entries and not chats (location, mode, question type) leave
    as they are. The kept days' totals and waits, and the days not kept computed."""
    day_rows, kept_days, live, still_open = _days(start, end, department, with_entries=False)
    totals = _totals(day_rows, live, still_open)
    waits = Counter({k[1]: n for k, n in totals.counts.items() if k[0] == Figure.WAIT})
    languages = Counter(languages_of(totals.counts, Figure.CHAT_LANGUAGE))
    figures = _kept_figures(start, end, kept_days, department)
    if figures is not None:
        summed = (
            figures.filter(figure__in=[Figure.WAIT, Figure.CHAT_LANGUAGE])
            .values("figure", "value", "language")
            .annotate(n=Sum("signed"))
        )
        for row in summed.order_by():
            if row["figure"] == Figure.WAIT:
                waits[row["value"]] += row["n"]
            else:
                languages[row["language"]] += row["n"]
    return _chat_figures(
        totals, _by_value(waits.items()), {c: n for c, n in languages.items() if n}
    )


def _totals(day_rows, live, still_open) -> "DayFigures":
    """The kept days' totals rows, the live days' figures and the chats the kept days
    left out, added up."""
    totals = DayFigures(**{name: sum(row[name] for row in day_rows) for name in TOTALS})
    for fig in live.values():
        totals.add(fig)
    return totals.add(still_open)


def _by_value(pairs) -> list[tuple]:
    """(value, count) pairs with a count, by value (None last)."""
    return sorted(((v, n) for v, n in pairs if n), key=lambda pair: (pair[0] is None, pair[0] or 0))


def _days(start, end, department, share=None, with_entries=True):
    """The kept days of ``start``…``end``: their totals rows (the library's, the
    department's share, or a choice's share: its entries alone, added up from its kept
    hours); the set of the kept days of the months around it (``_kept_figures`` may
    take some away from their month's sums); the figures of the days of the range not
    kept, computed (``compute_days``; ``with_entries=False``: their chat figures
    alone); and the chat figures of the chats the kept days of the range left out
    (still open when kept: ``ReportDay.open_chats``), as they are now (none for a
    choice's share, which has no chat figures)."""
    inside = {"day__gte": start, "day__lte": end}
    kept = _kept(*_around(start, end))
    if department is None and share is None:
        rows = list(kept.values("day", "open_chats", *TOTALS))
        kept_days = {row["day"] for row in rows}
        day_rows = [row for row in rows if start <= row["day"] <= end]
        left_out = {row["day"]: row["open_chats"] for row in day_rows}
    else:
        left_out = dict(kept.values_list("day", "open_chats"))
        kept_days = set(left_out)
        left_out = {day: ids for day, ids in left_out.items() if start <= day <= end}
    if share is not None:
        figure, value = share
        hours = (
            ReportFigure.objects.filter(
                department=None,
                share=figure,
                share_value=value,
                whole_month=False,
                figure=Figure.HOUR,
                **inside,
            )
            .values("day")
            .annotate(entries=Sum("count"))
            .order_by()
        )
        nothing = dict.fromkeys(TOTALS, 0)
        day_rows = [{**nothing, **row} for row in hours if row["day"] in kept_days]
    elif department is not None:
        day_rows = [
            row
            for row in ReportDepartmentDay.objects.filter(department=department, **inside).values(
                "day", *TOTALS
            )
            if row["day"] in kept_days
        ]
    span = (end - start).days + 1
    every_day = [start + timedelta(days=i) for i in range(span)]
    live = compute_days(
        [d for d in every_day if d not in kept_days],
        department=department,
        share=share,
        with_entries=with_entries,
    )
    still_open = DayFigures()
    left_out = {day: ids for day, ids in left_out.items() if ids}
    if share is None and left_out:
        for fig in compute_days(
            sorted(left_out),
            department=department,
            chats_among=[pk for ids in left_out.values() for pk in ids],
            with_entries=False,
        ).values():
            still_open.add(fig)
    return day_rows, kept_days, live, still_open


# A month's sums hold about as many rows as two days' own (its 168 weekday hours
# against a day's 24, more distinct waits): the cost, in days, of reading them.
MONTH_COST = 2


def _kept_figures(start, end, kept_days, department, share=None) -> QuerySet | None:
    """The kept figure rows (of the library, a department or a choice's share) that add
    up to the kept days of ``start``…``end`` (``kept_days``: the kept days of the
    months around it), each with ``signed``, its count or, for a day taken away from its
    month's sums, minus its count. For each month, the fewer rows of: its sums
    (``ReportMonth``: its days from the 1st to ``through``) less its days outside the
    range, plus its kept days in the range after ``through``; or its kept days in the
    range, each day's own rows. A whole year: twelve months' sums, and the days of the
    month in progress since its sums were last added up. None: no day kept."""
    if not kept_days:
        return None
    summed = dict(
        ReportMonth.objects.filter(
            month__gte=start.replace(day=1), month__lte=end, time_zone=time_zone_name()
        ).values_list("month", "through")
    )
    months, plus, minus = [], set(), set()
    month = start.replace(day=1)
    while month <= end:
        days = month_days(month)
        kept_inside = {d for d in days if start <= d <= end and d in kept_days}
        through = summed.get(month)
        if through is not None and all(d in kept_days for d in days if d <= through):
            outside = {d for d in days if d <= through and not start <= d <= end}
            after = {d for d in kept_inside if d > through}
            if MONTH_COST + len(outside) + len(after) < len(kept_inside):
                months.append(month)
                minus |= outside
                plus |= after
                kept_inside = set()
        plus |= kept_inside
        month = days[-1] + timedelta(days=1)
    if not months and not plus:
        return None
    kept = [Q(whole_month=True, day__in=months)] if months else []
    kept += [
        Q(whole_month=False, day__gte=first, day__lte=last) for first, last in day_ranges(plus)
    ]
    taken_away = [
        Q(whole_month=False, day__gte=first, day__lte=last) for first, last in day_ranges(minus)
    ]
    share_figure, share_value = share or NO_SHARE
    figures = ReportFigure.objects.filter(
        reduce(or_, kept + taken_away),
        department=department,
        share=share_figure,
        share_value=share_value,
    )
    if not taken_away:
        return figures.annotate(signed=F("count"))
    return figures.annotate(
        signed=Case(
            When(reduce(or_, taken_away), then=-F("count")),
            default=F("count"),
            output_field=IntegerField(),  # a count taken away is below zero
        )
    )


def _chat_figures(totals: "DayFigures", waits: list[tuple], languages: dict) -> dict:
    claimed = totals.chats_claimed
    return {
        "by_language": languages,
        "total": totals.chats,
        "claimed": claimed,
        "abandoned": totals.chats_abandoned,
        "without_entry": totals.chats_without_entry,
        "waiting_now": totals.waiting,
        "mean_wait": totals.wait_seconds_total / claimed if claimed else None,
        "median_wait": median_of_counts(waits),
    }
