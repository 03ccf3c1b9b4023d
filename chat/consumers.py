"""Websocket consumers: authenticate, join groups, forward events, and map each
incoming frame to one service call. Every frame and reply is in docs/protocol.md."""

import asyncio
import json
import logging
from importlib import import_module

from channels.auth import get_user
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from chat import events, selectors, services
from chat.consumer_frames import (
    PATRON_FRAMES,
    STAFF_FRAMES,
    PatronWatchFrames,
    StaffDeskFrames,
    staff_state_extras,
)
from chat.consumer_media import (
    MEDIA_EVENTS,
    PATRON_MEDIA_FRAMES,
    STAFF_MEDIA_FRAMES,
    PatronMediaFrames,
    StaffMediaFrames,
)
from chat.consumer_sends import ConcurrentSends, SendBatches
from chat.consumer_support import SentSeqs, service, socket_db
from chat.exceptions import (
    TRANSIENT_ERRORS,
    DeskError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)
from chat.models import Chat, Message

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are ours): the browser sees them on the close event.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

# Detached presence checks, kept referenced until they finish (see StaffConsumer.disconnect).
_pending_reconciles: set[asyncio.Task] = set()


def origin_allowed(scope) -> bool:
    """The socket's Origin must be one of our own hosts (ALLOWED_HOSTS): both the
    dashboard and the widget iframe are served from this desk."""
    origin = dict(scope.get("headers", [])).get(b"origin")
    if not origin:
        return False
    try:
        value = origin.decode("latin1")
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest:
            return False
        host, _port = split_domain_port(rest.split("/")[0])
    except (UnicodeDecodeError, ValueError):
        return False
    allowed = list(settings.ALLOWED_HOSTS)
    return bool(host) and validate_host(host, allowed)


def _session_store(session_key):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


MAX_SEQ = 2**31 - 1  # sequence numbers are 32-bit in the database: anything larger is refused


def _int_at_least_zero(value, name) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise InvalidInput(f"{name} must be a whole number of at least 0.")
    return value


class DeskConsumer(ConcurrentSends, AsyncWebsocketConsumer):
    """Frame parsing and error frames shared by the patron and staff sockets.

    A frame is a JSON object with a string ``type``; ``frame_<type with . as _>``
    handles it. Anything else gets an error frame and changes nothing.
    """

    frame_types: frozenset[str] = frozenset()

    async def dispatch(self, message):
        # Channels' dispatch first runs close_old_connections through sync_to_async on
        # the process's one database thread, for every frame and every group event:
        # a thread hop per message, even for events that never touch the database.
        # Our database work runs only through chat.consumer_support, which settles its
        # thread's connections before and after each call, so the hop is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content):
        await self.send(text_data=json.dumps(content))

    async def refuse(self, code, message, close_code):
        await self.accept()
        await self.send_json({"type": "error", "code": code, "message": message})
        await self.close(code=close_code)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            await self.send_json(InvalidInput("Send JSON text frames.", code="binary").as_frame())
            return
        limit = settings.LIBDESK["MAX_FRAME_BYTES"]
        if len(text_data) > limit or len(text_data.encode()) > limit:
            await self.send_json(
                InvalidInput(f"Frame too large (limit {limit} bytes).", code="frame_too_large").as_frame()
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_json(InvalidInput("That frame is not valid JSON.", code="bad_json").as_frame())
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_json(
                InvalidInput("A frame is a JSON object with a string 'type'.", code="bad_frame").as_frame()
            )
            return
        ref = frame.get("ref") if isinstance(frame.get("ref"), (str, int)) else None
        extra = {"ref": ref} if ref is not None else {}
        if frame["type"] not in self.frame_types:
            await self.send_json(
                InvalidInput(f"Unknown frame type {frame['type'][:40]!r}.", code="unknown_type").as_frame(**extra)
            )
            return
        handler = getattr(self, "frame_" + frame["type"].replace(".", "_"))

        async def handle():
            try:
                await handler(frame)
            except (DeskError, *TRANSIENT_ERRORS) as error:
                if not isinstance(error, DeskError):  # database or Redis away for a moment
                    logger.warning("%s failed, the client will retry: %r", frame["type"], error)
                    error = Unavailable()
                if isinstance(frame.get("client_id"), str):
                    extra["client_id"] = frame["client_id"]
                await self.send_json(error.as_frame(**extra))

        # Sends run beside the socket's other work, in order per chat (chat.consumer_sends).
        await self.run_frame(frame, handle)

    async def frame_ping(self, frame):
        await self.send_json({"type": "pong"})


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
    messages = [events.message_payload(m) for m in selectors.messages_after(chat, last_seq, limit=10**6)]
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
    }
    return chat, {"chat": state, "messages": messages}


