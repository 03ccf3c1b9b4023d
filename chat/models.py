"""The chat desk's data: departments, operators, chats, messages and their audit trail.

Nobody saves these models but ``chat.services`` (one write path per entity).
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
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
        return self.patron_name or "Patron"

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


# --- Internal chat and transfers (issue 4) ----------------------------------------------


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


# --- The patron's side (issue 7): attachments and ratings --------------------------------


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


class ChatRating(models.Model):
    """The patron's optional rating (1–5) and comment, given after the chat ended."""

    chat = models.OneToOneField(
        Chat, on_delete=models.CASCADE, related_name="rating", verbose_name=_("chat")
    )
    score = models.PositiveSmallIntegerField(verbose_name=_("score"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("chat rating")
        verbose_name_plural = _("chat ratings")
        constraints = [
            models.CheckConstraint(
                name="chat_rating_score_1_to_5", condition=Q(score__gte=1, score__lte=5)
            )
        ]

    def __str__(self):
        return f"{self.score}/5"


# --- Blocking abuse (issue 20) -------------------------------------------------------------


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


# Campus sign-in (issue 18), in a module of its own: this one is past its size.
from chat.campus_identity import CampusIdentity, SignInMapping, SignInProvider  # noqa: E402, F401
