"""Every write to Reference Analytics: one keyword-only function each, in a transaction.

Views and the admin call these; they never save an ``Interaction`` themselves.
"""

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics.models import Choice, FormSettings, Interaction
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
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.")
    values = dict(data)
    for required in ("location", "mode", "duration_minutes"):
        if values.get(required) in (None, ""):
            raise InvalidInput(f"{required} is required.")
    if values.get("occurred_at") is None:
        values["occurred_at"] = timezone.now()
    elif values["occurred_at"] > timezone.now() + timedelta(minutes=5):
        raise InvalidInput("An interaction cannot be in the future.", code="future")
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
        raise InvalidInput("Say who referred the question.", code="referral")
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
            raise Forbidden("That chat belongs to a department you are not in.")
        if chat.status not in (Chat.Status.ENDED, Chat.Status.CLOSED):
            raise Conflict("End the chat before recording it.", code="not_ended")
        if Interaction.objects.filter(chat=chat).exists():
            raise Conflict("This chat's statistics are already recorded.", code="recorded")
        values["department"] = chat.department
        if chat.operator_id:
            staff = chat.operator.user
    try:
        with transaction.atomic():
            return Interaction.objects.create(
                chat=chat, staff=staff, recorded_by=recorded_by, **values
            )
    except IntegrityError:
        raise Conflict("This chat's statistics are already recorded.", code="recorded") from None


@transaction.atomic
def interaction_update(*, interaction: Interaction, data: dict[str, Any], actor) -> Interaction:
    """Correct an entry (the admin's change form). The chat link, who answered and who
    recorded it do not change."""
    values = _entry_values(data)
    if interaction.chat_id:
        values.pop("department", None)
    Interaction.objects.filter(pk=interaction.pk).update(**values)
    for field, value in values.items():
        setattr(interaction, field, value)
    return interaction


@transaction.atomic
def interaction_delete(*, interaction: Interaction) -> None:
    """Remove an entry (the admin): its chat, if any, shows "no statistics recorded"
    again and returns to its operator's list of ended chats without an entry."""
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
