"""The patron's websocket consumer: one chat, opened by its token (docs/protocol.md).
The dashboard's is ``chat.consumers.staff``; what both share, ``chat.consumers.base``."""

from django.utils.translation import gettext as _

from chat import events, selectors, services
from chat.consumers.base import (
    CLOSE_FORBIDDEN,
    CLOSE_TOO_MANY_SOCKETS,
    DeskConsumer,
    _int_at_least_zero,
    origin_allowed,
)
from chat.consumers.frames import (
    PATRON_FRAMES,
    PatronWatchFrames,
)
from chat.consumers.media import (
    MEDIA_EVENTS,
    PATRON_MEDIA_FRAMES,
    PatronMediaFrames,
)
from chat.consumers.sends import SendBatches
from chat.consumers.support import SentSeqs, service, socket_db
from chat.exceptions import (
    Forbidden,
)
from chat.models import Chat, Message
from chat.socket_limits import PatronSocketLimits

# --- Patron ---------------------------------------------------------------------------


@socket_db
def _patron_chat(token):
    return selectors.chat_for_token(token)


@socket_db
def _chat_last_seq(chat_pk):
    return Chat.objects.filter(pk=chat_pk).values_list("last_seq", flat=True).first()


@socket_db
def _patron_welcome(chat, last_seq):
    # Read fresh, after the socket joined the chat's group (see frame_hello).
    chat = Chat.objects.select_related("department", "operator__user").get(pk=chat.pk)
    messages = [
        events.message_payload(m) for m in selectors.messages_after(chat, last_seq, limit=10**6)
    ]
    state = {
        "id": str(chat.public_id),
        "status": chat.status,
        "department": chat.department.name,
        "patron_name": chat.patron_name,
        "operator": chat.operator.public_name if chat.operator_id else None,
        "position": selectors.queue_position(chat),
        "estimated_wait": selectors.estimated_wait_seconds(chat.department_id)
        if chat.status == Chat.Status.WAITING
        else None,
        "last_seq": chat.last_seq,
        "language": chat.language,
    }
    return chat, {"chat": state, "messages": messages}


class PatronConsumer(PatronSocketLimits, PatronMediaFrames, PatronWatchFrames, DeskConsumer):
    """The widget's socket. The patron proves who they are with their token in the
    first frame (``hello``), never in a cookie or the URL."""

    frame_types = (
        frozenset({"hello", "message.send", "chat.end", "ping"})
        | PATRON_FRAMES
        | PATRON_MEDIA_FRAMES
    )
    chat_pk = None
    sent = None  # SentSeqs of this socket's chat

    async def connect(self):
        if not origin_allowed(self.scope):
            await self.refuse(
                "bad_origin",
                _("This socket is only for the library's chat widget."),
                CLOSE_FORBIDDEN,
            )
            return
        if not await self.join_address_count():  # chat.socket_limits
            await self.refuse(
                "too_many_sockets",
                _(
                    "Too many chat connections from your network. Close another chat window, "
                    "then try again."
                ),
                CLOSE_TOO_MANY_SOCKETS,
            )
            return
        await self.accept()
        self.start_hello_deadline()

    async def disconnect(self, code):
        await self.leave_address_count()
        await self.stop_watching()
        if self.chat_pk is not None:
            await self.channel_layer.group_discard(
                events.chat_group(self.chat_pk), self.channel_name
            )
            await self.channel_layer.group_discard(
                events.department_queue_group(self.department_pk), self.channel_name
            )

    def _require_chat(self):
        if self.chat_pk is None:
            raise Forbidden(_("Say hello with your chat token first."), code="not_authenticated")

    async def frame_hello(self, frame):
        last_seq = _int_at_least_zero(frame.get("last_seq"), "last_seq")
        chat = await _patron_chat(frame.get("token"))
        if chat is None:
            await self.send_json(
                {"type": "error", "code": "bad_token", "message": _("That chat was not found.")}
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if self.chat_pk is not None and self.chat_pk != chat.pk:
            raise Forbidden(_("This socket already belongs to another chat."))
        self.said_hello()
        await self.stop_watching()
        self.chat_pk, self.department_pk = chat.pk, chat.department_id
        await self.channel_layer.group_add(events.chat_group(chat.pk), self.channel_name)
        await self.channel_layer.group_add(
            events.department_queue_group(chat.department_id), self.channel_name
        )
        # Joined first, read second: a message committed in between is in this history,
        # and its live copy (queued behind this frame) is dropped by seen_seq. Once.
        chat, welcome = await _patron_welcome(chat, last_seq)
        if self.sent is None:
            self.sent = SentSeqs()
        self.sent.raise_floor(last_seq)
        for message in welcome["messages"]:
            self.sent.add(message["seq"])
        await self.send_json({"type": "welcome", **welcome})

    async def frame_ping(self, frame):
        # The chat's last seq lets the widget notice a message it never received live.
        last_seq = await _chat_last_seq(self.chat_pk) if self.chat_pk is not None else None
        await self.send_json({"type": "pong", "last_seq": last_seq})

    async def frame_message_send(self, frame):
        self._require_chat()
        message, created = await SendBatches.of_this_loop().send(
            chat_id=self.chat_pk,
            body=frame.get("body"),
            client_id=frame.get("client_id"),
            sender=Message.Sender.PATRON,
        )
        await self.send_json(
            {
                "type": "message.ack",
                "client_id": message.client_id,
                "seq": message.seq,
                "duplicate": not created,
            }
        )

    async def frame_chat_end(self, frame):
        self._require_chat()
        await service(services.chat_end, chat_id=self.chat_pk, by="patron")

    async def desk_event(self, envelope):
        event = envelope["event"]
        kind = event["type"]
        if kind == "message.new":
            if self.sent is not None and not self.sent.add(event["message"]["seq"]):
                return  # already delivered (in the welcome history, or live)
            await self.send_json(event)
        elif kind == "queue.changed":
            if self.chat_pk in event["waiting"]:
                position = event["waiting"].index(self.chat_pk) + 1
                await self.send_json(
                    {
                        "type": "queue.position",
                        "position": position,
                        "estimated_wait": event.get("estimated_wait"),
                    }
                )
        elif kind == "chat.claimed":
            await self.send_json(
                {
                    "type": "chat.claimed",
                    "chat": event["chat"],
                    "operator": event["operator"]["name"],
                }
            )
        elif kind == "chat.ended":
            await self.send_json(event)
        elif kind == "department.presence" and self.chat_pk is None:
            if event.get("as_of", 0.0) >= self.presence_as_of:  # else older than shown
                self.presence_as_of = event.get("as_of", 0.0)
                await self.send_json({**event, "type": "presence"})
        elif kind in MEDIA_EVENTS:  # typing, screenshare, signalling (chat.consumers.media)
            await self.forward_media(event)
        elif kind == "ticket.email_requested":  # from tickets: ask the patron for an email
            await self.send_json(event)
