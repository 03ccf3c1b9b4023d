"""The dashboard's websocket consumer (``/ws/staff/``): a logged-in librarian's
Patron Chats, Internal Chat and Departments, live. Every frame and reply is in
docs/protocol.md; the frames of issue 4 and the media ones are mixins
(``chat.consumers.frames``, ``chat.consumers.media``)."""

import asyncio
import logging

from channels.auth import get_user
from django.conf import settings
from django.utils.translation import gettext as _

from chat import events, selectors, services
from chat.consumers.base import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    DeskConsumer,
    _int_at_least_zero,
    _pending_reconciles,
    _session_store,
    origin_allowed,
)
from chat.consumers.frames import (
    STAFF_FRAMES,
    StaffDeskFrames,
    staff_state_extras,
)
from chat.consumers.media import (
    MEDIA_EVENTS,
    STAFF_MEDIA_FRAMES,
    StaffMediaFrames,
)
from chat.consumers.sends import SendBatches
from chat.consumers.support import SentSeqs, service, socket_db
from chat.exceptions import (
    InvalidInput,
    NotFound,
)
from chat.models import Message

logger = logging.getLogger(__name__)

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
        chat_id=chat_pk,
        body=body,
        client_id=client_id,
        sender=Message.Sender.OPERATOR,
        operator=operator,
    )


@socket_db
def _staff_history(chat, after_seq):
    chat.refresh_from_db()
    messages = [
        events.message_payload(m) for m in selectors.messages_after(chat, after_seq, limit=10**6)
    ]
    return {"chat": events.chat_summary(chat), "messages": messages}


class StaffConsumer(StaffMediaFrames, StaffDeskFrames, DeskConsumer):
    """The Chat Dashboard's socket: a logged-in operator, from our own Origin."""

    frame_types = (
        frozenset(
            {
                "presence.set",
                "chat.open",
                "chat.claim",
                "message.send",
                "chat.end",
                "chat.close",
                "ping",
            }
        )
        | STAFF_FRAMES
        | STAFF_MEDIA_FRAMES
    )
    operator = None
    # When the presence this dashboard shows was read: older snapshots are dropped.
    departments_as_of = own_status_as_of = 0.0

    async def connect(self):
        if not origin_allowed(self.scope):
            await self.refuse(
                "bad_origin",
                _("Staff sockets are only for this desk's dashboard."),
                CLOSE_FORBIDDEN,
            )
            return
        self.operator = await service(selectors.operator_for_user, self.scope.get("user"))
        if self.operator is None:
            await self.refuse(
                "not_authenticated", _("Log in as library staff first."), CLOSE_UNAUTHENTICATED
            )
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
            await self._join(group)
        for public_id, pk in mine.items():
            await self._join_chat(public_id, pk)
        state.update(await staff_state_extras(self.operator, department_ids))
        self.departments_as_of = self.own_status_as_of = state["as_of"]
        await self.send_json(state)

    async def disconnect(self, code):
        if self.operator is None:
            return
        await self._leave_all_groups()
        await service(services.connection_close, channel_name=self.channel_name)
        if settings.LIBDESK["PRESENCE_GRACE_SECONDS"] <= 0:  # no grace: settle it now
            await self._reconcile_after_grace(self.operator.pk)
            return
        # Daphne cancels a closed socket's consumer after a few seconds, so the grace
        # period runs as a detached task, not inside this coroutine.
        task = asyncio.get_running_loop().create_task(self._reconcile_after_grace(self.operator.pk))
        _pending_reconciles.add(task)
        task.add_done_callback(_pending_reconciles.discard)

    # Every group this socket is in, so that a disconnect leaves them all: on the
    # pub/sub layer a group nobody in the process listens to any more is unsubscribed
    # only by group_discard; without it Redis kept each closed socket's staff,
    # department, operator, user and chat channels for good (issue 15).
    joined: set | None = None
    gone = False  # disconnected: a frame still running joins nothing more

    async def _join(self, group):
        if self.gone:
            return
        if self.joined is None:
            self.joined = set()
        self.joined.add(group)
        await self.channel_layer.group_add(group, self.channel_name)

    async def _leave(self, group):
        if self.joined is not None:
            self.joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def _leave_all_groups(self):
        self.gone = True
        for group in list(self.joined or ()):
            await self._leave(group)

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
            await self._join(events.department_group(pk))
        for pk in self.department_ids - now:
            await self._leave(events.department_group(pk))
        self.department_ids = now
        for public_id, pk in mine.items():
            await self._join_chat(public_id, pk)
        state.update(await staff_state_extras(self.operator, department_ids))
        self.departments_as_of = max(self.departments_as_of, state["as_of"])
        self.own_status_as_of = max(self.own_status_as_of, state["as_of"])
        await self.send_json(state)

    async def _join_chat(self, public_id, pk):
        if pk not in self.seen:
            await self._join(events.chat_group(pk))
            self.chat_pks[public_id] = pk
            self.seen[pk] = SentSeqs()

    async def _chat(self, frame):
        public_id = frame.get("chat")
        if not isinstance(public_id, str):
            raise InvalidInput(_("Name the chat: 'chat' is the chat's id."))
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
            {
                "type": "error",
                "code": "session_ended",
                "message": _("Your session has ended. Please log in again."),
            }
        )
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def frame_presence_set(self, frame):
        self.operator = await service(
            services.presence_set, operator=self.operator, status=frame.get("status")
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
            raise InvalidInput(_("Name the chat: 'chat' is the chat's id."))
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
            await self._leave(events.chat_group(pk))
        elif kind == "queue.changed":
            return
        elif kind in ("presence.changed", "departments.changed"):
            event = self._fresher_presence(event)
            if event is None:
                return
        elif kind == "memberships.changed":
            await self._follow_memberships()
            return
        elif kind in MEDIA_EVENTS:  # typing, screenshare, signalling (chat.consumers.media)
            await self.forward_media(event)
            return
        elif kind == "session.ended":
            session_key = getattr(self.scope.get("session"), "session_key", None)
            if event["session"] is None or (
                session_key and events.session_digest(session_key) == event["session"]
            ):
                await self._end_session(event["reason"])
            return
        await self.send_json(event)
