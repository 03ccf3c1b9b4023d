"""The read side of Reference Analytics: every number is aggregated in the database.

No function here loads entries into Python; each returns a few grouped rows. The page
needs a fixed number of queries whatever the date range or the number of entries.
Medians are computed by the database too: ``percentile_cont`` on PostgreSQL, an
ORDER BY … LIMIT/OFFSET query elsewhere (SQLite).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    OuterRef,
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
from django.utils import timezone

from analytics.models import Interaction
from chat.aggregates import PercentileCont, SecondsBetween, median  # noqa: F401
from chat.models import Chat

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DEFAULT_DAYS = 30


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
    def applies_to_chats_only_partly(self) -> bool:
        """Location, mode and question type describe entries, not chats."""
        return bool(self.location or self.mode or self.question_type)


def interactions(flt: ReportFilter) -> QuerySet:
    lower, upper = flt.bounds
    qs = Interaction.objects.filter(occurred_at__gte=lower, occurred_at__lt=upper)
    for field in ("department", "location", "mode", "staff", "question_type"):
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


def _counts_by(qs: QuerySet, label_expression, none_label="(not recorded)") -> list[dict]:
    rows = (
        qs.annotate(label=label_expression)
        .values("label")
        .annotate(count=Count("id"))
        .order_by("-count", "label")
    )
    return [{"label": row["label"] or none_label, "count": row["count"]} for row in rows]


def by_mode(flt):
    return _counts_by(interactions(flt), F("mode__name"))


def by_location(flt):
    return _counts_by(interactions(flt), F("location__name"))


def by_question_type(flt):
    return _counts_by(interactions(flt), F("question_type__name"))


def by_read_scale(flt) -> list[dict]:
    rows = interactions(flt).values("read_scale").annotate(count=Count("id")).order_by("read_scale")
    counts = {row["read_scale"]: row["count"] for row in rows}
    out = [{"label": str(level), "count": counts.get(level, 0)} for level in range(1, 7)]
    if counts.get(None):
        out.append({"label": "(not recorded)", "count": counts[None]})
    return out


def by_referral(flt) -> list[dict]:
    """Who referred questions: ``{"kind": …, "label": source, "count": n}``, busiest first."""
    source = Coalesce(
        NullIf(F("referred_by_operator__display_name"), Value("")),
        NullIf(F("referred_by_operator__user__first_name"), Value("")),
        F("referred_by_operator__user__username"),
        F("referred_by_department__name"),
        NullIf(F("referred_by_text"), Value("")),
    )
    rows = (
        interactions(flt)
        .exclude(referral_kind="")
        .annotate(source=source)
        .values("referral_kind", "source")
        .annotate(count=Count("id"))
        .order_by("-count", "referral_kind", "source")
    )
    kinds = dict(Interaction.Referral.choices)
    return [
        {
            "kind": kinds.get(row["referral_kind"], row["referral_kind"]),
            "label": row["source"] or "(unnamed)",
            "count": row["count"],
        }
        for row in rows
    ]


def duration(flt) -> dict:
    qs = interactions(flt)
    stats = qs.aggregate(count=Count("id"), mean=Avg("duration_minutes"))
    return {
        "count": stats["count"],
        "mean": stats["mean"],
        "median": median(qs, F("duration_minutes")),
    }


def chat_stats(flt) -> dict:
    """Chats in the range: how many, how long patrons waited (queue → claim), how many
    ended before anyone claimed them, and how many ended chats have no entry."""
    qs = chats(flt)
    claimed = qs.filter(claimed_at__isnull=False)
    wait = SecondsBetween("created_at", "claimed_at")
    has_entry = Exists(Interaction.objects.filter(chat=OuterRef("pk")))
    finished = [Chat.Status.ENDED, Chat.Status.CLOSED]
    stats = qs.aggregate(
        total=Count("id"),
        claimed=Count("id", filter=Q(claimed_at__isnull=False)),
        abandoned=Count("id", filter=Q(claimed_at__isnull=True, status__in=finished)),
        waiting_now=Count("id", filter=Q(status=Chat.Status.WAITING)),
    )
    stats["mean_wait"] = claimed.aggregate(m=Avg(wait))["m"]
    stats["median_wait"] = median(claimed, wait)
    stats["without_entry"] = (
        qs.filter(claimed_at__isnull=False, status__in=finished).filter(~has_entry).count()
    )
    return stats


def report(flt: ReportFilter) -> dict:
    """Everything the /analytics/ page shows."""
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
        "duration": duration_stats,
        "chats": chat_stats(flt),
    }
