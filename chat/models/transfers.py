"""Transfers (issue 4): a patron chat offered to another operator or a department."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.models.chats import Chat
from chat.models.departments import Department
from chat.models.operators import Operator


class Transfer(models.Model):
    """A patron chat offered by its operator to another operator or a department:
    offered → accepted (claimed) | declined | expired. At most one offer per chat."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    chat = models.ForeignKey(
        Chat, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("chat")
    )
    from_operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="+", verbose_name=_("from operator")
    )
    to_operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("to operator"),
    )
    to_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("to department"),
    )
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))
    status = models.CharField(
        max_length=8,
        choices=Status.choices,
        default=Status.OFFERED,
        db_index=True,
        verbose_name=_("status"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("expires at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["chat"], condition=Q(status="offered"), name="one_open_transfer_per_chat"
            ),
            models.CheckConstraint(
                name="transfer_has_one_target",
                condition=(
                    Q(to_operator__isnull=False, to_department__isnull=True)
                    | Q(to_operator__isnull=True, to_department__isnull=False)
                ),
            ),
        ]

    def __str__(self):
        return _("Transfer %(id)s (%(status)s)") % {
            "id": self.pk,
            "status": self.get_status_display(),
        }

    @property
    def target_name(self):
        return self.to_department.name if self.to_department_id else self.to_operator.public_name
