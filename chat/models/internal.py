"""Internal chat (issue 4): staff to staff, with its per-operator archive and its
messages."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.models.chats import Chat
from chat.models.departments import Department
from chat.models.operators import Operator


class InternalChat(models.Model):
    """Staff to staff: from one operator to another operator, or to a department (every
    online operator of it sees it; the first to reply answers it). Patrons never see it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="+")
    to_operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    answered_by = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    about_chat = models.ForeignKey(
        Chat,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="internal_chats",
        help_text=_("The patron chat this conversation is about (its transcript is readable)."),
    )
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Per operator: archived by one colleague, it stays in the other's Internal Chat list.
    archived_by = models.ManyToManyField(
        Operator, through="InternalChatArchive", related_name="+", blank=True
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="internal_chat_has_one_target",
                condition=(
                    Q(to_operator__isnull=False, to_department__isnull=True)
                    | Q(to_operator__isnull=True, to_department__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return _("Internal chat %(id)s") % {"id": self.pk}


class InternalChatArchive(models.Model):
    """One operator archived one internal chat: it left their Internal Chat list for
    their Archived view (chat.services.internal.internal_archive). A new message in the
    chat deletes its rows: it comes back to everyone's list."""

    internal_chat = models.ForeignKey(InternalChat, on_delete=models.CASCADE, related_name="+")
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="+")
    archived_at = models.DateTimeField()

    class Meta:
        ordering = ["-archived_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["internal_chat", "operator"], name="one_archive_per_operator"
            )
        ]
        indexes = [models.Index(fields=["operator", "-archived_at"], name="archive_by_operator")]

    def __str__(self):
        return _("Internal chat %(chat)s archived by operator %(operator)s") % {
            "chat": self.internal_chat_id,
            "operator": self.operator_id,
        }


class InternalMessage(models.Model):
    chat = models.ForeignKey(InternalChat, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    operator = models.ForeignKey(Operator, null=True, on_delete=models.SET_NULL, related_name="+")
    client_id = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["chat", "seq"], name="unique_internal_seq"),
            models.UniqueConstraint(
                fields=["chat", "client_id"],
                condition=~Q(client_id=""),
                name="unique_internal_client_id",
            ),
        ]

    def __str__(self):
        return f"#{self.seq} of internal chat {self.chat_id}"
