"""Tickets: a follow-up by email for a question the desk could not answer live.

Nobody saves these models but ``tickets.services`` (one write path per entity).
A department is a ticket queue; a ticket's reference (``LD-000123``) is its id.
"""

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.models import Chat, Department, Operator

REFERENCE_PREFIX = "LD-"
REFERENCE_RE = re.compile(r"\bLD-(\d{1,12})\b", re.IGNORECASE)


def format_reference(pk: int) -> str:
    return f"{REFERENCE_PREFIX}{int(pk):06d}"


def parse_reference(text: str) -> int | None:
    """The ticket id in ``text`` ("LD-000123", any case), or None."""
    match = REFERENCE_RE.search(text or "")
    return int(match.group(1)) if match else None


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        CHAT = "chat", _("From a chat")
        OFFLINE_FORM = "offline_form", _("Offline form")
        EMAIL = "email", _("Email")

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("department")
    )
    assignee = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("assignee"),
    )
    status = models.CharField(
        max_length=8,
        choices=Status.choices,
        default=Status.OPEN,
        db_index=True,
        verbose_name=_("status"),
    )
    source = models.CharField(max_length=12, choices=Source.choices, verbose_name=_("source"))
    patron_name = models.CharField(max_length=80, blank=True, verbose_name=_("patron name"))
    patron_email = models.EmailField(blank=True, verbose_name=_("patron email"))
    subject = models.CharField(max_length=200, verbose_name=_("subject"))
    question = models.TextField(verbose_name=_("question"))
    chat = models.ForeignKey(
        Chat,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("chat"),
    )
    # The chat's transcript as it stood when the ticket was made (the chat may be purged).
    transcript = models.TextField(blank=True, verbose_name=_("transcript"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    # The patron's language (settings.LANGUAGES): the chat's, or the widget's for the
    # offline form. Emails to the patron are written in it.
    language = models.CharField(
        max_length=12,
        blank=True,
        default="",
        db_default="",
        choices=settings.LANGUAGES,
        verbose_name=_("language"),
    )
    # Offline form only: a keyed digest of the sender's IP address, for the rate limit.
    origin_digest = models.CharField(
        max_length=64, blank=True, db_index=True, verbose_name=_("origin digest")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self):
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return format_reference(self.pk)

    @property
    def patron_label(self) -> str:
        return self.patron_name or self.patron_email or gettext("Patron")


class TicketMessage(models.Model):
    """One entry of a ticket's thread. Staff replies are emailed to the patron; internal
    notes never leave the desk; patron messages arrived by email (or the ticket's start)."""

    class Kind(models.TextChoices):
        PATRON = "patron", _("Patron")
        REPLY = "reply", _("Staff reply")
        NOTE = "note", _("Internal note")

    class EmailStatus(models.TextChoices):
        NONE = "", _("Not emailed")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    from_address = models.EmailField(blank=True, verbose_name=_("from address"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    # Inbound mail: the quoted history under the patron's reply (shown folded, behind
    # "Show quoted text"), and the message as it arrived (raw RFC 822, a download for
    # staff; removed with the patron's name and address by the retention rules).
    quoted = models.TextField(blank=True, verbose_name=_("quoted"))
    original = models.FileField(max_length=255, blank=True, verbose_name=_("original"))
    original_size = models.PositiveIntegerField(default=0, verbose_name=_("original size"))
    # RFC 5322 Message-ID: ours for replies (threading), theirs for inbound (dedupe).
    email_message_id = models.CharField(
        max_length=255, blank=True, db_index=True, verbose_name=_("email message id")
    )
    email_status = models.CharField(
        max_length=8,
        choices=EmailStatus.choices,
        blank=True,
        default=EmailStatus.NONE,
        verbose_name=_("email status"),
    )
    email_attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("email attempts"))
    email_last_error = models.CharField(
        max_length=500, blank=True, verbose_name=_("email last error")
    )
    email_sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("email sent at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return _("%(kind)s on ticket %(ticket)s") % {
            "kind": self.get_kind_display(),
            "ticket": self.ticket_id,
        }


class TicketAttachment(models.Model):
    """A file that came with a patron's email. Stored under a random name; only ever
    downloaded (Content-Disposition: attachment), never shown inline."""

    message = models.ForeignKey(
        TicketMessage,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("message"),
    )
    file = models.FileField(max_length=255, verbose_name=_("file"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    content_type = models.CharField(max_length=120, blank=True, verbose_name=_("content type"))
    size = models.PositiveIntegerField(default=0, verbose_name=_("size"))

    class Meta:
        verbose_name = _("ticket attachment")
        verbose_name_plural = _("ticket attachments")

    def __str__(self):
        return self.filename


class TicketChange(models.Model):
    """The audit trail: who changed which field of a ticket, from what, to what, when."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="changes", verbose_name=_("ticket")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    field = models.CharField(max_length=40, verbose_name=_("field"))
    old_value = models.CharField(max_length=200, blank=True, verbose_name=_("old value"))
    new_value = models.CharField(max_length=200, blank=True, verbose_name=_("new value"))
    at = models.DateTimeField(auto_now_add=True, verbose_name=_("at"))

    class Meta:
        verbose_name = _("ticket change")
        verbose_name_plural = _("ticket changes")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.field}: {self.old_value} → {self.new_value}"
