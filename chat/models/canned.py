"""Canned messages: prepared replies (their placeholders: chat.canned)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.models.departments import Department
from chat.models.operators import Operator


class CannedMessage(models.Model):
    """A prepared reply: for every department, for one department, or personal to one
    operator. Its body may hold placeholders (chat.canned); it is always sent as text."""

    class Scope(models.TextChoices):
        GLOBAL = "global", _("All departments")
        DEPARTMENT = "department", _("One department")
        PERSONAL = "personal", _("Personal to one operator")

    scope = models.CharField(
        max_length=10, choices=Scope.choices, default=Scope.GLOBAL, verbose_name=_("scope")
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_messages",
        help_text=_("Only for “One department”."),
        verbose_name=_("department"),
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_messages",
        help_text=_("Only for “Personal to one operator”."),
        verbose_name=_("operator"),
    )
    title = models.CharField(max_length=120, verbose_name=_("title"))
    # The language the message is written in; the picker offers a chat's own language
    # first. Empty: any language.
    language = models.CharField(
        max_length=12,
        blank=True,
        default="",
        db_default="",
        choices=settings.LANGUAGES,
        help_text=_("The language this message is written in (empty: any)."),
        verbose_name=_("language"),
    )
    shortcut = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("Optional, typed in the message box to offer this reply, e.g. /welcome."),
        verbose_name=_("shortcut"),
    )
    body = models.TextField(
        help_text=_(
            "Placeholders: {patron_name}, {operator_name}, {department}, {library}. "
            "Write {{ or }} for a brace itself."
        ),
        verbose_name=_("body"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("canned message")
        verbose_name_plural = _("canned messages")
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                name="canned_scope_matches_owner",
                condition=(
                    Q(scope="global", department__isnull=True, operator__isnull=True)
                    | Q(scope="department", department__isnull=False, operator__isnull=True)
                    | Q(scope="personal", department__isnull=True, operator__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return f"{self.title} ({self.shortcut})" if self.shortcut else self.title

    def clean(self):
        from django.core.exceptions import ValidationError

        from chat import canned

        errors = {}
        try:
            canned.validate_body(self.body)
        except ValidationError as error:
            errors["body"] = error.messages
        limit = settings.LIBDESK["MAX_MESSAGE_LENGTH"]
        if len((self.body or "").strip()) > limit:  # here too, so the admin's form says it
            errors.setdefault("body", []).append(
                _("This is too long (%(length)s characters; the limit is %(limit)s).")
                % {"length": len(self.body.strip()), "limit": limit}
            )
        try:
            canned.validate_shortcut(self.shortcut)
        except ValidationError as error:
            errors["shortcut"] = error.messages
        if self.scope == self.Scope.DEPARTMENT and not self.department_id:
            errors["department"] = _("Choose the department this message is for.")
        if self.scope != self.Scope.DEPARTMENT and self.department_id:
            errors["department"] = _("Only a “One department” message has a department.")
        if self.scope == self.Scope.PERSONAL and not self.operator_id:
            errors["operator"] = _("Choose the operator this message belongs to.")
        if self.scope != self.Scope.PERSONAL and self.operator_id:
            errors["operator"] = _("Only a personal message has an operator.")
        if errors:
            raise ValidationError(errors)
