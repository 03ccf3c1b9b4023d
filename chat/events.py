"""The one place realtime events are declared and built, and the one way they are sent.

Services call ``broadcast_on_commit`` (from ``chat.event_sending``, re-exported here:
services import this module only); nothing else sends to the channel layer. Every event
type is a TypedDict below with a literal ``type``, and every one of them is documented
in docs/protocol.md. Group names are built here, only from internal ids.

Channel-layer envelope: ``{"type": "desk.event", "event": <event>, "chat_pk": int|None}``;
consumers handle it in ``desk_event`` and forward the event (or, for patrons, a
patron-safe view of it).
"""

from typing import Literal, NotRequired, TypedDict

from chat.event_sending import (  # noqa: F401  (the way services send, re-exported)
    after_call,
    broadcast_on_commit,
    broadcast_snapshot_after_commit,
    relay_now,
    send_committed,
    snapshot_time,
)

# --- Group names (internal ids only) --------------------------------------------------


def _internal_id(value) -> int:
    """A database id, and nothing else: no text, no float, no bool, nothing negative."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"group names are built from internal ids only, not {value!r}")
    return value


def chat_group(chat_pk: int) -> str:
    """Everyone looking at one chat: its patron and the staff who opened it."""
    return f"chat-{_internal_id(chat_pk)}"


def department_group(department_pk: int) -> str:
    """Staff dashboards of a department's operators (the Patron Chats queue)."""
    return f"dept-{_internal_id(department_pk)}"


def department_queue_group(department_pk: int) -> str:
    """Patrons waiting in a department's queue (for their place in line)."""
    return f"dept-{_internal_id(department_pk)}-queue"


def operator_group(operator_pk: int) -> str:
    """Every dashboard tab of one operator."""
    return f"operator-{_internal_id(operator_pk)}"


def user_group(user_pk: int) -> str:
    """Every staff socket of one user account (to end them when its sessions end)."""
    return f"user-{_internal_id(user_pk)}"


STAFF_GROUP = "staff"  # every staff dashboard: presence of operators and departments


# --- Payloads -------------------------------------------------------------------------


class MessagePayload(TypedDict):
    seq: int
    client_id: str
    sender: Literal["patron", "operator", "system"]
    author: str
    body: str
    created_at: str
    # A file the message carries (issue 7): {"id", "name", "size", "size_label", "type",
    # "content_type", "previewable", "url"}; None for text.
    attachment: NotRequired[dict | None]


class ChatSummary(TypedDict):
    id: str
    department: dict
    status: Literal["waiting", "active", "ended", "closed"]
    patron_name: str
    operator: dict | None
    created_at: str
    last_seq: int
    preview: str
    language: dict  # the patron's: {"code": "es", "name": "Español"} (issue 19)


class MessageNew(TypedDict):
    type: Literal["message.new"]
    chat: str
    message: MessagePayload


class ChatWaiting(TypedDict):
    type: Literal["chat.waiting"]
    chat: ChatSummary


class ChatClaimed(TypedDict):
    type: Literal["chat.claimed"]
    chat: str
    operator: dict  # {"id": int, "name": str}


def chat_claimed(chat, operator) -> ChatClaimed:
    """A librarian has the chat now: by Claim Chat, or by accepting a transfer."""
    return {"type": "chat.claimed", "chat": str(chat.public_id), "operator": operator_ref(operator)}


class ChatEnded(TypedDict):
    type: Literal["chat.ended"]
    chat: str
    by: Literal["patron", "operator", "system"]


class ChatClosed(TypedDict):
    type: Literal["chat.closed"]
    chat: str


class QueueChanged(TypedDict):
    """Internal only: patron consumers turn it into their own ``queue.position``."""

    type: Literal["queue.changed"]
    department: int
    waiting: list[int]


class PresenceChanged(TypedDict):
    type: Literal["presence.changed"]
    operator: dict  # {"id", "name", "status", "available"}
    departments: list[dict]  # [{"id", "name", "online"}]
    as_of: float  # when it was read (broadcast_snapshot_after_commit)
    online: NotRequired[bool]
    # Why it changed when the desk changed it: "idle" (→ Away), "shift_end" or
    # "disconnected" (→ Offline). Absent when the operator chose it.
    reason: NotRequired[str]


class DepartmentsChanged(TypedDict):
    """To ``staff``: the desk admin created, changed or deleted a department or an
    operator's departments (chat.services.departments); ``departments`` as in
    ``presence.changed``. The dashboard redraws its Departments section."""

    type: Literal["departments.changed"]
    departments: list[dict]
    as_of: float


