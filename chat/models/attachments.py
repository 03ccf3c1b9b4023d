"""The patron's side (issue 7): files sent in a chat."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from chat.models.chats import Chat, Message


def attachment_storage_name(instance, filename):
    """A random name under attachments/, with no trace of the patron's file name (which is
    kept, cleaned, in ``Attachment.name``). Never served by URL: only through the
    permission-checked download view."""
    import secrets

    return f"attachments/{secrets.token_hex(16)}"


class Attachment(models.Model):
    """A file sent in a chat, by its patron or its operator: one message carries it (its
    body is the file's name). The type is the one detected from the content."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("chat")
    )
    message = models.OneToOneField(
        Message,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachment",
        verbose_name=_("message"),
    )
    file = models.FileField(
        upload_to=attachment_storage_name, max_length=200, verbose_name=_("file")
    )
    name = models.CharField(
        max_length=200, help_text=_("The file's name as sent, cleaned."), verbose_name=_("name")
    )
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    content_type = models.CharField(
        max_length=120, help_text=_("Detected from the content."), verbose_name=_("content type")
    )
    kind = models.CharField(max_length=60, help_text=_("e.g. “PNG image”."), verbose_name=_("kind"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.name
