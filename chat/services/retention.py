"""Retention and the patron's right to delete: the chat desk's privacy write path.

Periods come from settings.RETENTION. Statistics stay: chats keep their department,
times, status and operator (and Reference Analytics keeps its entries); what goes is
the conversation and whatever identifies the patron.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import events
from chat.exceptions import Conflict
from chat.models import Attachment, Chat, ChatAudit, ChatRating, Message, hash_token
from chat.services import attachments

FINISHED = (Chat.Status.ENDED, Chat.Status.CLOSED)


def _scrub(chats, now) -> int:
    return chats.filter(patron_scrubbed_at__isnull=True).update(
        patron_name="", patron_email="", page_url="", origin_digest="", patron_scrubbed_at=now
    )


@transaction.atomic
def retention_apply(*, now=None) -> dict[str, int]:
    """Delete transcripts of chats that ended more than TRANSCRIPT_DAYS ago and scrub the
    patron details of chats that ended more than PATRON_DAYS ago. Idempotent: a second
    run finds nothing left to do. Returns what it did."""
    now = now or timezone.now()
    periods = settings.RETENTION
    old_transcripts = Chat.objects.filter(
        status__in=FINISHED, ended_at__lt=now - timedelta(days=periods["TRANSCRIPT_DAYS"])
    )
    messages = Message.objects.filter(chat__in=old_transcripts)
    transcripts = messages.values("chat_id").distinct().count()
    # Files sent in those chats go with them (rows now, stored files on commit).
    attachments.delete_files_of(Attachment.objects.filter(chat__in=old_transcripts))
    ChatRating.objects.filter(chat__in=old_transcripts).exclude(comment="").update(comment="")
    messages_deleted, _ = messages.delete()
    old_transcripts.filter(transcript_deleted_at__isnull=True).update(transcript_deleted_at=now)
    scrubbed = _scrub(
        Chat.objects.filter(
            status__in=FINISHED, ended_at__lt=now - timedelta(days=periods["PATRON_DAYS"])
        ),
        now,
    )
    return {
        "transcripts_deleted": transcripts,
        "messages_deleted": messages_deleted,
        "patrons_scrubbed": scrubbed,
    }


def retention_apply_all(*, now=None) -> dict[str, dict[str, int]]:
    """The retention job: the chat desk's periods, then every step another app
    registered (``chat.extensions.register_retention``: tickets, Reference Analytics),
    each in its own transaction. Returns what each did, by name."""
    from chat import extensions

    now = now or timezone.now()
    report = {"chat": retention_apply(now=now)}
    for name, apply in extensions.retention_steps().items():
        report[name] = apply(now=now)
    return report


@transaction.atomic
def chat_delete_by_patron(*, chat_id: int) -> Chat:
    """The patron deletes their own ended chat: its messages go, their details are
    scrubbed and their token stops working. Statistics (the chat row) stay."""
    chat = Chat.objects.select_for_update(of=("self",)).get(pk=chat_id)
    if chat.status not in FINISHED:
        raise Conflict(_("End the chat before deleting it."), code="not_ended")
    attachments.delete_files_of(Attachment.objects.filter(chat=chat))
    ChatRating.objects.filter(chat=chat).update(comment="")  # the score stays, the words go
    Message.objects.filter(chat=chat).delete()
    Chat.objects.filter(pk=chat.pk).update(
        patron_name="",
        patron_email="",
        page_url="",
        origin_digest="",
        transcript_deleted_at=timezone.now(),
        patron_scrubbed_at=timezone.now(),
        # The old token no longer matches anything; nobody knows the new one.
        patron_token_digest=hash_token(secrets.token_urlsafe(32)),
    )
    ChatAudit.objects.create(chat=chat, action="deleted_by_patron")
    events.broadcast_on_commit(
        events.chat_group(chat.pk),
        {"type": "chat.deleted", "chat": str(chat.public_id)},
        chat_pk=chat.pk,
    )
    return chat