class MembershipsChanged(TypedDict):
    """Internal, to ``operator-<pk>``: the desk admin added this operator to departments
    or removed them from some (chat.services.departments). The operator's dashboard
    sockets join and leave those departments' groups and send the dashboard a fresh
    ``dashboard.state`` (the new waiting queue); the frame itself is not forwarded."""

    type: Literal["memberships.changed"]


class SessionEnded(TypedDict):
    """Internal: a staff user's session(s) ended (logout, password change,
    deactivation). ``session`` is the digest of the one session that ended, or None
    for all of them. Consumers close the socket; the browser sees close code 4401."""

    type: Literal["session.ended"]
    reason: str
    session: str | None


def session_digest(session_key: str) -> str:
    import hashlib

    return hashlib.sha256(f"libdesk-session:{session_key}".encode()).hexdigest()[:32]


def message_payload(message) -> MessagePayload:
    if message.sender == "operator" and message.operator_id:
        author = message.operator.public_name
    elif message.sender == "patron":
        author = message.chat.patron_label
    else:
        author = ""
    return {
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender,
        "author": author,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "attachment": _attachment_payload(message),
    }


def _attachment_payload(message) -> dict | None:
    from chat.services import attachments  # issue 7: a message may carry a file

    found = attachments.cached_attachment(message)
    return attachments.payload(found) if found is not None else None


def operator_ref(operator) -> dict:
    return {"id": operator.pk, "name": operator.public_name}


def chat_summary(chat, preview: str = "") -> ChatSummary:
    return {
        "id": str(chat.public_id),
        "department": {"id": chat.department_id, "name": chat.department.name},
        "status": chat.status,
        "patron_name": chat.patron_label,
        "operator": operator_ref(chat.operator) if chat.operator_id else None,
        "created_at": chat.created_at.isoformat(),
        "last_seq": chat.last_seq,
        "preview": preview[:200],
        "language": language_ref(chat.language),
    }


def language_ref(code: str) -> dict:
    """A language as staff see it: its code and its own name (settings.LANGUAGES)."""
    from django.conf import settings

    names = dict(settings.LANGUAGES)
    code = code if code in names else settings.LANGUAGE_CODE
    return {"code": code, "name": names.get(code, code)}


class TicketEmailRequested(TypedDict):
    """Sent by ``tickets`` to a chat's group when a ticket was created from a chat whose
    patron gave no email address: the widget asks for one."""

    type: Literal["ticket.email_requested"]
    chat: str
    ticket: str  # the reference, e.g. "LD-000123"
    department: str


# --- Presence, internal chat and transfers (issue 4) ------------------------------------


def department_presence_group(department_pk: int) -> str:
    """Patron widgets watching a department before their chat starts (no token)."""
    return f"dept-{_internal_id(department_pk)}-presence"


class DepartmentPresence(TypedDict):
    """To ``dept-<pk>-presence``; the patron socket forwards it as ``presence``."""

    type: Literal["department.presence"]
    department: str  # slug
    online: bool
    answering: dict | None  # {"name", "slug"}: who answers a new chat (maybe a fallback)
    as_of: float


def department_presence(
    slug: str, online: bool, answering: dict | None, as_of: float
) -> DepartmentPresence:
    return {
        "type": "department.presence",
        "department": slug,
        "online": online,
        "answering": answering,
        "as_of": as_of,
    }


class InternalSummary(TypedDict):
    id: str
    created_by: dict  # {"id", "name"}
    to_operator: dict | None
    to_department: dict | None  # {"id", "name"}
    to_label: str
    answered_by: dict | None
    about: dict | None  # {"id", "patron_name", "department"}: the patron chat it is about
    created_at: str
    last_seq: int
    closed: bool


class InternalMessagePayload(TypedDict):
    seq: int
    client_id: str
    author: dict | None  # {"id", "name"}
    body: str
    created_at: str


class InternalStarted(TypedDict):
    type: Literal["internal.started"]
    internal: InternalSummary


class InternalMessageNew(TypedDict):
    type: Literal["internal.message"]
    internal: str
    message: InternalMessagePayload


class InternalAnswered(TypedDict):
    type: Literal["internal.answered"]
    internal: str
    by: dict  # {"id", "name"}


class InternalClosed(TypedDict):
    type: Literal["internal.closed"]
    internal: str


class InternalArchived(TypedDict):
    """To ``operator-<pk>`` of the operator who archived it (their other tabs)."""

    type: Literal["internal.archived"]
    internal: str
    operator: int  # who archived it: archives are per operator


