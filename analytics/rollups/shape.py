"""The report's figures in the page's shape, from counts however they were obtained
(kept days, live days, or ``analytics.reports``' one pass over the entries)."""

from collections import Counter
from datetime import date, timedelta

from django.utils.translation import gettext as _

from analytics.models import (
    Interaction,
    Location,
    Mode,
    QuestionType,
)
from analytics.rollups.days import Figure
from chat.models import Department, Operator

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


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


def named_counts(counts: Counter) -> dict[str, list[tuple[str | None, int]]]:
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


def referral_counts(counts: Counter) -> list[tuple[str, str | None, int]]:
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
    for (_figure, _value, kind, operator, department, text, _language), n in rows:
        source = operators.get(operator) or departments.get(department) or text or None
        by_source[(kind, source)] += n
    return [(kind, source, n) for (kind, source), n in by_source.items()]


def busiest(rows: list[tuple[str | None, int]]) -> list[dict]:
    """(label, count) pairs as the report's rows: busiest first, then by name, the
    unnamed last (ordered here, the same on SQLite and PostgreSQL, which put NULL at
    opposite ends)."""
    ordered = sorted(rows, key=lambda r: (-r[1], r[0] is None, r[0] or ""))
    return [{"label": label or _("(not recorded)"), "count": n} for label, n in ordered]


def referral_rows(referrals: list[tuple[str, str | None, int]]) -> list[dict]:
    """(kind, source, count) triples as the report's referral rows, busiest first; the
    empty kind ("nobody") left out."""
    kinds = dict(Interaction.Referral.choices)
    ordered = sorted(referrals, key=lambda r: (-r[2], r[0], r[1] is None, r[1] or ""))
    return [
        {"kind": kinds.get(kind, kind), "label": source or _("(unnamed)"), "count": n}
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
    languages: dict[str, int],
) -> dict:
    """The report's entry figures in the page's shape, from counts however they were
    obtained (kept days, live days, or ``analytics.reports``' one pass): every day of
    the range (zeros included), the weekday × hour grid, counts by name busiest first
    (``None`` = not recorded), READ levels 1–6, referrals, duration median and mean,
    entries by their chat's patron language (code: count; "": none, as an entry not
    from a chat)."""
    total = sum(n for _v, n in minutes)
    span = (end - start).days + 1
    read_scale = [
        {"label": str(level), "count": read_levels.get(level, 0)} for level in range(1, 7)
    ]
    if read_levels.get(None):
        read_scale.append({"label": _("(not recorded)"), "count": read_levels[None]})
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
        "entry_languages": languages,
        "duration": {
            "count": total,
            "mean": sum(v * n for v, n in minutes) / total if total else None,
            "median": median_of_counts(minutes),
        },
    }
