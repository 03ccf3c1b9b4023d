"""Every event type of ``chat.events``, built again from what the database holds now.

A live event is built on the hot path from objects in memory (some of them by hand:
``chat.services._common``); this module builds the same event from a fresh read, by
the reconnect and state paths' own code where there is one (history:
``selectors.messages_after``; ``dashboard.state``: ``selectors.dashboard_chats``,
``presence_payload``, ``departments_presence``; the widget's ``watch``:
``department_routing``; internal history: ``internal_messages_after``) and by a read of
its own for the rest. ``rebuilt(event)`` is what ``event`` should be; the invariant
test (tests/chat/test_live_equals_history.py) compares the two for every type in
``EVENT_TYPES``, so a new event type without a rebuild here fails it.

What is never stored is taken from the live event as it is, and only that: ``as_of``
(when a snapshot was read), typing's ``active``, the WebRTC ``sdp``/``candidate``
relayed as validated, and the ``reason`` the desk gives for a presence change. When
the database disagrees with an event that carries no fields of its own (chat.closed,
internal.closed…), the rebuilt event says so in ``database_says``, so the comparison
fails.
"""

import typing

from django.conf import settings

from chat import events, selectors
from chat.models import (
    Chat,
    ChatRating,
    Department,
    InternalChat,
    InternalChatArchive,
    Message,
    Transfer,
)


def declared_event_types() -> set[str]:
    """The ``type`` literals of every event TypedDict in chat.events."""
    found = set()
    for value in vars(events).values():
        if not (isinstance(value, type) and typing.is_typeddict(value)):
            continue
        hint = typing.get_type_hints(value).get("type")
        if typing.get_origin(hint) is typing.Literal:
            found.update(typing.get_args(hint))
    return found


def _chat(public_id) -> Chat:
    return Chat.objects.select_related("department", "operator__user").get(public_id=public_id)


def _disagrees(event, **facts) -> dict:
    """``event`` when every fact holds, else ``event`` with what the database says."""
    wrong = {name: value for name, (value, expected) in facts.items() if value != expected}
    return {**event, "database_says": wrong} if wrong else event


def _message_new(event):
    chat = _chat(event["chat"])
    seq = event["message"]["seq"]
    (message,) = selectors.messages_after(chat, seq - 1, limit=1)  # the history's read
    return {
        "type": "message.new",
        "chat": str(chat.public_id),
        "message": events.message_payload(message),
    }


def _chat_waiting(event):
    chat = (
        Chat.objects.select_related("department", "operator__user")
        .prefetch_related(selectors._first_patron_message())
        .get(public_id=event["chat"]["id"])
    )
    (summary,) = selectors._summaries([chat])  # as dashboard.state lists the queue
    return {"type": "chat.waiting", "chat": summary}


def _chat_claimed(event):
    chat = _chat(event["chat"])
    return events.chat_claimed(chat, chat.operator)


def _chat_ended(event):
    chat = _chat(event["chat"])
    ended = {"type": "chat.ended", "chat": str(chat.public_id), "by": chat.ended_by}
    return _disagrees(ended, status=(chat.status in ("ended", "closed"), True))


def _chat_closed(event):
    chat = _chat(event["chat"])
    return _disagrees(
        {"type": "chat.closed", "chat": str(chat.public_id)}, status=(chat.status, "closed")
    )


def _queue_changed(event):
    department = event["department"]
    return {
        "type": "queue.changed",
        "department": department,
        "waiting": selectors.waiting_chat_ids(department),
        "estimated_wait": selectors.estimated_wait_seconds(department),
    }


def _presence_changed(event):
    rebuilt = {"type": "presence.changed", **selectors.presence_payload(event["operator"]["id"])}
    rebuilt["as_of"] = event["as_of"]
    if "reason" in event:
        rebuilt["reason"] = event["reason"]
    return rebuilt


def _departments_changed(event):
    return {
        "type": "departments.changed",
        "departments": selectors.departments_presence(),
        "as_of": event["as_of"],
    }


def _memberships_changed(event):
    return {"type": "memberships.changed"}  # carries nothing: the state is read after it


