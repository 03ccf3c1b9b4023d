"""Every write to Reference Analytics: one keyword-only function each, in a transaction.

Views and the admin call these; they never save an ``Interaction`` themselves.
"""

import math
import uuid
from datetime import date, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import rollups
from analytics.models import (
    ChatLocation,
    Choice,
    FormSettings,
    Interaction,
    ReportDay,
    ReportDepartmentDay,
    ReportFigure,
    ReportMonth,
)
from chat import selectors as chat_selectors
from chat.exceptions import Conflict, Forbidden, InvalidInput
from chat.models import Chat

# The fields a caller may set through ``data`` (a form's cleaned_data).
ENTRY_FIELDS = (
    "occurred_at",
    "department",
    "ticket_ref",
    "location",
    "mode",
    "duration_minutes",
    "referral_kind",
    "referred_by_operator",
    "referred_by_department",
    "referred_by_text",
    "question_type",
    "read_scale",
    "patron_type",
    "topic",
    "question",
    "answer",
    "note",
)


def chat_duration_minutes(chat: Chat) -> int:
    """The chat's length, for the form's prefill: from the claim (or, if never claimed,
    from the start) to its end (or now), in whole minutes, at least 1."""
    start = chat.claimed_at or chat.created_at
    end = chat.ended_at or timezone.now()
    return max(1, math.ceil((end - start).total_seconds() / 60))


