"""Socket frames of issue 7 — typing, screenshare and its WebRTC signalling, rating and
deleting a conversation — as mixins of the consumers (chat.consumers, chat.consumers.staff).

Typing and signalling write nothing: they are validated, rate-limited per socket in
memory and relayed at once (``events.relay_now``). Signalling goes only between the
chat's patron and its operator, and only while a built-in share is accepted. Every
frame is in docs/protocol.md.
"""

import time

from django.utils.translation import gettext as _

from chat import events
from chat.consumers.support import service, socket_db
from chat.exceptions import Conflict, Forbidden, InvalidInput, RateLimited
from chat.models import Chat
from chat.services import ratings, retention, screenshare

PATRON_MEDIA_FRAMES = frozenset(
    {
        "typing",
        "screenshare.accept",
        "screenshare.decline",
        "screenshare.stop",
        "rtc.offer",
        "rtc.ice",
        "chat.rate",
        "chat.delete",
    }
)
STAFF_MEDIA_FRAMES = frozenset(
    {"typing", "screenshare.request", "screenshare.stop", "rtc.answer", "rtc.ice"}
)
MEDIA_EVENTS = frozenset(
    {
        "typing",
        "screenshare.requested",
        "screenshare.accepted",
        "screenshare.declined",
        "screenshare.ended",
        "rtc.offer",
        "rtc.answer",
        "rtc.ice",
    }
)

TYPING_MIN_INTERVAL = 1.0  # seconds between relayed "typing" frames of one socket
SIGNAL_BUDGET = 60  # signalling frames per socket per window
SIGNAL_WINDOW = 10.0
SDP_MAX = 12000
CANDIDATE_MAX = 1024


def clean_sdp(frame) -> str:
    sdp = frame.get("sdp")
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > SDP_MAX:
        raise InvalidInput("'sdp' must be a session description (text starting with v=0).")
    return sdp


def clean_candidate(frame) -> dict | None:
    """An RTCIceCandidateInit with only its known keys, or None (end of candidates)."""
    candidate = frame.get("candidate")
    if candidate is None:
        return None
    if not isinstance(candidate, dict):
        raise InvalidInput(_("'candidate' must be an ICE candidate object."))
    text = candidate.get("candidate")
    mid = candidate.get("sdpMid")
    index = candidate.get("sdpMLineIndex")
    fragment = candidate.get("usernameFragment")
    ok = (
        isinstance(text, str)
        and len(text) <= CANDIDATE_MAX
        and (text == "" or text.startswith("candidate:"))
        and (mid is None or (isinstance(mid, str) and len(mid) <= 64))
        and (
            index is None
            or (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 64)
        )
        and (fragment is None or (isinstance(fragment, str) and len(fragment) <= 256))
    )
    if not ok:
        raise InvalidInput(_("That ICE candidate is not valid."))
    return {"candidate": text, "sdpMid": mid, "sdpMLineIndex": index, "usernameFragment": fragment}


def _active_flag(frame) -> bool:
    active = frame.get("active", True)
    if not isinstance(active, bool):
        raise InvalidInput(_("'active' must be true or false."))
    return active


class _Budget:
    """Frames allowed per window, per socket (memory only: nothing is written)."""

    def __init__(self):
        self.window_start = 0.0
        self.count = 0
        self.last_typing = {}

    def spend(self) -> None:
        now = time.monotonic()
        if now - self.window_start > SIGNAL_WINDOW:
            self.window_start, self.count = now, 0
        self.count += 1
        if self.count > SIGNAL_BUDGET:
            raise RateLimited(_("Too many screenshare messages; please wait a moment."))

    def typing_allowed(self, key, active: bool) -> bool:
        now = time.monotonic()
        if active and now - self.last_typing.get(key, 0.0) < TYPING_MIN_INTERVAL:
            return False
        self.last_typing[key] = now if active else 0.0
        return True


@socket_db
def _patron_chat_facts(chat_pk):
    chat = (
        Chat.objects.filter(pk=chat_pk)
        .only("public_id", "patron_name", "operator_id", "status")
        .first()
    )
    if chat is None:
        raise Forbidden(_("This chat is no longer available."), code="bad_token")
    return chat