class InternalUnarchived(TypedDict):
    """To ``operator-<pk>``: back in this operator's list (Unarchive, or a new message)."""

    type: Literal["internal.unarchived"]
    internal: InternalSummary
    operator: int


class TransferSummary(TypedDict):
    chat: ChatSummary
    from_operator: dict  # {"id", "name"}
    to_operator: dict | None
    to_department: dict | None
    to_label: str
    note: str
    status: Literal["offered", "accepted", "declined", "expired"]
    expires_at: str


class TransferOffered(TypedDict):
    type: Literal["transfer.offered"]
    transfer: TransferSummary


class TransferResolved(TypedDict):
    type: Literal["transfer.resolved"]
    transfer: TransferSummary
    by: dict | None  # who claimed or declined; None when it expired


def internal_summary(internal) -> InternalSummary:
    about = internal.about_chat
    return {
        "id": str(internal.public_id),
        "created_by": operator_ref(internal.created_by),
        "to_operator": operator_ref(internal.to_operator) if internal.to_operator_id else None,
        "to_department": (
            {"id": internal.to_department_id, "name": internal.to_department.name}
            if internal.to_department_id
            else None
        ),
        "to_label": (
            internal.to_department.name
            if internal.to_department_id
            else internal.to_operator.public_name
        ),
        "answered_by": operator_ref(internal.answered_by) if internal.answered_by_id else None,
        "about": (
            {
                "id": str(about.public_id),
                "patron_name": about.patron_label,
                "department": about.department.name,
            }
            if about is not None
            else None
        ),
        "created_at": internal.created_at.isoformat(),
        "last_seq": internal.last_seq,
        "closed": internal.closed_at is not None,
    }


def internal_message_payload(message) -> InternalMessagePayload:
    return {
        "seq": message.seq,
        "client_id": message.client_id,
        "author": operator_ref(message.operator) if message.operator_id else None,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def transfer_summary(transfer, preview: str = "") -> TransferSummary:
    return {
        "chat": chat_summary(transfer.chat, preview=preview),
        "from_operator": operator_ref(transfer.from_operator),
        "to_operator": operator_ref(transfer.to_operator) if transfer.to_operator_id else None,
        "to_department": (
            {"id": transfer.to_department_id, "name": transfer.to_department.name}
            if transfer.to_department_id
            else None
        ),
        "to_label": transfer.target_name,
        "note": transfer.note,
        "status": transfer.status,
        "expires_at": transfer.expires_at.isoformat(),
    }


# --- The patron's side (issue 7): typing, screenshare, signalling, deletion ----------------
# Typing and WebRTC signalling change nothing in the database: consumers relay them at
# once with ``relay_now`` (still declared here, like every event). Screenshare requests,
# answers and ends are state changes: chat.services.screenshare broadcasts them on commit.


class Typing(TypedDict):
    """To ``chat-<pk>``: someone is typing (``active``) or stopped."""

    type: Literal["typing"]
    chat: str
    sender: Literal["patron", "operator"]
    name: str
    active: bool
    operator: int | None  # the chat's operator: staff sockets of others ignore it


class Screenshare(TypedDict):
    """To ``chat-<pk>``: requested by the operator, then accepted, declined or ended."""

    type: Literal[
        "screenshare.requested", "screenshare.accepted", "screenshare.declined", "screenshare.ended"
    ]
    chat: str
    mode: Literal["webrtc", "meeting"]
    operator: int  # only this operator's sockets (and the patron's) forward it
    by: NotRequired[Literal["patron", "operator", "system"]]
    meeting_url: NotRequired[str]  # meeting mode
    ice_servers: NotRequired[list]  # built-in mode, on accepted


class RtcSignal(TypedDict):
    """To ``chat-<pk>``: WebRTC signalling between the chat's patron and its operator
    only, relayed as validated (``sdp`` for offer/answer, ``candidate`` for ice)."""

    type: Literal["rtc.offer", "rtc.answer", "rtc.ice"]
    chat: str
    sender: Literal["patron", "operator"]
    operator: int
    sdp: NotRequired[str]
    candidate: NotRequired[dict | None]


class ChatDeleted(TypedDict):
    """To ``chat-<pk>``: the patron deleted the conversation (chat.services.retention)."""

    type: Literal["chat.deleted"]
    chat: str


class ChatRated(TypedDict):
    """To ``chat-<pk>``: the patron rated the chat (staff see it; the patron gets it too)."""

    type: Literal["chat.rated"]
    chat: str
    score: int
