"""Blocking abuse (issue 20): patrons blocked by address (matched by
chat.blocks.address_digest)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chat.models.chats import Chat
from chat.models.departments import Department


class PatronBlock(models.Model):
    """An operator blocked the patron of a chat: new chats and offline questions from
    the same address are refused until ``expires_at`` (or until an admin lifts it).
    The address is kept only as a keyed digest (chat.blocks.address_digest)."""

    address_digest = models.CharField(
        max_length=64, db_index=True, verbose_name=_("address digest")
    )
    chat = models.ForeignKey(
        Chat,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="blocks",
        verbose_name=_("chat"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("department"),
    )
    reason = models.CharField(max_length=500, verbose_name=_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("expires at"))
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("patron block")
        verbose_name_plural = _("patron blocks")

    def __str__(self):
        if not self.created_at:
            return str(_("Block"))
        return _("Block of %(day)s (%(reason)s)") % {
            "day": f"{self.created_at:%Y-%m-%d}",
            "reason": self.reason[:40],
        }

    def is_in_force(self, now=None) -> bool:
        from django.utils import timezone

        return self.lifted_at is None and self.expires_at > (now or timezone.now())