def _entry_values(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(ENTRY_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    values = dict(data)
    for required in ("location", "mode", "duration_minutes"):
        if values.get(required) in (None, ""):
            raise InvalidInput(_("%(field)s is required.") % {"field": required})
    if values.get("occurred_at") is None:
        values["occurred_at"] = timezone.now()
    elif values["occurred_at"] > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(_("An interaction cannot be in the future."), code="future")
    kind = values.get("referral_kind") or ""
    keep = {
        Interaction.Referral.OPERATOR: "referred_by_operator",
        Interaction.Referral.DEPARTMENT: "referred_by_department",
        Interaction.Referral.OTHER: "referred_by_text",
    }.get(kind)
    # Only the referral of the chosen kind is kept: a stale department behind an
    # "operator" referral would be counted wrongly in the reports.
    values["referral_kind"] = kind
    for field in ("referred_by_operator", "referred_by_department"):
        if field != keep:
            values[field] = None
    if keep != "referred_by_text":
        values["referred_by_text"] = ""
    if keep and not values.get(keep):
        raise InvalidInput(_("Say who referred the question."), code="referral")
    return values


@transaction.atomic
def interaction_record(
    *,
    recorded_by,
    data: dict[str, Any],
    chat: Chat | None = None,
) -> Interaction:
    """Record one Reference Analytics entry (``data``: a validated form's cleaned data).

    With ``chat``: the entry for that chat, which must have ended; it is linked to the
    chat, its department is the chat's, and "answered by" is the operator who had it.
    The chat row is locked (select_for_update) so that two tabs saving at once make one
    entry; the second gets ``Conflict``. Without a chat, "answered by" is the recorder.
    """
    values = _entry_values(data)
    staff = recorded_by
    if chat is not None:
        chat = (
            Chat.objects.select_for_update(of=("self",))
            .select_related("operator__user")
            .get(pk=chat.pk)
        )
        operator = chat_selectors.operator_for_user(recorded_by)
        if operator is None or not chat_selectors.operator_can_see_chat(operator, chat):
            raise Forbidden(_("That chat belongs to a department you are not in."))
        if chat.status not in (Chat.Status.ENDED, Chat.Status.CLOSED):
            raise Conflict(_("End the chat before recording it."), code="not_ended")
        if Interaction.objects.filter(chat=chat).exists():
            raise Conflict(_("This chat's statistics are already recorded."), code="recorded")
        values["department"] = chat.department
        if chat.operator_id:
            staff = chat.operator.user
    try:
        with transaction.atomic():
            entry = Interaction.objects.create(
                chat=chat, staff=staff, recorded_by=recorded_by, **values
            )
    except IntegrityError:
        raise Conflict(_("This chat's statistics are already recorded."), code="recorded") from None
    _report_days_changed(entry.occurred_at, chat.created_at if chat else None)
    return entry


@transaction.atomic
def interaction_update(*, interaction: Interaction, data: dict[str, Any], actor) -> Interaction:
    """Correct an entry (the admin's change form). The chat link, who answered and who
    recorded it do not change."""
    values = _entry_values(data)
    if interaction.chat_id:
        values.pop("department", None)
    # The stored time, not the instance's: an admin form has already set the new one on it.
    stored = Interaction.objects.filter(pk=interaction.pk).values_list("occurred_at", flat=True)
    _report_days_changed(*stored, values["occurred_at"])
    Interaction.objects.filter(pk=interaction.pk).update(**values)
    for field, value in values.items():
        setattr(interaction, field, value)
    return interaction


@transaction.atomic
def interaction_delete(*, interaction: Interaction) -> None:
    """Remove an entry (the admin): its chat, if any, shows "no statistics recorded"
    again and returns to its operator's list of ended chats without an entry."""
    row = (
        Interaction.objects.filter(pk=interaction.pk)
        .values_list("occurred_at", "chat__created_at")
        .first()
    )
    if row:
        _report_days_changed(*row)
    Interaction.objects.filter(pk=interaction.pk).delete()


# --- What the admin configures: choice lists and which fields are required ---------------

CHOICE_FIELDS = ["name", "slug", "is_active", "position"]


@transaction.atomic
def choice_save(*, choice: Choice) -> Choice:
    """Create or update a choice-list row (Location, Mode, …). Retiring one is
    ``is_active=False``: it leaves the form, entries that used it keep it."""
    if choice.pk is None:
        choice.save()
    else:
        choice.save(update_fields=CHOICE_FIELDS)
    return choice


@transaction.atomic
def choice_delete(*, choice: Choice) -> None:
    """Delete a choice nobody used; one in use is refused (retire it instead)."""
    model = type(choice)
    locked = model.objects.select_for_update().filter(pk=choice.pk)
    [field] = [f.name for f in Interaction._meta.concrete_fields if f.related_model is model]
    if Interaction.objects.filter(**{field: choice.pk}).exists():
        raise Conflict(
            f"“{choice.name}” is used by entries: retire it (untick Active) instead.",
            code="in_use",
        )
    locked.delete()


@transaction.atomic
def form_settings_save(*, form_settings: FormSettings) -> FormSettings:
    """Save the one settings row (pk 1): which optional fields the form requires."""
    form_settings.pk = 1
    fields = [f.name for f in FormSettings._meta.concrete_fields if f.name != "id"]
    if FormSettings.objects.filter(pk=1).exists():
        form_settings.save(update_fields=fields)
    else:
        form_settings.save(force_insert=True)
    return form_settings


@transaction.atomic
def chat_location_save(*, chat_location: ChatLocation) -> ChatLocation:
    """A department's starting Location for its chats' entries (one per department)."""
    chat_location.full_clean()
    chat_location.save()
    return chat_location


@transaction.atomic
def chat_location_delete(*, chat_location: ChatLocation) -> None:
    chat_location.delete()


# --- Privacy: retention of free text ------------------------------------------------------

FREE_TEXT_FIELDS = ("question", "answer", "note")


@transaction.atomic
def interactions_retention_apply(*, now=None) -> dict[str, int]:
    """Blank the free text of entries older than RETENTION["ANALYTICS_TEXT_DAYS"] (by
    when the interaction happened; default: the transcript period, since the question
    is prefilled from the transcript). The question, answer and internal note may
    quote a patron; every count, choice, duration and link that reports use stays.
    Idempotent: a second run finds nothing left to do. Registered with the chat desk's
    retention job (``chat.extensions.register_retention``)."""
    now = now or timezone.now()
    periods = settings.RETENTION
    days = periods.get("ANALYTICS_TEXT_DAYS", periods["TRANSCRIPT_DAYS"])
    old = Interaction.objects.filter(occurred_at__lt=now - timedelta(days=days))
    with_text = old.exclude(**{field: "" for field in FREE_TEXT_FIELDS})
    scrubbed = with_text.update(**{field: "" for field in FREE_TEXT_FIELDS})
    return {"entries_scrubbed": scrubbed}


# --- The figures kept per day for the reports (analytics.rollups) ------------------------


def _report_days_changed(*moments) -> None:
    """In the caller's transaction: the days of ``moments`` (entries' times, chats'
    queue times; None ignored) no longer match their kept figures. A new token makes
    the figures not count; they are deleted at once (a referral's free text must not
    outlive the entry it came from), and so are the sums of their months that reach
    them. Upserting the day's row takes its lock, so a build of that day (or of its
    month) running now finishes first and its figures are the ones deleted here; days
    in order, so that two writers never wait for each other crosswise."""
    days = sorted({timezone.localdate(m) for m in moments if m is not None})
    if not days:
        return
    ReportDay.objects.bulk_create(
        [ReportDay(day=day, token=uuid.uuid4()) for day in days],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["token"],
    )
    _report_month_sums_drop(days)
    ReportFigure.objects.filter(whole_month=False, day__in=days).delete()
    ReportDepartmentDay.objects.filter(day__in=days).delete()


def _report_month_sums_drop(days) -> None:
    """Delete the sums of the months that reach one of ``days`` (not the month in
    progress's, for an entry recorded today)."""
    if not days:
        return
    reaching = reduce(or_, (Q(month=day.replace(day=1), through__gte=day) for day in days))
    months = list(ReportMonth.objects.filter(reaching).values_list("month", flat=True))
    if months:
        ReportMonth.objects.filter(month__in=months).delete()
        ReportFigure.objects.filter(whole_month=True, day__in=months).delete()


def report_days_build(
    *, before: date | None = None, limit: int | None = 400, batch: int = 31
) -> dict:
    """Keep the figures of days before ``before`` (default: today, in the desk's time
    zone) that are not kept yet or changed since, newest first, at most ``limit`` days
    (None: every day since the first entry or chat); and keep again the days kept with
    chats still open (left out of their figures) once those have all finished. Each
    batch of days is one transaction holding their rows' locks, so an entry recorded
    meanwhile waits and then marks its day changed again. Then each month's kept days
    from its 1st are added up once more (a year's report reads twelve months). Returns
    how many days were built (``open``: how many of them left chats still open out),
    and how many months were added up."""
    before = before or timezone.localdate()
    first = _first_day()
    if first is not None:
        first = first.replace(day=1)  # the first month whole, so that it can be added up
    if first is None or first >= before:
        return {"built": 0, "open": 0, "months": 0}
    kept = dict(
        ReportDay.objects.filter(
            day__gte=first,
            day__lt=before,
            built_token=F("token"),
            time_zone=rollups.time_zone_name(),
        ).values_list("day", "open_chats")
    )
    todo = [
        day
        for day in (before - timedelta(days=i) for i in range(1, (before - first).days + 1))
        if day not in kept
    ][:limit]
    todo += _report_days_finished(kept)
    built = still_open = 0
    for i in range(0, len(todo), batch):
        done, with_open = _report_days_build_batch(sorted(todo[i : i + batch]))
        built += done
        still_open += with_open
    months = _report_months_build(first, before)
    return {"built": built, "open": still_open, "months": months}


def _report_days_finished(kept: dict) -> list[date]:
    """The kept days (``{day: open_chats}``) that left out chats which have all finished
    since: to keep again, with them."""
    open_ids = {pk for ids in kept.values() for pk in ids}
    if not open_ids:
        return []
    still_open = set(
        Chat.objects.filter(pk__in=open_ids)
        .exclude(status__in=rollups.FINISHED)
        .values_list("pk", flat=True)
    )
    return [day for day, ids in kept.items() if ids and not still_open.intersection(ids)]


def _report_months_build(first: date, before: date) -> int:
    """Add up the kept days of every month from ``first`` (a first of the month) to
    before ``before``, from its 1st to the last day before the first one not kept, where
    that is further than the month's sums reach (the month in progress: a day further
    each day); returns how many months were."""
    zone = rollups.time_zone_name()
    kept_days = set(
        ReportDay.objects.filter(
            day__gte=first, day__lt=before, built_token=F("token"), time_zone=zone
        ).values_list("day", flat=True)
    )
    kept_months = dict(ReportMonth.objects.filter(time_zone=zone).values_list("month", "through"))
    month, built = first, 0
    while month < before:
        days = rollups.month_days(month)
        through = None
        for day in days:
            if day >= before or day not in kept_days:
                break
            through = day
        if through is not None and kept_months.get(month) != through:
            built += _report_month_build(month, through)
        month = days[-1] + timedelta(days=1)
    return built


@transaction.atomic
def _report_month_build(month: date, through: date) -> int:
    """One month's sums, from its days' kept figures (its 1st to ``through``), under
    those days' locks (a day that changed meanwhile leaves the month for a later run)."""
    zone = rollups.time_zone_name()
    days = [day for day in rollups.month_days(month) if day <= through]
    rows = list(
        ReportDay.objects.select_for_update()
        .filter(day__gte=days[0], day__lte=days[-1])
        .order_by("day")
    )
    if len(rows) != len(days) or any(
        row.built_token != row.token or row.time_zone != zone for row in rows
    ):
        return 0
    # Its earlier sums (fewer days, or another zone's).
    ReportFigure.objects.filter(whole_month=True, day=month).delete()
    figures = ReportFigure.objects.filter(whole_month=False, day__gte=days[0], day__lte=days[-1])
    # The library's sums, each department's and each choice's share's.
    shares = ("department", "share", "share_value")
    sums = [
        ReportFigure(whole_month=True, day=month, count=row.pop("n"), **row)
        for row in rollups.summed_by_value(figures, *shares)
    ]
    sums += [
        ReportFigure(
            whole_month=True,
            day=month,
            figure=ReportFigure.Figure.WEEKDAY_HOUR,
            value=(row["weekday"] - 1) * 24 + row["value"],
            count=row["n"],
            **{name: row[name] for name in shares},
        )
        for row in rollups.summed_by_weekday_hour(figures, *shares)  # days' HOUR rows
    ]
    ReportFigure.objects.bulk_create(sums, batch_size=2000)
    ReportMonth.objects.update_or_create(
        month=month, defaults={"time_zone": zone, "through": through, "built_at": timezone.now()}
    )
    return 1


def _first_day() -> date | None:
    moments = [
        Interaction.objects.order_by("occurred_at").values_list("occurred_at", flat=True).first(),
        Chat.objects.order_by("created_at").values_list("created_at", flat=True).first(),
    ]
    moments = [m for m in moments if m is not None]
    return timezone.localdate(min(moments)) if moments else None


def _set_totals(row, fig: rollups.DayFigures):
    """A ReportDay's or ReportDepartmentDay's totals from a day's figures."""
    for name in rollups.TOTALS:
        setattr(row, name, getattr(fig, name))
    return row


@transaction.atomic
def _report_days_build_batch(days: list[date]) -> tuple[int, int]:
    # Rows first, so that every day has one to lock (a day's first row, inserted here,
    # is locked by this transaction as the ones selected for update are).
    ReportDay.objects.bulk_create([ReportDay(day=day) for day in days], ignore_conflicts=True)
    rows = {
        row.day: row
        for row in ReportDay.objects.select_for_update().filter(day__in=days).order_by("day")
    }
    # Each department's share (None: entries of no department); the library's figures
    # are their sum. The chats still open are left out (ReportDay.open_chats).
    shares = rollups.compute_days(days, per_department=True, finished_only=True)
    # Each mode's, location's and question type's share of the entries (a report
    # filtered by one reads it); an entry without that choice is in no share of it.
    choice_shares = [
        (figure, value, day, fig)
        for figure in rollups.SHARE_FIGURES
        for (day, value), fig in rollups.compute_days(days, per_share=figure).items()
        if value is not None
    ]
    figures: dict[date, rollups.DayFigures] = {}
    for (day, _department), share in shares.items():
        figures.setdefault(day, rollups.DayFigures()).add(share)
    now, zone = timezone.now(), rollups.time_zone_name()
    done = []
    for day in days:
        fig = figures.get(day) or rollups.DayFigures()
        row = rows[day]
        row.built_token, row.time_zone, row.built_at = row.token, zone, now
        row.open_chats = sorted(fig.open_chats)
        _set_totals(row, fig)
        done.append(row)
    done_days = {row.day for row in done}
    _report_month_sums_drop(done_days)  # a day kept again (its open chats finished)
    ReportFigure.objects.filter(whole_month=False, day__in=done_days).delete()
    ReportDepartmentDay.objects.filter(day__in=done_days).delete()
    # The library's figures, then each department's share (entries of no department
    # count for the library only).
    ReportFigure.objects.bulk_create(
        [f for day in done_days if day in figures for f in rollups.figure_rows(day, figures[day])]
        + [
            f
            for (day, department), fig in shares.items()
            if day in done_days and department is not None
            for f in rollups.figure_rows(day, fig, department)
        ]
        + [
            f
            for figure, value, day, fig in choice_shares
            if day in done_days
            for f in rollups.figure_rows(day, fig, share=(figure, value))
        ],
        batch_size=2000,
    )
    ReportDepartmentDay.objects.bulk_create(
        [
            _set_totals(ReportDepartmentDay(day=day, department=department), fig)
            for (day, department), fig in shares.items()
            if day in done_days and department is not None
        ]
    )
    ReportDay.objects.bulk_update(
        done,
        ["built_token", "time_zone", "built_at", "open_chats", *rollups.TOTALS],
    )
    return len(done), sum(1 for row in done if row.open_chats)
