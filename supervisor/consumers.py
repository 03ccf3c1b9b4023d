"""The supervisor's socket (``/ws/supervisor/``): read-only. It joins the supervised
departments' groups and the staff group, and tells the page that something changed
(``supervisor.changed``: the page reads /supervisor/live again, the database being the
source of truth); ``chat.watch`` follows one chat's messages as they are sent.
Frames: docs/protocol.md, "Supervisor socket"."""

from django.utils.translation import gettext as _

from chat import events
from chat import selectors as chat_selectors
from chat.consumers.base import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, DeskConsumer, origin_allowed
from chat.consumers.support import SentSeqs, socket_db
from chat.exceptions import InvalidInput, NotFound
from supervisor import selectors

# Department and staff events after which the overview is read again.
CHANGES = frozenset(
    {
        "chat.waiting",
        "chat.claimed",
        "chat.ended",
        "chat.closed",
        "queue.changed",
        "presence.changed",
        "departments.changed",
        "transfer.offered",
        "transfer.resolved",
    }
)


@socket_db
def _open(user):
    supervised = selectors.supervised_department_ids(user)
    if supervised == []:
        return None
    ids = [d.pk for d in selectors.departments(supervised)]
    return ids


@socket_db
def _watch(user, public_id):
    supervised = selectors.supervised_department_ids(user)
    chat = selectors.watched_chat(supervised, public_id) if supervised != [] else None
    if chat is None:
        raise NotFound()
    messages = [
        events.message_payload(m) for m in chat_selectors.messages_after(chat, 0, limit=10**6)
    ]
    return chat.pk, {
        "type": "chat.watched",
        "chat": events.chat_summary(chat),
        "messages": messages,
    }


class SupervisorConsumer(DeskConsumer):
    frame_types = frozenset({"chat.watch", "ping"})
    user = None

    async def connect(self):
        if not origin_allowed(self.scope):
            await self.refuse(
                "bad_origin", _("Only this desk's pages may connect."), CLOSE_FORBIDDEN
            )
            return
        user = self.scope.get("user")
        if not getattr(user, "is_authenticated", False):
            await self.refuse(
                "not_authenticated", _("Log in as library staff first."), CLOSE_UNAUTHENTICATED
            )
            return
        department_ids = await _open(user)
        if department_ids is None:
            await self.refuse(
                "forbidden",
                _("The supervisor's view is for Desk admins and Department admins."),
                CLOSE_FORBIDDEN,
            )
            return
        self.user = user
        self.seen = {}  # chat pk -> SentSeqs, for the chats watched
        self.watched = set()  # their public ids
        await self.accept()
        for group in [events.STAFF_GROUP, *(events.department_group(pk) for pk in department_ids)]:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "supervisor.ready", "departments": len(department_ids)})

    async def frame_chat_watch(self, frame):
        public_id = frame.get("chat")
        if not isinstance(public_id, str):
            raise InvalidInput(_("Name the chat: 'chat' is the chat's id."))
        pk, watched = await _watch(self.user, public_id)
        await self.channel_layer.group_add(events.chat_group(pk), self.channel_name)
        self.watched.add(public_id)
        sent = self.seen.setdefault(pk, SentSeqs())
        watched["messages"] = [m for m in watched["messages"] if sent.add(m["seq"])]
        await self.send_json(watched)

    async def desk_event(self, envelope):
        event = envelope["event"]
        kind = event["type"]
        chat_pk = envelope.get("chat_pk")
        if kind == "message.new" and chat_pk in self.seen:
            if self.seen[chat_pk].add(event["message"]["seq"]):
                await self.send_json(event)
        elif (
            kind in ("chat.ended", "chat.closed", "chat.claimed") and event["chat"] in self.watched
        ):
            await self.send_json(event)
            await self.send_json({"type": "supervisor.changed", "because": kind})
        elif kind in CHANGES:
            await self.send_json({"type": "supervisor.changed", "because": kind})
