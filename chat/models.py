"""The chat desk's data: departments, operators, chats, messages and their audit trail.

Nobody saves these models but ``chat.services`` (one write path per entity).
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Department(models.Model):
    """A chat queue (and, later, a ticket queue). Online when any of its operators is."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    greeting = models.CharField(
        max_length=300,
        blank=True,
        help_text="Shown to patrons at the top of the chat widget.",
    )
    # Both are written per language in the admin (chat/translation.py, modeltranslation):
    # reading them gives the patron's language, else the library's default language.
    offline_message = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text=(
            "Shown in the widget when nobody in this department is online, above the form "
            "for leaving a question (e.g. your chat hours). Empty: a standard sentence in "
            "the patron's language."
        ),
    )
    is_active = models.BooleanField(default=True)
    fallback = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="fallback_for",
        help_text="The department that takes this department's chats when nobody is online.",
    )
    # Screenshare (issue 7): built-in WebRTC, or a meeting link from a template.
    screenshare_mode = models.CharField(
        max_length=8,
        choices=[("webrtc", "Built in (in the browser)"), ("meeting", "Meeting link")],
        default="webrtc",
        help_text="How Request Screenshare works in this department.",
    )
    # Blocking abuse (issue 20): how long a Block by this department's operators lasts.
    block_days = models.PositiveSmallIntegerField(
        default=30,
        db_default=30,
        help_text="How many days a patron blocked from this department's chats stays "
        "blocked (new chats and offline questions from their address are refused).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Operator(models.Model):
    """A staff member who answers chats, in one or more departments."""

    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator"
    )
    display_name = models.CharField(
        max_length=80,
        blank=True,
        help_text="The name patrons see. Empty: the user's first name only.",
    )
    departments = models.ManyToManyField(
        Department, through="Membership", related_name="operators", blank=True
    )
    max_chats = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most simultaneous chats (empty: no limit)."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OFFLINE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    meeting_url = models.URLField(
        max_length=300,
        blank=True,
        help_text="Personal meeting room (Zoom, Teams, Jitsi…) for screenshare by meeting "
        "link. Empty: a room from SCREENSHARE_MEETING_TEMPLATE.",
    )
    # Presence (issue 4): the dashboard reports activity; idle for IDLE_AWAY_SECONDS → Away.
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # The interface language the operator chose (settings.LANGUAGES; the dashboard's
    # Language menu keeps it here as well as in the cookie): what mail to them is
    # written in. Empty: never chosen, the library's default language.
    language = models.CharField(
        max_length=12, blank=True, default="", db_default="", choices=settings.LANGUAGES
    )
    shift_ends_at = models.TimeField(
        null=True,
        blank=True,
        help_text="Scheduled end of shift (local time, every day): an operator still Online "
        "or Away then is signed off. Empty: no scheduled end.",
    )

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return self.public_name

    @property
    def public_name(self):
        return self.display_name or self.user.first_name or "Librarian"


class Membership(models.Model):
    class Role(models.TextChoices):
        OPERATOR = "operator", "Operator"
        ADMIN = "admin", "Department admin"

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE)
    department = models.ForeignKey(Department, on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OPERATOR)

    class Meta:
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
        WAITING = "waiting", "Waiting"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"
        CLOSED = "closed", "Closed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="chats")
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.WAITING, db_index=True
    )
    # Only a digest of the patron's token is kept: a database leak opens no chat.
    patron_token_digest = models.CharField(max_length=64, unique=True)
    patron_name = models.CharField(max_length=80, blank=True)
    patron_email = models.EmailField(blank=True)
    page_url = models.URLField(max_length=500, blank=True, help_text="Without its query string.")
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="chats"
    )
    last_seq = models.PositiveIntegerField(default=0)
    # The patron's messages per minute (LIMIT_PATRON_MESSAGES_PER_MINUTE), counted in
    # the row that numbers them, by the statement that takes the number: exact across
    # processes, no round trip of its own, and it holds while Redis is away. A default in
    # the database too, so that rows inserted by anything else (processes of the previous
    # release during an upgrade, bulk loads) need not name them.
    patron_minute = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="The minute (Unix time // 60) patron_minute_messages counts.",
    )
    patron_minute_messages = models.PositiveIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=10, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The start's client id, as a digest (it answers a retried start with the patron's
    # token, so it is a secret like the token): a retried POST finds this chat instead
    # of making a second one. Blank: started without a client id (no retry safety).
    start_key = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )
    # Retention (chat.services.retention) marks what it took, so that Chat History can
    # say "scrubbed" instead of showing an empty conversation as if nothing was said.
    transcript_deleted_at = models.DateTimeField(null=True, blank=True)
    patron_scrubbed_at = models.DateTimeField(null=True, blank=True)
    # A keyed digest of the address the chat was started from (chat.blocks.address_digest):
    # what Block matches later. Never the address itself; scrubbed with the patron.
    origin_digest = models.CharField(max_length=64, blank=True, default="", db_default="")
    # The patron's language (settings.LANGUAGES), as the widget had it when they asked:
    # its system lines are written in it, and operators and reports see it.
    language = models.CharField(
        max_length=12, blank=True, default="", db_default="", choices=settings.LANGUAGES
    )

    class Meta:
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
        return f"Chat {self.pk} ({self.get_status_display()})"

    @property
    def patron_label(self):
        return self.patron_name or "Patron"

    def token_matches(self, token: str) -> bool:
        return bool(token) and hash_token(token) == self.patron_token_digest


