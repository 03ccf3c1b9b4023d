"""Live equals history: every event that reaches the channel layer live, and every such
frame a dashboard receives, equals the same event built from a fresh database read at
that moment (chat.event_reads), field for field, for every event type declared in
chat.events. Issue 15's wrong author of every live patron message (a hand-built chat
with its fields swapped) is the kind of fault this catches.

One desk day runs through the real router (WebsocketCommunicator on libdesk.asgi, the
real channel layer: in-memory, or Redis pub/sub with REDIS_URL): presence, a chat from
waiting to deleted, typing, a screenshare, an internal chat, a transfer, a ticket, the
admin's department and membership changes, a session that ends. A listener on the
layer hears every group the desk sends to; after each step the frames that arrived are
compared with the database before the next step changes it."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import event_reads, events
from chat.models import Chat, Department, InternalChat, Membership
from chat.services import departments as department_services
from tests.chat.test_consumers import TIMEOUT, patron_socket, receive_until, staff_socket
from tests.factories import DepartmentFactory, named_operator, start_chat

pytestmark = pytest.mark.django_db(transaction=True)

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0"}
PATRON_SOCKETS = ("patron",)
QUIET = 0.3  # after a step's frames arrived: how long stragglers may still come


def test_every_declared_event_type_has_a_rebuild():
    """A new event type in chat.events needs its read from the database here."""
    declared = event_reads.declared_event_types()
    assert len(declared) >= 30
    assert declared == set(event_reads.REBUILDS), declared ^ set(event_reads.REBUILDS)


class Listener:
    """A channel of the real layer in every group the desk sends to. One task receives
    for good (on pub/sub a receive cancelled by a timeout unsubscribes the channel)."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = None
        self.groups = []
        self.received = asyncio.Queue()
        self.task = None

    async def join(self, *groups):
        if self.channel is None:
            self.channel = await self.layer.new_channel()
            self.task = asyncio.ensure_future(self._receive_for_good())
        for group in groups:
            self.groups.append(group)
            await self.layer.group_add(group, self.channel)

    async def _receive_for_good(self):
        while True:
            envelope = await self.layer.receive(self.channel)
            self.received.put_nowait(envelope["event"])

    async def leave(self):
        for group in self.groups:
            await self.layer.group_discard(group, self.channel)
        if self.task is not None:
            self.task.cancel()

    async def receive(self, timeout):
        try:
            return await asyncio.wait_for(self.received.get(), timeout)
        except TimeoutError:
            return None


class Desk:
    """The sockets and the listener of the day, and what was compared so far."""

    def __init__(self, listener):
        self.listener = listener
        self.sockets = {}  # name -> communicator
        self.checked = set()  # event types compared with the database

    async def step(self, *expected_types, sockets=()):
        """Take what arrives until every one of ``expected_types`` came through the
        layer (and a moment more), comparing each event with its rebuild now; then the
        same for the frames ``sockets`` received meanwhile."""
        waiting = set(expected_types)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            timeout = QUIET if not waiting else max(0.05, deadline - loop.time())
            event = await self.listener.receive(timeout)
            if event is None:
                assert not waiting, f"never arrived: {waiting}"
                break
            await self.compare(event, "layer")
            waiting.discard(event["type"])
        for name in sockets:
            communicator = self.sockets.get(name)
            if communicator is None:  # not open yet, or closed
                continue
            while not await communicator.receive_nothing(timeout=0.05):
                frame = await communicator.receive_json_from(timeout=TIMEOUT)
                if name in PATRON_SOCKETS:
                    await self.compare_patron_frame(frame, name)
                elif frame["type"] in event_reads.REBUILDS:
                    await self.compare(frame, name)

    async def compare_patron_frame(self, frame, where):
        """The widget's frames that carry an event as it is, or its patron view."""
        kind = frame["type"]
        if kind in ("message.new", "chat.ended", "ticket.email_requested"):
            expected = await database_sync_to_async(event_reads.rebuilt)(frame)
        elif kind == "chat.claimed":  # the patron sees the librarian's name only
            stored = await database_sync_to_async(event_reads.rebuilt)({**frame, "operator": None})
            expected = {**stored, "operator": stored["operator"]["name"]}
        else:
            return
        assert frame == expected, (
            f"{kind} on {where} differs from the database: {_differences(frame, expected)}"
        )

    async def compare(self, event, where):
        expected = await database_sync_to_async(event_reads.rebuilt)(event)
        if where != "layer" and event["type"] in ("presence.changed", "departments.changed"):
            # A dashboard drops the parts of a snapshot older than what it shows.
            expected = {key: value for key, value in expected.items() if key in event}
        assert event == expected, (
            f"{event['type']} on {where} differs from the database: {_differences(event, expected)}"
        )
        self.checked.add(event["type"])


