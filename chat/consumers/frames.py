"""Socket frames of issue 4 (presence watching, internal chat, transfers), as mixins of
the consumers (chat.consumers, chat.consumers.staff): each frame is validated and makes
one service call. Every frame and reply is documented in docs/protocol.md."""

from django.utils.translation import gettext as _

from chat import events, selectors
from chat.consumers.support import service, socket_db
from chat.exceptions import InvalidInput, NotFound
from chat.models import Department
from chat.services import internal, presence, transfers

PATRON_FRAMES = frozenset({"watch"})
STAFF_FRAMES = frozenset(
    {
        "presence.activity",
        "internal.start",
        "internal.send",
        "internal.open",
        "internal.close",
        "internal.archive",
        "internal.unarchive",
        "internal.list_archived",
        "internal.about",
        "chat.transfer",
        "chat.decline",
    }
)


def _optional_int(frame, name):
    value = frame.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidInput(f"'{name}' must be a whole number (an id).")
    return value


@socket_db
def _watch(slug):
    department = (
        Department.objects.select_related("fallback").filter(slug=slug, is_active=True).first()
        if isinstance(slug, str)
        else None
    )
    if department is None:
        raise NotFound(_("No such department."))
    as_of = events.snapshot_time()
    return department.pk, {**selectors.department_routing(department), "as_of": as_of}


class PatronWatchFrames:
    """Before a chat starts, the widget watches its department's presence: ``watch``
    joins ``dept-<pk>-presence`` (no token: presence is public, like /status)."""

    watching_pk = None
    presence_as_of = 0.0  # of the presence this widget shows (see frame_watch)

    async def frame_watch(self, frame):
        if self.chat_pk is not None:
            raise InvalidInput(_("This socket already belongs to a chat."))
        pk, routing = await _watch(frame.get("department"))
        self.said_hello()  # a widget watching before its chat starts (chat.socket_limits)
        if self.watching_pk is not None and self.watching_pk != pk:
            await self.channel_layer.group_discard(
                events.department_presence_group(self.watching_pk), self.channel_name
            )
        self.watching_pk = pk
        await self.channel_layer.group_add(events.department_presence_group(pk), self.channel_name)
        # A snapshot older than this one that arrives later is dropped (desk_event).
        self.presence_as_of = routing["as_of"]
        await self.send_json(
            {
                "type": "presence",
                "department": routing["department"],
                "online": routing["online"],
                "answering": routing["answering"],
                "as_of": routing["as_of"],
            }
        )

    async def stop_watching(self):
        if self.watching_pk is not None:
            await self.channel_layer.group_discard(
                events.department_presence_group(self.watching_pk), self.channel_name
            )
            self.watching_pk = None


@socket_db
def _internal(operator, public_id):
    if not isinstance(public_id, str):
        raise InvalidInput(_("Name the internal chat: 'internal' is its id."))
    found = selectors.internal_for_staff(operator, public_id)
    if found is None:
        raise NotFound(_("No such internal chat."))
    return found


@socket_db
def _internal_history(operator, public_id, after_seq):
    found = selectors.internal_for_staff(operator, public_id)
    return {
        "type": "internal.opened",
        "internal": events.internal_summary(found),
        "messages": selectors.internal_messages_after(found, after_seq),
    }


@socket_db
def _internal_start(operator, frame):
    about = None
    if frame.get("about") is not None:
        about = selectors.chat_for_staff(operator, frame.get("about"))
        if about is None:
            raise NotFound()
    body = frame.get("body") if frame.get("body") is not None else ""
    if not isinstance(body, str):
        raise InvalidInput(_("A message must be text."))
    client_id = frame.get("client_id") if frame.get("client_id") is not None else ""
    if not isinstance(client_id, str):
        raise InvalidInput(_("client_id must be text."))
    started = internal.internal_start(
        operator=operator,
        to_operator_id=_optional_int(frame, "operator"),
        to_department_id=_optional_int(frame, "department"),
        about_chat=about,
        body=body,
        client_id=client_id if isinstance(client_id, str) else None,
    )
    return str(started.public_id)