class Message(models.Model):
    class Sender(models.TextChoices):
        PATRON = "patron", "Patron"
        OPERATOR = "operator", "Operator"
        SYSTEM = "system", "System"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=8, choices=Sender.choices)
    operator = models.ForeignKey(Operator, null=True, blank=True, on_delete=models.SET_NULL)
    client_id = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        CREATED = "created", "Created"
        CLAIMED = "claimed", "Claimed"
        ENDED = "ended", "Ended"
        CLOSED = "closed", "Closed"
        TRANSFERRED = "transferred", "Transfer offered"
        TRANSFER_DECLINED = "transfer_declined", "Transfer declined"
        TRANSFER_EXPIRED = "transfer_expired", "Transfer expired"
        BLOCKED = "blocked", "Patron blocked"
        UNBLOCKED = "unblocked", "Block lifted"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="audit")
    action = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    from_operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    to_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        action = dict(self.Action.choices).get(self.action, self.action)
        return f"{action} at {self.at:%Y-%m-%d %H:%M}" if self.at else action


class CannedMessage(models.Model):
    """A prepared reply: for every department, for one department, or personal to one
    operator. Its body may hold placeholders (chat.canned); it is always sent as text."""

    class Scope(models.TextChoices):
        GLOBAL = "global", "All departments"
        DEPARTMENT = "department", "One department"
        PERSONAL = "personal", "Personal to one operator"

    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.GLOBAL)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_messages",
        help_text="Only for “One department”.",
    )
    operator = models.ForeignKey(
        Operator,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_messages",
        help_text="Only for “Personal to one operator”.",
    )
    title = models.CharField(max_length=120)
    # The language the message is written in; the picker offers a chat's own language
    # first. Empty: any language.
    language = models.CharField(
        max_length=12,
        blank=True,
        default="",
        db_default="",
        choices=settings.LANGUAGES,
        help_text="The language this message is written in (empty: any).",
    )
    shortcut = models.CharField(
        max_length=40,
        blank=True,
        help_text="Optional, typed in the message box to offer this reply, e.g. /welcome.",
    )
    body = models.TextField(
        help_text=(
            "Placeholders: {patron_name}, {operator_name}, {department}, {library}. "
            "Write {{ or }} for a brace itself."
        )
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
                f"This is too long ({len(self.body.strip())} characters; the limit is {limit})."
            )
        try:
            canned.validate_shortcut(self.shortcut)
        except ValidationError as error:
            errors["shortcut"] = error.messages
        if self.scope == self.Scope.DEPARTMENT and not self.department_id:
            errors["department"] = "Choose the department this message is for."
        if self.scope != self.Scope.DEPARTMENT and self.department_id:
            errors["department"] = "Only a “One department” message has a department."
        if self.scope == self.Scope.PERSONAL and not self.operator_id:
            errors["operator"] = "Choose the operator this message belongs to."
        if self.scope != self.Scope.PERSONAL and self.operator_id:
            errors["operator"] = "Only a personal message has an operator."
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
        help_text="The patron chat this conversation is about (its transcript is readable).",
    )
    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

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
        return f"Internal chat {self.pk}"


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
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="transfers")
    from_operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="+")
    to_operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.OFFERED, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
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
        return f"Transfer {self.pk} ({self.status})"

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

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="attachments")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachment"
    )
    file = models.FileField(upload_to=attachment_storage_name, max_length=200)
    name = models.CharField(max_length=200, help_text="The file's name as sent, cleaned.")
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120, help_text="Detected from the content.")
    kind = models.CharField(max_length=60, help_text="e.g. “PNG image”.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.name


class ChatRating(models.Model):
    """The patron's optional rating (1–5) and comment, given after the chat ended."""

    chat = models.OneToOneField(Chat, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    address_digest = models.CharField(max_length=64, db_index=True)
    chat = models.ForeignKey(
        Chat, null=True, blank=True, on_delete=models.SET_NULL, related_name="blocks"
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "patron block"

    def __str__(self):
        return (
            f"Block of {self.created_at:%Y-%m-%d} ({self.reason[:40]})"
            if self.created_at
            else "Block"
        )

    def is_in_force(self, now=None) -> bool:
        from django.utils import timezone

        return self.lifted_at is None and self.expires_at > (now or timezone.now())


# Campus sign-in (issue 18), in a module of its own: this one is past its size.
from chat.campus_identity import CampusIdentity, SignInMapping, SignInProvider  # noqa: E402, F401