@pytest.fixture
def day(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    maps = DepartmentFactory(name="Maps & Atlases", slug="maps")
    alice = named_operator("alice", [reference, maps], first_name="Alice")
    bob = named_operator("bob", [reference], first_name="Bob")
    return reference, maps, alice, bob


async def test_every_live_event_equals_the_database(day):
    reference, maps, alice, bob = day
    listener = Listener()
    await listener.join(
        events.STAFF_GROUP,
        *(events.department_group(d.pk) for d in (reference, maps)),
        *(events.department_queue_group(d.pk) for d in (reference, maps)),
        *(events.department_presence_group(d.pk) for d in (reference, maps)),
        *(events.operator_group(o.pk) for o in (alice, bob)),
        *(events.user_group(o.user_id) for o in (alice, bob)),
    )
    desk = Desk(listener)
    compared = ("alice", "bob", "patron")  # whose frames each step compares too
    try:
        await _a_desk_day(desk, reference, maps, alice, bob, compared)
    finally:
        await listener.leave()
        for communicator in desk.sockets.values():
            await communicator.disconnect()
    unchecked = event_reads.declared_event_types() - desk.checked
    assert not unchecked, f"event types this day never compared: {sorted(unchecked)}"


async def _a_desk_day(desk, reference, maps, alice, bob, compared):
    call = database_sync_to_async
    for name, operator in (("alice", alice), ("bob", bob)):
        desk.sockets[name] = await staff_socket(operator.user)
        await receive_until(desk.sockets[name], "dashboard.state")
        await desk.step(sockets=list(desk.sockets))  # whatever a dashboard opening sends
    watcher = desk.sockets["watcher"] = await patron_socket()
    await watcher.send_json_to({"type": "watch", "department": "reference"})
    await receive_until(watcher, "presence")
    for name in ("alice", "bob"):
        await desk.sockets[name].send_json_to({"type": "presence.set", "status": "online"})
        await desk.step("presence.changed", "department.presence", sockets=compared)

    # A chat: waiting, the patron writes and types, Claim Chat, the librarian writes.
    chat, token = await call(start_chat)(
        reference, question="Do you have the 1902 atlas?", name="Zoë Ng"
    )
    await desk.listener.join(events.chat_group(chat.pk))
    await desk.step("chat.waiting", "queue.changed", sockets=compared)
    patron = desk.sockets["patron"] = await patron_socket(token)
    await receive_until(patron, "welcome")
    await patron.send_json_to({"type": "message.send", "client_id": "p-1", "body": "Hello?"})
    await desk.step("message.new", sockets=compared)
    await patron.send_json_to({"type": "typing", "active": True})
    await desk.step("typing", sockets=compared)
    alice_socket, bob_socket = desk.sockets["alice"], desk.sockets["bob"]
    await alice_socket.send_json_to({"type": "chat.claim", "chat": str(chat.public_id)})
    await desk.step("chat.claimed", "message.new", "queue.changed", sockets=compared)
    chat_id = str(chat.public_id)
    await alice_socket.send_json_to(
        {"type": "message.send", "chat": chat_id, "client_id": "o-1", "body": "Yes: room 2."}
    )
    await desk.step("message.new", sockets=compared)
    await patron.send_json_to({"type": "message.send", "client_id": "p-2", "body": "Thanks!"})
    await desk.step("message.new", sockets=compared)
    await alice_socket.send_json_to({"type": "typing", "chat": chat_id, "active": True})
    await desk.step("typing", sockets=compared)

    # Screenshare: declined, then accepted, signalled and stopped.
    await alice_socket.send_json_to({"type": "screenshare.request", "chat": chat_id})
    await desk.step("screenshare.requested", "message.new", sockets=compared)
    await patron.send_json_to({"type": "screenshare.decline"})
    await desk.step("screenshare.declined", "message.new", sockets=compared)
    await alice_socket.send_json_to({"type": "screenshare.request", "chat": chat_id})
    await desk.step("screenshare.requested", "message.new", sockets=compared)
    await patron.send_json_to({"type": "screenshare.accept"})
    await desk.step("screenshare.accepted", "message.new", sockets=compared)
    await patron.send_json_to({"type": "rtc.offer", "sdp": SDP})
    await desk.step("rtc.offer", sockets=compared)
    await alice_socket.send_json_to({"type": "rtc.answer", "chat": chat_id, "sdp": SDP})
    await desk.step("rtc.answer", sockets=compared)
    await alice_socket.send_json_to({"type": "rtc.ice", "chat": chat_id, "candidate": CANDIDATE})
    await desk.step("rtc.ice", sockets=compared)
    await alice_socket.send_json_to({"type": "screenshare.stop", "chat": chat_id})
    await desk.step("screenshare.ended", "message.new", sockets=compared)

    # Internal Chat: Alice asks Bob about the chat, Bob answers; archived, back, closed.
    await alice_socket.send_json_to(
        {
            "type": "internal.start",
            "operator": bob.pk,
            "about": chat_id,
            "body": "Do we lend atlases?",
            "client_id": "i-1",
        }
    )
    await desk.step("internal.started", "internal.message", sockets=compared)
    internal_id = str(await call(lambda: InternalChat.objects.get().public_id)())
    await bob_socket.send_json_to(
        {
            "type": "internal.send",
            "internal": internal_id,
            "body": "Not the 1902 one.",
            "client_id": "i-2",
        }
    )
    await desk.step("internal.answered", "internal.message", sockets=compared)
    # Bob archives it; Alice's next message brings it back to his list.
    await bob_socket.send_json_to({"type": "internal.archive", "internal": internal_id})
    await desk.step("internal.archived", sockets=compared)
    await alice_socket.send_json_to(
        {"type": "internal.send", "internal": internal_id, "body": "Thanks!", "client_id": "i-3"}
    )
    await desk.step("internal.unarchived", "internal.message", sockets=compared)
    await alice_socket.send_json_to({"type": "internal.close", "internal": internal_id})
    await desk.step("internal.closed", sockets=compared)
    await alice_socket.send_json_to({"type": "internal.archive", "internal": internal_id})
    await desk.step("internal.archived", sockets=compared)
    await alice_socket.send_json_to({"type": "internal.unarchive", "internal": internal_id})
    await desk.step("internal.unarchived", sockets=compared)

    # Transfer to Bob; Bob claims it.
    await alice_socket.send_json_to(
        {"type": "chat.transfer", "chat": chat_id, "operator": bob.pk, "note": "Maps question"}
    )
    await desk.step("transfer.offered", "message.new", sockets=compared)
    await bob_socket.send_json_to({"type": "chat.claim", "chat": chat_id})
    await desk.step("transfer.resolved", "chat.claimed", "message.new", sockets=compared)

    # Create Ticket (the patron gave no email address: the widget is asked for one).
    from tickets.services import ticket_create_from_chat

    await call(ticket_create_from_chat)(chat_id=chat.pk, department=maps, actor=bob)
    await desk.step("ticket.email_requested", "message.new", sockets=compared)

    # The admin: Bob joins Maps; the Maps department changes.
    await call(department_services.operator_save)(
        operator=bob,
        memberships=[(reference, Membership.Role.OPERATOR), (maps, Membership.Role.OPERATOR)],
    )
    await desk.step("memberships.changed", "presence.changed", sockets=compared)
    maps.greeting = "Ask us about maps."
    await call(department_services.department_save)(department=maps)
    await desk.step("departments.changed", sockets=compared)

    # End Chat, the rating, Close Chat, the patron deletes the conversation.
    await bob_socket.send_json_to({"type": "chat.end", "chat": chat_id})
    await desk.step("chat.ended", sockets=compared)
    await patron.send_json_to({"type": "chat.rate", "score": 5})
    await desk.step("chat.rated", sockets=compared)
    await bob_socket.send_json_to({"type": "chat.close", "chat": chat_id})
    await desk.step("chat.closed", sockets=compared)
    await patron.send_json_to({"type": "chat.delete"})
    await desk.step("chat.deleted", sockets=compared)
    assert await call(lambda: Chat.objects.get(pk=chat.pk).patron_name)() == ""

    # Alice logs out (her dashboard's session): that socket is closed.
    def log_out():
        from django.contrib.sessions.models import Session
        from django.test import Client

        (key,) = [
            s.session_key
            for s in Session.objects.all()
            if s.get_decoded().get("_auth_user_id") == str(alice.user_id)
        ]
        client = Client()
        client.cookies["sessionid"] = key
        client.logout()

    await call(log_out)()
    await desk.step("session.ended")
    await receive_until(alice_socket, "error")
    closed = await alice_socket.receive_output(timeout=TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4401}
    del desk.sockets["alice"]
    assert await call(lambda: Department.objects.filter(pk=maps.pk).count())() == 1


def _differences(live, stored, path="") -> list[str]:
    """Where two events differ, as "path: live != stored" lines."""
    if isinstance(live, dict) and isinstance(stored, dict):
        out = []
        for key in sorted(live.keys() | stored.keys()):
            out += _differences(
                live.get(key, "<absent>"), stored.get(key, "<absent>"), f"{path}.{key}"
            )
        return out
    if isinstance(live, list) and isinstance(stored, list) and len(live) == len(stored):
        return [
            d
            for i, (a, b) in enumerate(zip(live, stored, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]
    return [] if live == stored else [f"{path}: {live!r} != {stored!r}"]
