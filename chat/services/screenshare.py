"""Request Screenshare (issue 7): the operator asks, the patron accepts or declines, and
either side stops. Each step is a state change here (audit row, system line in the
transcript, event on commit); the WebRTC signalling in between is relayed by the
consumers (chat.consumers.media) only while a share is accepted.

Two modes, per department (``Department.screenshare_mode``): ``webrtc`` — the patron's
screen goes to the operator in the browser, with ICE servers from
settings.SCREENSHARE_ICE_SERVERS — or ``meeting`` — a link to the operator's personal
meeting room, or to a new room from settings.SCREENSHARE_MEETING_TEMPLATE, for both.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from chat import events
from chat.exceptions import Conflict, Forbidden
from chat.models import Chat, ChatAudit, Message, Operator

REQUESTED, ACCEPTED, DECLINED, ENDED = (
    "share_requested",
    "share_accepted",
    "share_declined",
    "share_ended",
)
ACTIONS = (REQUESTED, ACCEPTED, DECLINED, ENDED)


def _state(chat: Chat) -> str | None:
    last = ChatAudit.objects.filter(chat=chat, action__in=ACTIONS).order_by("-at", "-pk").first()
    return last.action if last else None


def _meeting_url(operator: Operator) -> str:
    if operator.meeting_url:
        return operator.meeting_url
    room = secrets.token_hex(6)
    return settings.SCREENSHARE_MEETING_TEMPLATE.replace("{room}", room)


def _event(kind: str, chat: Chat, mode: str, **extra) -> dict:
    return {
        "type": kind,
        "chat": str(chat.public_id),
        "mode": mode,
        "operator": chat.operator_id,
        **extra,
    }


def _send(chat: Chat, event: dict) -> None:
    events.broadcast_on_commit(events.chat_group(chat.pk), event, chat_pk=chat.pk)


def _mode_of(chat: Chat) -> str:
    last = ChatAudit.objects.filter(chat=chat, action=REQUESTED).order_by("-at", "-pk").first()
    return (
        last.note.split(" ", 1)[0] if last and last.note else ""
    ) or chat.department.screenshare_mode


@transaction.atomic
def screenshare_request(*, chat_id: int, operator: Operator) -> Chat:
    """**Request Screenshare**, by the operator who has the active chat. Locks the chat;
    a request while one is pending or a share runs is refused (Conflict)."""
    from chat import services

    chat = services._lock_chat(chat_id)
    if chat.status != Chat.Status.ACTIVE or chat.operator_id != operator.pk:
        raise Forbidden(
            _("Only the librarian chatting with this patron can request a screenshare.")
        )
    if _state(chat) in (REQUESTED, ACCEPTED):
        raise Conflict(
            _("A screenshare is already requested or running in this chat."), code="share_busy"
        )
    mode = chat.department.screenshare_mode
    extra = {}
    if mode == "meeting":
        extra["meeting_url"] = _meeting_url(operator)
        with services.chat_language(chat):
            line = _("%(name)s invited you to a screen-sharing meeting: %(url)s") % {
                "name": operator.public_name,
                "url": extra["meeting_url"],
            }
    else:
        with services.chat_language(chat):
            line = _("%(name)s asked to see your screen.") % {"name": operator.public_name}
    services._audit(
        chat, REQUESTED, actor=operator.user, note=f"{mode} {extra.get('meeting_url', '')}".strip()
    )
    services._append_message(chat, sender=Message.Sender.SYSTEM, body=line)
    _send(chat, _event("screenshare.requested", chat, mode, by="operator", **extra))
    return chat


@transaction.atomic
def screenshare_answer(*, chat_id: int, accept: bool) -> Chat:
    """The patron accepts or declines the pending request (the caller checked the
    token). Without a pending request: Conflict."""
    from chat import services

    chat = services._lock_chat(chat_id)
    if chat.status != Chat.Status.ACTIVE or _state(chat) != REQUESTED:
        raise Conflict(_("There is no screenshare request to answer."), code="no_share_request")
    mode = _mode_of(chat)
    services._audit(chat, ACCEPTED if accept else DECLINED, note="patron")
    with services.chat_language(chat):
        accepted = _("The patron accepted screen sharing.")
        declined = _("The patron declined screen sharing.")
    if accept:
        line = accepted
        extra = {"ice_servers": settings.SCREENSHARE_ICE_SERVERS}
        last = ChatAudit.objects.filter(chat=chat, action=REQUESTED).order_by("-at", "-pk").first()
        if mode == "meeting" and last and " " in last.note:
            extra["meeting_url"] = last.note.split(" ", 1)[1]
    else:
        line, extra = declined, {}
    services._append_message(chat, sender=Message.Sender.SYSTEM, body=line)
    kind = "screenshare.accepted" if accept else "screenshare.declined"
    _send(chat, _event(kind, chat, mode, by="patron", **extra))
    return chat


@transaction.atomic
def screenshare_stop(*, chat_id: int, by: str, operator: Operator | None = None) -> Chat:
    """Either side stops the request or the share (``by``: "patron" or "operator"; the
    operator must be the chat's). Stopping when nothing runs is a no-op."""
    from chat import services

    chat = services._lock_chat(chat_id)
    if by == "operator" and (operator is None or chat.operator_id != operator.pk):
        raise Forbidden(_("Only the librarian chatting with this patron can stop the screenshare."))
    if _state(chat) not in (REQUESTED, ACCEPTED):
        return chat
    services._audit(chat, ENDED, actor=operator.user if operator else None, note=by)
    with services.chat_language(chat):
        line = (
            _("The librarian stopped screen sharing.")
            if by == "operator"
            else _("The patron stopped screen sharing.")
        )
    services._append_message(chat, sender=Message.Sender.SYSTEM, body=line)
    _send(chat, _event("screenshare.ended", chat, _mode_of(chat), by=by))
    return chat


def sharing_operator(chat_id: int) -> int | None:
    """The operator who may receive the patron's signalling now (a built-in share was
    accepted and not ended, in an active chat), else None. One query for the chat, one
    for its latest screenshare step."""
    chat = (
        Chat.objects.filter(pk=chat_id, status=Chat.Status.ACTIVE).only("pk", "operator_id").first()
    )
    if chat is None or chat.operator_id is None or _state(chat) != ACCEPTED:
        return None
    return chat.operator_id
