"""Departments: the desk's chat queues (and, later, ticket queues)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A chat queue (and, later, a ticket queue). Online when any of its operators is."""

    name = models.CharField(max_length=120, unique=True, verbose_name=_("name"))
    slug = models.SlugField(max_length=60, unique=True, verbose_name=_("slug"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    greeting = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Shown to patrons at the top of the chat widget."),
        verbose_name=_("greeting"),
    )
    # Both are written per language in the admin (chat/translation.py, modeltranslation):
    # reading them gives the patron's language, else the library's default language.
    offline_message = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text=_(
            "Shown in the widget when nobody in this department is online, above the form "
            "for leaving a question (e.g. your chat hours). Empty: a standard sentence in "
            "the patron's language."
        ),
        verbose_name=_("offline message"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    fallback = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fallback_for",
        help_text=_("The department that takes this department's chats when nobody is online."),
        verbose_name=_("fallback"),
    )
    # Screenshare (issue 7): built-in WebRTC, or a meeting link from a template.
    screenshare_mode = models.CharField(
        max_length=8,
        choices=[("webrtc", _("Built in (in the browser)")), ("meeting", _("Meeting link"))],
        default="webrtc",
        help_text=_("How Request Screenshare works in this department."),
        verbose_name=_("screenshare mode"),
    )
    # Blocking abuse (issue 20): how long a Block by this department's operators lasts.
    block_days = models.PositiveSmallIntegerField(
        default=30,
        db_default=30,
        help_text=_(
            "How many days a patron blocked from this department's chats stays "
            "blocked (new chats and offline questions from their address are refused)."
        ),
        verbose_name=_("block days"),
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self):
        return self.name
