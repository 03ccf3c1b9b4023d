"""Reads for the Reference Analytics pages (fixed number of queries each)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from analytics.models import Interaction
from chat.models import Chat, Message


def chats_without_entry(user, limit: int | None = None):
    """The operator's ended (or closed) chats that have no Reference Analytics entry yet,
    newest first, from the last ``ANALYTICS_PENDING_DAYS`` days. One query."""
    days = settings.LIBDESK.get("ANALYTICS_PENDING_DAYS", 30)
    since = timezone.now() - timedelta(days=days)
    qs = (
        Chat.objects.filter(
            operator__user=user,
            status__in=[Chat.Status.ENDED, Chat.Status.CLOSED],
            ended_at__gte=since,
        )
        .filter(~Exists(Interaction.objects.filter(chat=OuterRef("pk"))))
        .select_related("department")
        .order_by("-ended_at", "-pk")
    )
    return list(qs[: limit or settings.LIBDESK.get("ANALYTICS_PENDING_LIMIT", 50)])


def first_patron_message(chat: Chat) -> str:
    message = (
        Message.objects.filter(chat=chat, sender=Message.Sender.PATRON).order_by("seq").first()
    )
    return message.body if message else ""


def interaction_for_chat(chat: Chat) -> Interaction | None:
    return Interaction.objects.select_related("location", "mode", "staff").filter(chat=chat).first()
