"""Operators: the staff who answer chats, their memberships of departments and their
open dashboard sockets."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chat.models.departments import Department


class Operator(models.Model):
    """A staff member who answers chats, in one or more departments."""

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator",
        verbose_name=_("user"),
    )
    display_name = models.CharField(
        max_length=80,
        blank=True,
        help_text=_("The name patrons see. Empty: the user's first name only."),
        verbose_name=_("display name"),
    )
    departments = models.ManyToManyField(
        Department,
        through="Membership",
        related_name="operators",
        blank=True,
        verbose_name=_("departments"),
    )
    max_chats = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Most simultaneous chats (empty: no limit)."),
        verbose_name=_("max chats"),
    )
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OFFLINE, verbose_name=_("status")
    )
    status_changed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("status changed at")
    )
    meeting_url = models.URLField(
        max_length=300,
        blank=True,
        help_text=_(
            "Personal meeting room (Zoom, Teams, Jitsi…) for screenshare by meeting "
            "link. Empty: a room from SCREENSHARE_MEETING_TEMPLATE."
        ),
        verbose_name=_("meeting url"),
    )
    # Presence (issue 4): the dashboard reports activity; idle for IDLE_AWAY_SECONDS → Away.
    last_activity_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("last activity at")
    )
    # The interface language the operator chose (settings.LANGUAGES; the dashboard's
    # Language menu keeps it here as well as in the cookie): what mail to them is
    # written in. Empty: never chosen, the library's default language.
    language = models.CharField(
        max_length=12,
        blank=True,
        default="",
        db_default="",
        choices=settings.LANGUAGES,
        verbose_name=_("language"),
    )
    shift_ends_at = models.TimeField(
        null=True,
        blank=True,
        help_text=_(
            "Scheduled end of shift (local time, every day): an operator still Online "
            "or Away then is signed off. Empty: no scheduled end."
        ),
        verbose_name=_("shift ends at"),
    )

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["user__username"]

    def __str__(self):
        return self.public_name

    @property
    def public_name(self):
        return self.display_name or self.user.first_name or "Librarian"


class Membership(models.Model):
    class Role(models.TextChoices):
        OPERATOR = "operator", _("Operator")
        ADMIN = "admin", _("Department admin")

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, verbose_name=_("operator"))
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, verbose_name=_("department")
    )
    role = models.CharField(
        max_length=10, choices=Role.choices, default=Role.OPERATOR, verbose_name=_("role")
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["operator", "department"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.operator} in {self.department}"


class OperatorConnection(models.Model):
    """One open dashboard socket. Presence is derived from these rows, so it survives
    several Daphne processes and a process killed without running its disconnect."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="connections")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    def __str__(self):
        return f"dashboard socket of operator {self.operator_id}"
