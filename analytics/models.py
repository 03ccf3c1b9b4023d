"""Reference Analytics: one row per desk interaction (a chat, a visit, a call, an email…).

Choice lists are rows an admin manages; a retired choice (``is_active`` off) leaves the
form but stays on the entries that used it. Nobody saves an ``Interaction`` but
``analytics.services``.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Choice(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Untick to retire this choice: it leaves the form, old entries keep it."),
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Order in the form.")
    )

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self):
        return self.name if self.is_active else _("%(name)s (retired)") % {"name": self.name}


class Location(Choice):
    class Meta(Choice.Meta):
        verbose_name = _("location")
        verbose_name_plural = _("locations")


class Mode(Choice):
    """How the question came in. The mode with slug ``chat`` is preselected after a chat."""

    CHAT = "chat"

    class Meta(Choice.Meta):
        verbose_name = _("mode")
        verbose_name_plural = _("modes")


class QuestionType(Choice):
    class Meta(Choice.Meta):
        verbose_name = _("question type")
        verbose_name_plural = _("question types")


class PatronType(Choice):
    class Meta(Choice.Meta):
        verbose_name = _("patron type")
        verbose_name_plural = _("patron types")


class Topic(Choice):
    class Meta(Choice.Meta):
        verbose_name = _("topic")
        verbose_name_plural = _("topics")


# Optional fields an admin may make required (Location, Mode and Duration always are).
OPTIONAL_FIELDS = {
    "referral": _("Referred by"),
    "question_type": _("Question type"),
    "read_scale": _("READ scale"),
    "patron_type": _("Patron type"),
    "topic": _("Topic"),
    "question": _("Question"),
    "answer": _("Answer"),
}


class FormSettings(models.Model):
    """The one row (pk 1) that says which optional fields of the form are required."""

    require_referral = models.BooleanField(_("require “Referred by”"), default=False)
    require_question_type = models.BooleanField(_("require question type"), default=False)
    require_read_scale = models.BooleanField(_("require READ scale"), default=False)
    require_patron_type = models.BooleanField(_("require patron type"), default=False)
    require_topic = models.BooleanField(_("require topic"), default=False)
    require_question = models.BooleanField(_("require the question"), default=False)
    require_answer = models.BooleanField(_("require the answer"), default=False)
    # Issue 15: free text can identify a patron, so by default it stays in its department.
    free_text_library_wide = models.BooleanField(
        _("free text library-wide"),
        default=False,
        help_text=_(
            "Off: an entry's question, answer and internal note are shown to the staff "
            "of its department (and to whoever answered or recorded it) and to Desk admins; "
            "the counts are library-wide either way. On: every staff member reads every "
            "entry's free text, in the reports' CSV export and in the admin."
        ),
    )
    # Issue 20: a chat's entry starts at this Location, unless its department has its own
    # (ChatLocation). The demo's is "Virtual (online)" (migration 0008).
    chat_location = models.ForeignKey(
        "Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("location of chat entries"),
        help_text=_("Where the form's Location starts for a chat. Departments may have their own."),
    )

    class Meta:
        verbose_name = _("form settings")
        verbose_name_plural = _("form settings")

    def __str__(self):
        return str(_("Reference Analytics form settings"))

    @classmethod
    def current(cls) -> "FormSettings":
        """The settings row, or the defaults (unsaved) before an admin saved any."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def required_fields(self) -> set[str]:
        return {name for name in OPTIONAL_FIELDS if getattr(self, f"require_{name}")}


class ChatLocation(models.Model):
    """A department's own starting Location for its chats' entries (an admin setting)."""

    department = models.OneToOneField(
        "chat.Department", on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )

    class Meta:
        verbose_name = _("chat entries' location")
        verbose_name_plural = _("chat entries' locations (per department)")

    def __str__(self):
        return f"{self.department}: {self.location}"


def chat_location_for(department_id: int | None):
    """The Location a chat entry of ``department_id`` starts at: the department's own,
    else the form settings' (None: "Choose…"). Two small queries at most."""
    own = ChatLocation.objects.filter(department_id=department_id).select_related("location")
    own = own.filter(location__is_active=True).first()
    if own is not None:
        return own.location
    location = FormSettings.current().chat_location
    return location if location is not None and location.is_active else None


# The entry columns a report counts or filters by, carried in the indexes it reads
# (Interaction.Meta.indexes).
REPORT_COLUMNS = [
    "department",
    "mode",
    "location",
    "question_type",
    "staff",
    "read_scale",
    "duration_minutes",
    "referral_kind",
    "referred_by_operator",
    "referred_by_department",
    "referred_by_text",
]


