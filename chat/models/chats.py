"""Patron chats, their messages and their audit trail."""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.models.departments import Department
from chat.models.operators import Operator


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Chat(models.Model):
    """A patron's conversation: waiting → active → ended → closed."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        CLOSED = "closed", _("Closed")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="chats", verbose_name=_("department")
    )
    status = models.CharField(
        max_length=8,
        choices=Status.choices,
        default=Status.WAITING,
        db_index=True,
        verbose_name=_("status"),
    )
    # Only a digest of the patron's token is kept: a database leak opens no chat.
    patron_token_digest = models.CharField(
        max_length=64, unique=True, verbose_name=_("patron token digest")
    )
    patron_name = models.CharField(max_length=80, blank=True, verbose_name=_("patron name"))
    patron_email = models.EmailField(blank=True, verbose_name=_("patron email"))
    page_url = models.URLField(
        max_length=500,
        blank=True,
        help_text=_("Without its query string."),
        verbose_name=_("page url"),
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
        verbose_name=_("operator"),
    )
    last_seq = models.PositiveIntegerField(default=0, verbose_name=_("last seq"))
    # The patron's messages per minute (LIMIT_PATRON_MESSAGES_PER_MINUTE), counted in
    # the row that numbers them, by the statement that takes the number: exact across
    # processes, no round trip of its own, and it holds while Redis is away. A default in
    # the database too, so that rows inserted by anything else (processes of the previous
    # release during an upgrade, bulk loads) need not name them.
    patron_minute = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text=_("The minute (Unix time // 60) patron_minute_messages counts."),
        verbose_name=_("patron minute"),
    )
    patron_minute_messages = models.PositiveIntegerField(
        default=0, db_default=0, verbose_name=_("patron minute messages")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    ended_by = models.CharField(max_length=10, blank=True, verbose_name=_("ended by"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    # The start's client id, as a digest (it answers a retried start with the patron's
    # token, so it is a secret like the token): a retried POST finds this chat instead
    # of making a second one. Blank: started without a client id (no retry safety).
    start_key = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        editable=False,
        verbose_name=_("start key"),
    )
    # Retention (chat.services.retention) marks what it took, so that Chat History can
    # say "scrubbed" instead of showing an empty conversation as if nothing was said.
    transcript_deleted_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("transcript deleted at")
    )
    patron_scrubbed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("patron scrubbed at")
    )
    # A keyed digest of the address the chat was started from (chat.blocks.address_digest):
    # what Block matches later. Never the address itself; scrubbed with the patron.
    origin_digest = models.CharField(
        max_length=64, blank=True, default="", db_default="", verbose_name=_("origin digest")
    )
    # The patron's language (settings.LANGUAGES), as the widget had it when they asked:
    # its system lines are written in it, and operators and reports see it.
    language = models.CharField(
        max_length=12,
        blank=True,
        default="",
        db_default="",
        choices=settings.LANGUAGES,
        verbose_name=_("language"),
    )

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["department", "status", "created_at"])]
        constraints = [
            # Desk-wide, not per department: a chat can change department after its
            # start (a fallback answered, a transfer to a department), and a retry must
            # still find it. The key is a digest of a random id from the patron's device.
            models.UniqueConstraint(
                fields=["start_key"], condition=~Q(start_key=""), name="unique_chat_start_key"
            )
        ]

    def __str__(self):
        return _("Chat %(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}

    @property
    def patron_label(self):
        return self.patron_name or gettext("Patron")

    def token_matches(self, token: str) -> bool:
        return bool(token) and hash_token(token) == self.patron_token_digest


class Message(models.Model):
    class Sender(models.TextChoices):
        PATRON = "patron", _("Patron")
        OPERATOR = "operator", _("Operator")
        SYSTEM = "system", _("System")

    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="messages", verbose_name=_("chat")
    )
    seq = models.PositiveIntegerField(verbose_name=_("seq"))
    sender = models.CharField(max_length=8, choices=Sender.choices, verbose_name=_("sender"))
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("operator")
    )
    client_id = models.CharField(max_length=64, blank=True, verbose_name=_("client id"))
    body = models.TextField(verbose_name=_("body"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["chat", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="unique_message_seq"),
            models.UniqueConstraint(
                fields=["chat", "client_id"],
                condition=~Q(client_id=""),
                name="unique_message_client_id",
            ),
        ]

    def __str__(self):
        return f"#{self.seq} {self.sender}"


class ChatAudit(models.Model):
    """Who did what to a chat, and when: the audit trail (rows, not log lines)."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CLAIMED = "claimed", _("Claimed")
        ENDED = "ended", _("Ended")
        CLOSED = "closed", _("Closed")
        TRANSFERRED = "transferred", _("Transfer offered")
        TRANSFER_DECLINED = "transfer_declined", _("Transfer declined")
        TRANSFER_EXPIRED = "transfer_expired", _("Transfer expired")
        BLOCKED = "blocked", _("Patron blocked")
        UNBLOCKED = "unblocked", _("Block lifted")

    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="audit", verbose_name=_("chat")
    )
    action = models.CharField(max_length=20, verbose_name=_("action"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("actor"),
    )
    from_operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("from operator"),
    )
    to_operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("to operator"),
    )
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("at"))
    to_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("to department"),
    )
    outcome = models.CharField(max_length=20, blank=True, verbose_name=_("outcome"))

    class Meta:
        verbose_name = _("chat audit entry")
        verbose_name_plural = _("chat audit trail")
        ordering = ["at", "pk"]

    def __str__(self):
        action = dict(self.Action.choices).get(self.action, self.action)
        return f"{action} at {self.at:%Y-%m-%d %H:%M}" if self.at else action