class PatronConsumer(PatronMediaFrames, PatronWatchFrames, DeskConsumer):
    """The widget's socket. The patron proves who they are with their token in the
    first frame (``hello``), never in a cookie or the URL."""

    frame_types = (
        frozenset({"hello", "message.send", "chat.end", "ping"}) | PATRON_FRAMES | PATRON_MEDIA_FRAMES
    )
    chat_pk = None
    sent = None  # SentSeqs of this socket's chat

    async def connect(self):
        if not origin_allowed(self.scope):
            await self.refuse("bad_origin", "This socket is only for the library's chat widget.", CLOSE_FORBIDDEN)
            return
        await self.accept()

    async def disconnect(self, code):
        await self.stop_watching()
        if self.chat_pk is not None:
            await self.channel_layer.group_discard(events.chat_group(self.chat_pk), self.channel_name)
            await self.channel_layer.group_discard(
                events.department_queue_group(self.department_pk), self.channel_name
            )

    def _require_chat(self):
        if self.chat_pk is None:
            raise Forbidden("Say hello with your chat token first.", code="not_authenticated")

    async def frame_hello(self, frame):
        last_seq = _int_at_least_zero(frame.get("last_seq"), "last_seq")
        chat = await _patron_chat(frame.get("token"))
        if chat is None:
            await self.send_json({"type": "error", "code": "bad_token", "message": "That chat was not found."})
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if self.chat_pk is not None and self.chat_pk != chat.pk:
            raise Forbidden("This socket already belongs to another chat.")
        await self.stop_watching()
        self.chat_pk, self.department_pk = chat.pk, chat.department_id
        await self.channel_layer.group_add(events.chat_group(chat.pk), self.channel_name)
        await self.channel_layer.group_add(events.department_queue_group(chat.department_id), self.channel_name)
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
            {"type": "message.ack", "client_id": message.client_id, "seq": message.seq, "duplicate": not created}
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
                    {"type": "queue.position", "position": position, "estimated_wait": event.get("estimated_wait")}
                )
        elif kind == "chat.claimed":
            await self.send_json({"type": "chat.claimed", "chat": event["chat"], "operator": event["operator"]["name"]})
        elif kind == "chat.ended":
            await self.send_json(event)
        elif kind == "department.presence" and self.chat_pk is None:
            if event.get("as_of", 0.0) >= self.presence_as_of:  # else older than shown
                self.presence_as_of = event.get("as_of", 0.0)
                await self.send_json({**event, "type": "presence"})
        elif kind in MEDIA_EVENTS:  # typing, screenshare, signalling (chat.consumer_media)
            await self.forward_media(event)
        elif kind == "ticket.email_requested":  # from tickets: ask the patron for an email
            await self.send_json(event)


# --- Staff ----------------------------------------------------------------------------


@socket_db
def _staff_open(operator, channel_name):
    """Registers the connection and reads ``dashboard.state`` but for its extras
    (``staff_state_extras``, read once the socket joined its groups): the departments
    whose groups to join, {public id: pk} of the operator's chats, and the frame."""
    services.connection_open(operator=operator, channel_name=channel_name)
    return _staff_state(operator)


def _staff_state(operator):
    """``dashboard.state`` but for its extras, as ``_staff_open`` returns it."""
    as_of = events.snapshot_time()  # its presence, as a presence snapshot's
    snapshot = selectors.dashboard_snapshot(operator)
    state = {
        "type": "dashboard.state",
        "as_of": as_of,
        "operator": snapshot["operator"],
        "departments": snapshot["departments"],
        "waiting": snapshot["waiting"],
        "mine": snapshot["mine"],
        "heartbeat_seconds": settings.LIBDESK["HEARTBEAT_SECONDS"],
        "max_message_length": settings.LIBDESK["MAX_MESSAGE_LENGTH"],
    }
    return snapshot["department_ids"], snapshot["mine_pks"], state


# The same for a socket already open (its departments changed).
_staff_state_again = socket_db(_staff_state)


@socket_db
def _staff_chat(operator, public_id):
    chat = selectors.chat_for_staff(operator, public_id)
    if chat is None:
        raise NotFound()
    return chat


@socket_db
def _staff_send(operator, public_id, *, body, client_id):
    """message.send from a dashboard to a chat this socket has not looked up yet (by
    chat.open, chat.claim, or at connect: those go through SendBatches with the id
    remembered; only that immutable mapping is). Who may write is decided by
    message_send on every frame, under the chat's row lock (the operator who has the
    chat, while it is active), which is stricter than who may read it."""
    chat = selectors.chat_for_staff(operator, public_id)
    if chat is None:
        raise NotFound()
    chat_pk = chat.pk
    return services.message_send(
        chat_id=chat_pk, body=body, client_id=client_id, sender=Message.Sender.OPERATOR, operator=operator
    )