class Interaction(models.Model):
    """One Reference Analytics entry."""

    class Referral(models.TextChoices):
        NONE = "", _("Nobody")
        OPERATOR = "operator", _("An operator")
        DEPARTMENT = "department", _("A department")
        OTHER = "other", _("Someone else")

    occurred_at = models.DateTimeField(
        _("time"), help_text=_("When the interaction happened (may be back-dated).")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="interactions",
        verbose_name=_("answered by"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    department = models.ForeignKey(
        "chat.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        verbose_name=_("department"),
    )
    chat = models.OneToOneField(
        "chat.Chat",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interaction",
        verbose_name=_("chat"),
    )
    ticket_ref = models.CharField(_("ticket"), max_length=64, blank=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, verbose_name=_("location"))
    mode = models.ForeignKey(Mode, on_delete=models.PROTECT, verbose_name=_("mode"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), validators=[MaxValueValidator(24 * 60)]
    )
    referral_kind = models.CharField(
        _("referred by"), max_length=10, choices=Referral.choices, blank=True, default=""
    )
    referred_by_operator = models.ForeignKey(
        "chat.Operator",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("referring operator"),
    )
    referred_by_department = models.ForeignKey(
        "chat.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("referring department"),
    )
    referred_by_text = models.CharField(_("referred by (other)"), max_length=200, blank=True)
    question_type = models.ForeignKey(
        QuestionType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("question type"),
    )
    read_scale = models.PositiveSmallIntegerField(
        _("READ scale"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )
    patron_type = models.ForeignKey(
        PatronType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name=_("patron type"),
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("topic")
    )
    question = models.TextField(_("question"), blank=True)
    answer = models.TextField(_("answer"), blank=True)
    note = models.TextField(_("internal note"), blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["occurred_at", "id"], name="interaction_time"),
            models.Index(fields=["staff", "occurred_at"], name="interaction_staff_time"),
            # A department's, a mode's or a location's entries, each with every column
            # a report counts or filters by: a report filtered by one of them and
            # something else (a department and a mode, a mode and a location…) reads
            # its entries from the index alone on PostgreSQL, not from table pages
            # scattered over the whole table (a year of one department and one mode:
            # 29 → 14 ms of SQL; of one mode and one location: 43 → ~20 ms).
            *(
                models.Index(
                    fields=[column, "occurred_at"],
                    include=[c for c in REPORT_COLUMNS if c != column],
                    name=name,
                )
                for column, name in (
                    ("department", "interaction_dept_figures"),
                    ("mode", "interaction_mode_figures"),
                    ("location", "interaction_location_figures"),
                )
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(read_scale__isnull=True)
                | models.Q(read_scale__gte=1, read_scale__lte=6),
                name="interaction_read_scale_1_6",
            ),
        ]
        permissions = [
            (
                "view_all_free_text",
                # A permission's name is a row of auth_permission, written at migrate
                # time: a translation could not reach it.
                "Can read every department's question, answer and note",  # i18n: not user-facing
            )
        ]

    def __str__(self):
        return f"{self.mode.name} at {self.location.name}, {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def referred_by_label(self) -> str:
        if self.referral_kind == self.Referral.OPERATOR and self.referred_by_operator_id:
            return self.referred_by_operator.public_name
        if self.referral_kind == self.Referral.DEPARTMENT and self.referred_by_department_id:
            return self.referred_by_department.name
        if self.referral_kind == self.Referral.OTHER:
            return self.referred_by_text
        return ""


class DayTotals(models.Model):
    """A day's totals: the entries that happened that day and the chats that entered the
    queue that day (how many claimed, abandoned, ended without an entry; their waits)."""

    entries = models.PositiveIntegerField(default=0)
    chats = models.PositiveIntegerField(default=0)
    chats_claimed = models.PositiveIntegerField(default=0)
    chats_abandoned = models.PositiveIntegerField(default=0)
    chats_without_entry = models.PositiveIntegerField(default=0)
    wait_seconds_total = models.FloatField(default=0)

    class Meta:
        abstract = True


class ReportDay(DayTotals):
    """One day of the library-wide reports, kept (analytics.rollups) so that a report
    over months or a year reads a few rows per day instead of every entry and chat.

    ``token`` changes whenever an entry of the day (or the entry of a chat that entered
    the queue that day) is recorded, corrected or deleted; the stored figures count
    only while ``built_token`` equals it and the desk's time zone is the one they were
    built in. Chats of the day still waiting or active when it was kept are left out of
    its figures (and its departments' and its month's) and listed in ``open_chats``: a
    report counts them as they are when it is read, and the day is kept again once they
    have all finished. Nobody writes these rows but ``analytics.services``.
    """

    day = models.DateField(primary_key=True)
    token = models.UUIDField(default=uuid.uuid4)
    built_token = models.UUIDField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    open_chats = models.JSONField(
        default=list, blank=True, help_text=_("Chats left out: still open when kept (pks).")
    )

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"report day {self.day}"


class ReportDepartmentDay(DayTotals):
    """One department's totals of a kept ``ReportDay`` (entries of the department that
    happened that day, the department's chats that entered the queue that day): what a
    report filtered by department reads. None for a department with nothing that day.
    Kept or not with its day; written and deleted with it."""

    day = models.DateField()
    department = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["department", "day"], name="report_department_day")
        ]

    def __str__(self):
        return f"report day {self.day}, department {self.department}"