class PatronMediaFrames:
    """The widget's typing, screenshare answers, signalling, rating and deletion."""

    _media_budget = None
    _chat_public_id = None

    def _budget(self) -> _Budget:
        if self._media_budget is None:
            self._media_budget = _Budget()
        return self._media_budget

    async def _public_id(self):
        if self._chat_public_id is None:
            chat = await _patron_chat_facts(self.chat_pk)
            self._chat_public_id, self._patron_label = str(chat.public_id), chat.patron_label
        return self._chat_public_id

    async def frame_typing(self, frame):
        self._require_chat()
        active = _active_flag(frame)
        if not self._budget().typing_allowed("patron", active):
            return
        # Read each time (at most once a second): typing in a chat that has ended is
        # not the librarian's business any more (issue 15 relayed it).
        chat = await _patron_chat_facts(self.chat_pk)
        if chat.status not in (Chat.Status.WAITING, Chat.Status.ACTIVE):
            raise Conflict(_("This chat has ended."), code="chat_ended")
        event = {
            "type": "typing",
            "chat": str(chat.public_id),
            "sender": "patron",
            "name": chat.patron_label,
            "active": active,
            "operator": None,
        }
        await events.relay_now(events.chat_group(self.chat_pk), event, chat_pk=self.chat_pk)

    async def frame_screenshare_accept(self, frame):
        self._require_chat()
        await service(screenshare.screenshare_answer, chat_id=self.chat_pk, accept=True)

    async def frame_screenshare_decline(self, frame):
        self._require_chat()
        await service(screenshare.screenshare_answer, chat_id=self.chat_pk, accept=False)

    async def frame_screenshare_stop(self, frame):
        self._require_chat()
        await service(screenshare.screenshare_stop, chat_id=self.chat_pk, by="patron")

    async def _signal(self, kind, payload):
        self._require_chat()
        self._budget().spend()
        operator_id = await service(screenshare.sharing_operator, self.chat_pk)
        if operator_id is None:
            raise Conflict(_("No screenshare is running in this chat."), code="no_share")
        event = {
            "type": kind,
            "chat": await self._public_id(),
            "sender": "patron",
            "operator": operator_id,
        }
        await events.relay_now(
            events.chat_group(self.chat_pk), {**event, **payload}, chat_pk=self.chat_pk
        )

    async def frame_rtc_offer(self, frame):
        await self._signal("rtc.offer", {"sdp": clean_sdp(frame)})

    async def frame_rtc_ice(self, frame):
        await self._signal("rtc.ice", {"candidate": clean_candidate(frame)})

    async def frame_chat_rate(self, frame):
        self._require_chat()
        rating = await service(
            ratings.chat_rate,
            chat_id=self.chat_pk,
            score=frame.get("score"),
            comment="" if frame.get("comment") is None else frame.get("comment"),
        )
        await self.send_json(
            {"type": "chat.rated", "score": rating.score, "comment": rating.comment}
        )

    async def frame_chat_delete(self, frame):
        self._require_chat()
        await service(retention.chat_delete_by_patron, chat_id=self.chat_pk)
        await self.channel_layer.group_discard(events.chat_group(self.chat_pk), self.channel_name)
        await self.channel_layer.group_discard(
            events.department_queue_group(self.department_pk), self.channel_name
        )
        self.chat_pk = None
        await self.send_json({"type": "chat.deleted"})

    async def forward_media(self, event):
        """What of issue 7's events reaches the patron: the operator's typing, every
        screenshare step, and signalling from the operator."""
        kind = event["type"]
        if kind == "typing":
            if event["sender"] == "operator":
                await self.send_json(
                    {
                        "type": "typing",
                        "sender": "operator",
                        "name": event["name"],
                        "active": event["active"],
                    }
                )
        elif kind.startswith("screenshare."):
            await self.send_json({key: value for key, value in event.items() if key != "operator"})
        elif kind.startswith("rtc.") and event["sender"] == "operator":
            await self.send_json({key: value for key, value in event.items() if key != "operator"})


class StaffMediaFrames:
    """The dashboard's typing, Request Screenshare, stop and signalling answers."""

    _media_budget = None

    def _budget(self) -> _Budget:
        if self._media_budget is None:
            self._media_budget = _Budget()
        return self._media_budget

    async def _own_active_chat(self, frame):
        chat = await self._chat(frame)
        if chat.status != Chat.Status.ACTIVE or chat.operator_id != self.operator.pk:
            raise Forbidden(_("Only the librarian chatting with this patron can do that."))
        return chat

    async def frame_typing(self, frame):
        public_id = frame.get("chat")
        active = _active_flag(frame)
        if not isinstance(public_id, str) or len(public_id) > 64:
            raise InvalidInput(_("Name the chat: 'chat' is the chat's id."))
        if not self._budget().typing_allowed(public_id, active):
            return
        chat = await self._own_active_chat(frame)
        event = {
            "type": "typing",
            "chat": public_id,
            "sender": "operator",
            "name": self.operator.public_name,
            "active": active,
            "operator": self.operator.pk,
        }
        await events.relay_now(events.chat_group(chat.pk), event, chat_pk=chat.pk)

    async def frame_screenshare_request(self, frame):
        chat = await self._chat(frame)
        await service(screenshare.screenshare_request, chat_id=chat.pk, operator=self.operator)

    async def frame_screenshare_stop(self, frame):
        chat = await self._chat(frame)
        await service(
            screenshare.screenshare_stop, chat_id=chat.pk, by="operator", operator=self.operator
        )

    async def _signal(self, frame, kind, payload):
        self._budget().spend()
        chat = await self._own_active_chat(frame)
        if await service(screenshare.sharing_operator, chat.pk) != self.operator.pk:
            raise Conflict(_("No screenshare is running in this chat."), code="no_share")
        event = {
            "type": kind,
            "chat": str(chat.public_id),
            "sender": "operator",
            "operator": self.operator.pk,
        }
        await events.relay_now(events.chat_group(chat.pk), {**event, **payload}, chat_pk=chat.pk)

    async def frame_rtc_answer(self, frame):
        await self._signal(frame, "rtc.answer", {"sdp": clean_sdp(frame)})

    async def frame_rtc_ice(self, frame):
        await self._signal(frame, "rtc.ice", {"candidate": clean_candidate(frame)})

    async def forward_media(self, event):
        """The patron's typing reaches every staff socket on the chat; screenshare steps
        and the patron's signalling reach only the chat's operator."""
        kind = event["type"]
        if kind == "typing":
            if event["sender"] == "patron":
                await self.send_json(event)
        elif event.get("operator") != self.operator.pk:
            return
        elif kind.startswith("screenshare.") or event.get("sender") == "patron":
            await self.send_json(event)