@socket_db
def _staff_history(chat, after_seq):
    chat.refresh_from_db()
    messages = [events.message_payload(m) for m in selectors.messages_after(chat, after_seq, limit=10**6)]
    return {"chat": events.chat_summary(chat), "messages": messages}


class StaffConsumer(StaffMediaFrames, StaffDeskFrames, DeskConsumer):
    """The Chat Dashboard's socket: a logged-in operator, from our own Origin."""

    frame_types = frozenset(
        {"presence.set", "chat.open", "chat.claim", "message.send", "chat.end", "chat.close", "ping"}
    ) | STAFF_FRAMES | STAFF_MEDIA_FRAMES
    operator = None
    # When the presence this dashboard shows was read: older snapshots are dropped.
    departments_as_of = own_status_as_of = 0.0

    async def connect(self):
        if not origin_allowed(self.scope):
            await self.refuse("bad_origin", "Staff sockets are only for this desk's dashboard.", CLOSE_FORBIDDEN)
            return
        self.operator = await service(selectors.operator_for_user, self.scope.get("user"))
        if self.operator is None:
            await self.refuse("not_authenticated", "Log in as library staff first.", CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
        department_ids, mine, state = await _staff_open(self.operator, self.channel_name)
        self.chat_pks = {}  # public id -> pk, for chats whose group this socket joined
        self.seen = {}  # chat pk -> SentSeqs: what this socket has sent (each goes out once)
        groups = [events.operator_group(self.operator.pk), events.STAFF_GROUP]
        groups.append(events.user_group(self.operator.user_id))
        groups += [events.department_group(pk) for pk in department_ids]
        self.department_ids = set(department_ids)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        for public_id, pk in mine.items():
            await self._join_chat(public_id, pk)
        state.update(await staff_state_extras(self.operator, department_ids))
        self.departments_as_of = self.own_status_as_of = state["as_of"]
        await self.send_json(state)

    async def disconnect(self, code):
        if self.operator is None:
            return
        await service(services.connection_close, channel_name=self.channel_name)
        if settings.LIBDESK["PRESENCE_GRACE_SECONDS"] <= 0:  # no grace: settle it now
            await self._reconcile_after_grace(self.operator.pk)
            return
        # Daphne cancels a closed socket's consumer after a few seconds, so the grace
        # period runs as a detached task, not inside this coroutine.
        task = asyncio.get_running_loop().create_task(self._reconcile_after_grace(self.operator.pk))
        _pending_reconciles.add(task)
        task.add_done_callback(_pending_reconciles.discard)

    @staticmethod
    async def _reconcile_after_grace(operator_pk):
        await asyncio.sleep(settings.LIBDESK["PRESENCE_GRACE_SECONDS"])
        try:
            await service(services.presence_reconcile, operator_id=operator_pk)
        except Exception:
            logger.exception("presence reconcile failed for operator %s", operator_pk)

    async def _follow_memberships(self):
        """The admin changed this operator's departments: join the new departments'
        groups (their waiting chats reach this dashboard from now on), leave the old
        ones' (chats already claimed stay followed), and send the state again, which
        the dashboard redraws as after a reconnect."""
        department_ids, mine, state = await _staff_state_again(self.operator)
        now = set(department_ids)
        for pk in now - self.department_ids:
            await self.channel_layer.group_add(events.department_group(pk), self.channel_name)
        for pk in self.department_ids - now:
            await self.channel_layer.group_discard(events.department_group(pk), self.channel_name)
        self.department_ids = now
        for public_id, pk in mine.items():
            await self._join_chat(public_id, pk)
        state.update(await staff_state_extras(self.operator, department_ids))
        self.departments_as_of = max(self.departments_as_of, state["as_of"])
        self.own_status_as_of = max(self.own_status_as_of, state["as_of"])
        await self.send_json(state)

    async def _join_chat(self, public_id, pk):
        if pk not in self.seen:
            await self.channel_layer.group_add(events.chat_group(pk), self.channel_name)
            self.chat_pks[public_id] = pk
            self.seen[pk] = SentSeqs()

    async def _chat(self, frame):
        public_id = frame.get("chat")
        if not isinstance(public_id, str):
            raise InvalidInput("Name the chat: 'chat' is the chat's id.")
        return await _staff_chat(self.operator, public_id)

    async def _send_history(self, chat, after_seq=0):
        await self._join_chat(str(chat.public_id), chat.pk)
        history = await _staff_history(chat, after_seq)
        sent = self.seen[chat.pk]
        # Once per socket: what already went out live is not repeated in the history.
        history["messages"] = [m for m in history["messages"] if sent.add(m["seq"])]
        await self.send_json({"type": "chat.opened", **history})

    async def frame_ping(self, frame):
        # The heartbeat also re-checks the session, freshly loaded: expired or revoked → closed.
        session_key = getattr(self.scope.get("session"), "session_key", None)
        user = await get_user({"session": _session_store(session_key)}) if session_key else None
        if not getattr(user, "is_authenticated", False) or user.pk != self.operator.user_id:
            await self._end_session("expired")
            return
        # Touch, idle/shift checks, overdue transfers (chat.services.presence), and the
        # last seq of each chat followed here: the dashboard notices a lost last message.
        last_seqs = await self.heartbeat()
        await self.send_json({"type": "pong", "last_seq": last_seqs})

    def _fresher_presence(self, event):
        """What of a presence snapshot is newer than what this dashboard shows (events
        read after their commit may arrive in either order: chat.events
        .broadcast_snapshot_after_commit): the departments if read after the ones shown,
        the operator's own status if read after it; None if neither."""
        as_of = event.get("as_of", 0.0)
        fresh = dict(event)
        if as_of >= self.departments_as_of:
            self.departments_as_of = as_of
        else:
            del fresh["departments"]
        operator = fresh.get("operator")
        if operator is not None and operator["id"] == self.operator.pk:
            if as_of >= self.own_status_as_of:
                self.own_status_as_of = as_of
            else:
                del fresh["operator"]
        if "departments" not in fresh and "operator" not in fresh:
            return None
        return fresh

    async def _end_session(self, reason):
        await self.send_json(
            {"type": "error", "code": "session_ended", "message": "Your session has ended. Please log in again."}
        )
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def frame_presence_set(self, frame):
        self.operator = await service(
            services.presence_set,
            operator=self.operator, status=frame.get("status")
        )

    async def frame_chat_open(self, frame):
        chat = await self._chat(frame)
        await self._send_history(chat, _int_at_least_zero(frame.get("after_seq"), "after_seq"))

    async def frame_chat_claim(self, frame):
        chat = await self._chat(frame)
        chat = await service(services.chat_claim, chat_id=chat.pk, operator=self.operator)
        await self._send_history(chat)

    async def frame_message_send(self, frame):
        public_id = frame.get("chat")
        if not isinstance(public_id, str):
            raise InvalidInput("Name the chat: 'chat' is the chat's id.")
        chat_pk = self.chat_pks.get(public_id)
        if chat_pk is None:  # not one of this socket's chats yet: looked up first
            message, created = await _staff_send(
                self.operator, public_id, body=frame.get("body"), client_id=frame.get("client_id")
            )
        else:
            message, created = await SendBatches.of_this_loop().send(
                chat_id=chat_pk,
                body=frame.get("body"),
                client_id=frame.get("client_id"),
                sender=Message.Sender.OPERATOR,
                operator=self.operator,
            )
        await self.send_json(
            {
                "type": "message.ack",
                "chat": str(message.chat.public_id),
                "client_id": message.client_id,
                "seq": message.seq,
                "duplicate": not created,
            }
        )

    async def frame_chat_end(self, frame):
        chat = await self._chat(frame)
        await service(services.chat_end, chat_id=chat.pk, by="operator", operator=self.operator)

    async def frame_chat_close(self, frame):
        chat = await self._chat(frame)
        await service(services.chat_close, chat_id=chat.pk, operator=self.operator)

    async def desk_event(self, envelope):
        event = envelope["event"]
        kind = event["type"]
        chat_pk = envelope.get("chat_pk")
        if kind == "message.new":
            if not self.seen.setdefault(chat_pk, SentSeqs()).add(event["message"]["seq"]):
                return
        elif kind == "chat.claimed" and event["operator"]["id"] == self.operator.pk and chat_pk:
            # Claimed in another of this operator's tabs: follow the chat here too.
            await self._join_chat(event["chat"], chat_pk)
        elif kind == "chat.closed" and event["chat"] in self.chat_pks:
            pk = self.chat_pks.pop(event["chat"])
            self.seen.pop(pk, None)
            await self.channel_layer.group_discard(events.chat_group(pk), self.channel_name)
        elif kind == "queue.changed":
            return
        elif kind in ("presence.changed", "departments.changed"):
            event = self._fresher_presence(event)
            if event is None:
                return
        elif kind == "memberships.changed":
            await self._follow_memberships()
            return
        elif kind in MEDIA_EVENTS:  # typing, screenshare, signalling (chat.consumer_media)
            await self.forward_media(event)
            return
        elif kind == "session.ended":
            session_key = getattr(self.scope.get("session"), "session_key", None)
            if event["session"] is None or (session_key and events.session_digest(session_key) == event["session"]):
                await self._end_session(event["reason"])
            return
        await self.send_json(event)