def _session_ended(event):
    """The session it names (a logout) is gone from the database's session store. For
    every session of a user (``session`` None: a password changed, an account
    deactivated) the event names no one to read: each socket checks its own session
    again on its next ping (chat.consumers.staff.frame_ping)."""
    from django.contrib.sessions.models import Session

    if event["session"] is None:
        return dict(event)
    stored = {
        events.session_digest(key) for key in Session.objects.values_list("session_key", flat=True)
    }
    return _disagrees(dict(event), session_still_stored=(event["session"] in stored, False))


def _ticket_email_requested(event):
    from django.apps import apps

    ticket_model = apps.get_model("tickets", "Ticket")  # chat imports no tickets code
    ticket = next(
        t
        for t in ticket_model.objects.select_related("department", "chat")
        if t.reference == event["ticket"]
    )
    rebuilt = {
        "type": "ticket.email_requested",
        "chat": str(ticket.chat.public_id),
        "ticket": ticket.reference,
        "department": ticket.department.name,
    }
    return _disagrees(rebuilt, patron_email=(ticket.patron_email, ""))


def _department_presence(event):
    department = Department.objects.select_related("fallback").get(slug=event["department"])
    routing = selectors.department_routing(department)  # as the widget's watch reads it
    return events.department_presence(
        routing["department"], routing["online"], routing["answering"], event["as_of"]
    )


def _internal(public_id) -> InternalChat:
    return selectors._internal_base().get(public_id=public_id)


def _internal_started(event):
    return {
        "type": "internal.started",
        "internal": events.internal_summary(_internal(event["internal"]["id"])),
    }


def _internal_message(event):
    internal = _internal(event["internal"])
    seq = event["message"]["seq"]
    (message,) = [
        m for m in selectors.internal_messages_after(internal, seq - 1) if m["seq"] == seq
    ]
    return {"type": "internal.message", "internal": str(internal.public_id), "message": message}


def _internal_answered(event):
    internal = _internal(event["internal"])
    by = events.operator_ref(internal.answered_by) if internal.answered_by_id else None
    return {"type": "internal.answered", "internal": str(internal.public_id), "by": by}


def _internal_closed(event):
    internal = _internal(event["internal"])
    closed = {"type": "internal.closed", "internal": str(internal.public_id)}
    return _disagrees(closed, closed=(internal.closed_at is not None, True))


def _archived(internal: InternalChat, operator_id: int) -> bool:
    return InternalChatArchive.objects.filter(
        internal_chat=internal, operator_id=operator_id
    ).exists()


def _internal_archived(event):
    internal = _internal(event["internal"])
    archived = {
        "type": "internal.archived",
        "internal": str(internal.public_id),
        "operator": event["operator"],
    }
    return _disagrees(archived, archived=(_archived(internal, event["operator"]), True))


def _internal_unarchived(event):
    internal = _internal(event["internal"]["id"])
    unarchived = {
        "type": "internal.unarchived",
        "internal": events.internal_summary(internal),
        "operator": event["operator"],
    }
    return _disagrees(unarchived, archived=(_archived(internal, event["operator"]), False))


def _transfer(event) -> Transfer:
    """The chat's latest transfer (an event names its chat, not the offer)."""
    return (
        Transfer.objects.select_related(
            "chat__department",
            "chat__operator__user",
            "from_operator__user",
            "to_operator__user",
            "to_department",
            "resolved_by__user",
        )
        .filter(chat__public_id=event["transfer"]["chat"]["id"])
        .latest("created_at", "pk")
    )


def _preview(chat) -> str:
    first = Message.objects.filter(chat=chat, seq=1).values_list("body", flat=True).first()
    return first or ""


def _transfer_offered(event):
    transfer = _transfer(event)
    summary = events.transfer_summary(transfer, preview=_preview(transfer.chat))
    return {"type": "transfer.offered", "transfer": summary}


def _transfer_resolved(event):
    transfer = _transfer(event)
    summary = events.transfer_summary(transfer, preview=_preview(transfer.chat))
    by = events.operator_ref(transfer.resolved_by) if transfer.resolved_by_id else None
    return {"type": "transfer.resolved", "transfer": summary, "by": by}