class ReportMonth(models.Model):
    """A calendar month's kept days, from its 1st to ``through`` (every one of them
    kept), have their figures added up once more (``ReportFigure`` rows with
    ``whole_month``), so a year reads twelve months' rows instead of 365 days', and a
    range that starts or ends inside a month reads the month less the few days outside
    it. Built again as more of its days are kept (the month in progress: daily);
    deleted with its figures whenever a day it adds up changes."""

    month = models.DateField(primary_key=True, help_text=_("Its first day."))
    through = models.DateField(help_text=_("The last day added up: the month's days from its 1st."))
    time_zone = models.CharField(max_length=64)
    built_at = models.DateTimeField()

    class Meta:
        ordering = ["month"]

    def __str__(self):
        return f"report month {self.month:%Y-%m} through {self.through:%d}"


class ReportFigure(models.Model):
    """How many of a day's entries (or claimed chats) have one value of one figure:
    entries per hour of the day, per mode, location, question type, READ level,
    referral, duration and patron language; chats per whole second of wait and per
    patron language. With ``whole_month``, the
    same for the month that starts on ``day``, its days to ``ReportMonth.through``
    (its hours by weekday: WEEKDAY_HOUR).
    No foreign keys: the ids are looked up for their names when a report is read (a
    renamed choice shows its new name), and a deleted operator or department reads as
    "(unnamed)" as it does in the entries themselves."""

    class Figure(models.TextChoices):
        HOUR = "hour"
        WEEKDAY_HOUR = "weekday_hour"  # whole months: (ISO weekday - 1) × 24 + hour
        MODE = "mode"
        LOCATION = "location"
        QUESTION_TYPE = "question_type"
        READ_SCALE = "read_scale"
        REFERRAL = "referral"
        DURATION = "duration"
        WAIT = "wait"
        LANGUAGE = "language"  # entries by their chat's patron language
        CHAT_LANGUAGE = "chat_language"  # chats by their patron's language

    day = models.DateField()
    whole_month = models.BooleanField(default=False)
    # None: the whole library; else that department's share (its entries and chats).
    department = models.IntegerField(null=True, blank=True)
    # Blank: as ``department`` says. "mode", "location", "question_type": the share of
    # the library's entries that have the choice ``share_value`` (entries only: those
    # choices describe entries, not chats), which a report filtered by it reads.
    # db_default: rows written by the previous release while this one migrates.
    share = models.CharField(max_length=16, blank=True, default="", db_default="")
    share_value = models.IntegerField(null=True, blank=True)
    figure = models.CharField(max_length=16, choices=Figure.choices)
    # The hour (0–23), the choice's id, the READ level, the minutes, the seconds.
    value = models.IntegerField(null=True, blank=True)
    referral_kind = models.CharField(max_length=10, blank=True)
    referred_by_operator = models.IntegerField(null=True, blank=True)
    referred_by_department = models.IntegerField(null=True, blank=True)
    referred_by_text = models.CharField(max_length=200, blank=True)
    # LANGUAGE and CHAT_LANGUAGE: the patron's language code ("": none recorded).
    language = models.CharField(max_length=12, blank=True, default="", db_default="")
    count = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["department", "share", "share_value", "whole_month", "day", "figure"],
                name="report_figure_share_day",
            )
        ]

    def __str__(self):
        return f"{self.day} {self.figure}={self.value}: {self.count}"