@socket_db
def _about_transcript(operator, public_id):
    found = selectors.internal_for_staff(operator, public_id)
    if found is None or found.about_chat is None:
        raise NotFound(_("This internal chat is not about a patron chat."))
    chat = found.about_chat
    chat.refresh_from_db()
    messages = [events.message_payload(m) for m in selectors.messages_after(chat, 0, limit=10**6)]
    return {
        "type": "internal.about",
        "internal": str(found.public_id),
        "chat": events.chat_summary(chat),
        "messages": messages,
    }


@socket_db
def _heartbeat(channel_name, operator_id, chat_pks) -> dict[str, int]:
    presence.heartbeat(channel_name=channel_name, operator_id=operator_id)
    return selectors.last_seqs(chat_pks)


class StaffDeskFrames:
    """Presence activity, internal chat and transfer frames of the staff socket."""

    async def heartbeat(self) -> dict[str, int]:
        """The dashboard's ``ping``, in one database call: the presence heartbeat, then
        the last seq of each patron chat this socket follows (its ``pong``)."""
        return await _heartbeat(self.channel_name, self.operator.pk, list(self.chat_pks.values()))

    async def frame_presence_activity(self, frame):
        await service(presence.activity, operator_id=self.operator.pk)

    async def frame_internal_start(self, frame):
        public_id = await _internal_start(self.operator, frame)
        await self.send_json(await _internal_history(self.operator, public_id, 0))

    async def frame_internal_open(self, frame):
        found = await _internal(self.operator, frame.get("internal"))
        after = frame.get("after_seq") if frame.get("after_seq") is not None else 0
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < 2**31:
            raise InvalidInput(_("after_seq must be a whole number of at least 0."))
        await self.send_json(await _internal_history(self.operator, str(found.public_id), after))

    async def frame_internal_send(self, frame):
        found = await _internal(self.operator, frame.get("internal"))
        message, created = await service(
            internal.internal_send,
            internal_id=found.pk,
            operator=self.operator,
            body=frame.get("body"),
            client_id=frame.get("client_id"),
        )
        await self.send_json(
            {
                "type": "internal.ack",
                "internal": str(found.public_id),
                "client_id": message.client_id,
                "seq": message.seq,
                "duplicate": not created,
            }
        )

    async def frame_internal_close(self, frame):
        found = await _internal(self.operator, frame.get("internal"))
        await service(internal.internal_close, internal_id=found.pk, operator=self.operator)

    async def frame_internal_archive(self, frame):
        found = await _internal(self.operator, frame.get("internal"))
        await service(internal.internal_archive, internal_id=found.pk, operator=self.operator)

    async def frame_internal_unarchive(self, frame):
        found = await _internal(self.operator, frame.get("internal"))
        await service(internal.internal_unarchive, internal_id=found.pk, operator=self.operator)

    async def frame_internal_list_archived(self, frame):
        archived = await service(selectors.archived_internal, self.operator)
        await self.send_json(
            {"type": "internal.archived_list", **archived, "shown": selectors.ARCHIVED_SHOWN}
        )

    async def frame_internal_about(self, frame):
        found = await _internal(self.operator, frame.get("internal"))
        await self.send_json(await _about_transcript(self.operator, str(found.public_id)))

    async def frame_chat_transfer(self, frame):
        chat = await self._chat(frame)
        note = frame.get("note") if frame.get("note") is not None else ""
        await service(
            transfers.chat_transfer,
            chat_id=chat.pk,
            operator=self.operator,
            to_operator_id=_optional_int(frame, "operator"),
            to_department_id=_optional_int(frame, "department"),
            note=note,
        )

    async def frame_chat_decline(self, frame):
        chat = await self._chat(frame)
        await service(transfers.transfer_decline, chat_id=chat.pk, operator=self.operator)


@socket_db
def staff_state_extras(operator, department_ids=None) -> dict:
    """What issue 4 adds to ``dashboard.state`` (``department_ids``: the operator's, as
    ``_staff_open`` returned them; looked up when not given)."""
    if department_ids is None:
        department_ids = selectors.department_ids_for(operator) or []
    return selectors.dashboard_extras(operator, department_ids)