def _typing(event):
    chat = _chat(event["chat"])
    if event["sender"] == "patron":
        name, operator = chat.patron_label, None
    else:
        name, operator = chat.operator.public_name, chat.operator_id
    typing_event = {
        "type": "typing",
        "chat": str(chat.public_id),
        "sender": event["sender"],
        "name": name,
        "active": event["active"],
        "operator": operator,
    }
    return _disagrees(typing_event, open=(chat.status in ("waiting", "active"), True))


def _screenshare(event):
    from chat.services import screenshare

    chat = _chat(event["chat"])
    kind = event["type"]
    audit = chat.audit.filter(action__in=screenshare.ACTIONS).order_by("-at", "-pk").first()
    state = {
        "screenshare.requested": screenshare.REQUESTED,
        "screenshare.accepted": screenshare.ACCEPTED,
        "screenshare.declined": screenshare.DECLINED,
        "screenshare.ended": screenshare.ENDED,
    }[kind]
    rebuilt = {
        "type": kind,
        "chat": str(chat.public_id),
        "mode": screenshare._mode_of(chat),
        "operator": chat.operator_id,
    }
    if kind == "screenshare.requested":
        rebuilt["by"] = "operator"
    elif kind == "screenshare.ended":
        rebuilt["by"] = audit.note if audit else None
    else:
        rebuilt["by"] = "patron"
    requested = chat.audit.filter(action=screenshare.REQUESTED).order_by("-at", "-pk").first()
    meeting_url = requested.note.split(" ", 1)[1] if requested and " " in requested.note else ""
    if kind in ("screenshare.requested", "screenshare.accepted") and rebuilt["mode"] == "meeting":
        rebuilt["meeting_url"] = meeting_url
    if kind == "screenshare.accepted":
        rebuilt["ice_servers"] = settings.SCREENSHARE_ICE_SERVERS
    return _disagrees(rebuilt, state=(audit.action if audit else None, state))


def _rtc(event):
    from chat.services import screenshare

    chat = _chat(event["chat"])
    rebuilt = {
        "type": event["type"],
        "chat": str(chat.public_id),
        "sender": event["sender"],
        "operator": screenshare.sharing_operator(chat.pk),
    }
    for relayed in ("sdp", "candidate"):  # relayed as validated, never stored
        if relayed in event:
            rebuilt[relayed] = event[relayed]
    return rebuilt


def _chat_deleted(event):
    chat = Chat.objects.get(public_id=event["chat"])
    gone = not Message.objects.filter(chat=chat).exists() and not chat.patron_name
    return _disagrees({"type": "chat.deleted", "chat": str(chat.public_id)}, deleted=(gone, True))


def _chat_rated(event):
    rating = ChatRating.objects.select_related("chat").get(chat__public_id=event["chat"])
    return {"type": "chat.rated", "chat": str(rating.chat.public_id), "score": rating.score}


REBUILDS = {
    "message.new": _message_new,
    "chat.waiting": _chat_waiting,
    "chat.claimed": _chat_claimed,
    "chat.ended": _chat_ended,
    "chat.closed": _chat_closed,
    "queue.changed": _queue_changed,
    "presence.changed": _presence_changed,
    "departments.changed": _departments_changed,
    "memberships.changed": _memberships_changed,
    "session.ended": _session_ended,
    "ticket.email_requested": _ticket_email_requested,
    "department.presence": _department_presence,
    "internal.started": _internal_started,
    "internal.message": _internal_message,
    "internal.answered": _internal_answered,
    "internal.closed": _internal_closed,
    "internal.archived": _internal_archived,
    "internal.unarchived": _internal_unarchived,
    "transfer.offered": _transfer_offered,
    "transfer.resolved": _transfer_resolved,
    "typing": _typing,
    "screenshare.requested": _screenshare,
    "screenshare.accepted": _screenshare,
    "screenshare.declined": _screenshare,
    "screenshare.ended": _screenshare,
    "rtc.offer": _rtc,
    "rtc.answer": _rtc,
    "rtc.ice": _rtc,
    "chat.deleted": _chat_deleted,
    "chat.rated": _chat_rated,
}


def rebuilt(event: dict) -> dict:
    """``event`` as the database says it should be now (see the module docstring)."""
    return REBUILDS[event["type"]](event)
