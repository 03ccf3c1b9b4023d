"""Issue 4 over the real sockets: the widget watching presence, idle → Away at the
heartbeat, internal chat between dashboards, and a transfer while the patron is away."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as db
from django.utils import timezone

from chat import consumers, services
from chat.models import Operator, Transfer
from chat.services import transfers
from tests.chat.test_consumers import patron_socket, receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    carmen = OperatorFactory(
        user=UserFactory(username="carmen", first_name="Carmen"), departments=[special]
    )
    return {"reference": reference, "special": special, "alice": alice, "carmen": carmen}


async def online_dashboard(operator):
    socket = await staff_socket(operator.user)
    state, _ = await receive_until(socket, "dashboard.state")
    await socket.send_json_to({"type": "presence.set", "status": "online"})
    await receive_until(socket, "presence.changed")
    return socket, state


async def close_all(*sockets):
    """Disconnect, then let the detached presence checks finish before the test's
    database is flushed (they would otherwise race the flush)."""
    for socket in sockets:
        await socket.disconnect()
    await asyncio.sleep(0)
    if consumers._pending_reconciles:
        await asyncio.gather(*list(consumers._pending_reconciles), return_exceptions=True)


async def drain(communicator, timeout=0.3):
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await communicator.receive_json_from())
    return frames


async def test_the_widget_follows_its_departments_presence_live(desk):
    special = desk["special"]
    await db(
        lambda: DepartmentFactory._meta.model.objects.filter(pk=desk["reference"].pk).update(
            fallback=special
        )
    )()
    widget = await patron_socket()
    await widget.send_json_to({"type": "watch", "department": "reference"})
    first, _ = await receive_until(widget, "presence")
    assert first.pop("as_of") > 0  # when it was read: older updates are dropped
    assert first == {
        "type": "presence",
        "department": "reference",
        "online": False,
        "answering": None,
    }

    carmen, _ = await online_dashboard(desk["carmen"])
    update, _ = await receive_until(widget, "presence")
    while update["answering"] is None:
        update, _ = await receive_until(widget, "presence")
    assert update["online"] is False  # Reference itself is still offline …
    assert update["answering"] == {
        "name": "Special Collections",
        "slug": "special-collections",
    }  # … its fallback answers

    await carmen.send_json_to({"type": "presence.set", "status": "away"})
    update, _ = await receive_until(widget, "presence")
    while update["answering"] is not None:
        update, _ = await receive_until(widget, "presence")
    await widget.send_json_to({"type": "watch", "department": "nowhere"})
    error, _ = await receive_until(widget, "error")
    assert error["code"] == "not_found"
    await close_all(widget, carmen)


async def test_idle_goes_away_at_the_heartbeat_with_a_notice(desk, settings):
    settings.LIBDESK = {**settings.LIBDESK, "IDLE_AWAY_SECONDS": 60}
    alice, _ = await online_dashboard(desk["alice"])
    await alice.send_json_to({"type": "presence.activity"})
    await alice.send_json_to({"type": "ping"})
    await receive_until(alice, "pong")
    assert await db(lambda: Operator.objects.get(pk=desk["alice"].pk).status)() == "online"
    past = timezone.now() - timedelta(seconds=61)
    await db(lambda: Operator.objects.filter(pk=desk["alice"].pk).update(last_activity_at=past))()
    await alice.send_json_to({"type": "ping"})
    changed, _ = await receive_until(alice, "presence.changed")
    assert changed["operator"]["status"] == "away" and changed["reason"] == "idle"
    await close_all(alice)


async def test_internal_chat_between_dashboards_about_a_patron_chat(desk):
    chat, token = await db(start_chat)(
        desk["reference"], question="A letter from 1790?", name="Pat"
    )
    await db(services.chat_claim)(chat_id=chat.pk, operator=desk["alice"])
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    alice, _ = await online_dashboard(desk["alice"])
    carmen, _ = await online_dashboard(desk["carmen"])

    await alice.send_json_to(
        {
            "type": "internal.start",
            "department": desk["special"].pk,
            "about": str(chat.public_id),
            "body": "Can you take a question about a 1790 letter?",
            "client_id": "i-1",
        }
    )
    opened, _ = await receive_until(alice, "internal.opened")
    internal_id = opened["internal"]["id"]
    assert [m["body"] for m in opened["messages"]] == [
        "Can you take a question about a 1790 letter?"
    ]
    started, _ = await receive_until(carmen, "internal.started")
    assert started["internal"]["about"]["patron_name"] == "Pat"

    await carmen.send_json_to({"type": "internal.about", "internal": internal_id})
    about, _ = await receive_until(carmen, "internal.about")
    assert about["messages"][0]["body"] == "A letter from 1790?"  # read before agreeing
    await carmen.send_json_to({"type": "chat.claim", "chat": str(chat.public_id)})
    error, _ = await receive_until(carmen, "error")
    assert error["code"] == "not_found"  # reading it is not owning it

    await carmen.send_json_to(
        {"type": "internal.send", "internal": internal_id, "client_id": "c-1", "body": "Yes!"}
    )
    ack, _ = await receive_until(carmen, "internal.ack")
    assert (ack["seq"], ack["duplicate"]) == (2, False)
    message, _ = await receive_until(alice, "internal.message")
    while message["message"]["seq"] < 2:
        message, _ = await receive_until(alice, "internal.message")
    assert message["message"]["body"] == "Yes!" and message["message"]["author"]["name"] == "Carmen"

    # A reconnecting dashboard gets its internal chats in dashboard.state.
    again = await staff_socket(desk["carmen"].user)
    state, _ = await receive_until(again, "dashboard.state")
    assert [i["id"] for i in state["internal"]] == [internal_id]
    assert state["internal"][0]["answered_by"]["name"] == "Carmen"
    await again.disconnect()

    await alice.send_json_to(
        {
            "type": "message.send",
            "chat": str(chat.public_id),
            "client_id": "a-1",
            "body": "One moment",
        }
    )
    frames = []
    while not any(f.get("message", {}).get("body") == "One moment" for f in frames):
        _, more = await receive_until(patron, "message.new")
        frames += more
    frames += await drain(patron)  # the patron never sees any internal chat
    assert not [
        f
        for f in frames
        if f["type"].startswith("internal") or "Yes!" in str(f) or "Can you take" in str(f)
    ]
    await close_all(patron, alice, carmen)


async def test_archive_frames_between_dashboards(desk):
    """Archive, Unarchive and the Archived view, each one frame and one service call;
    bad frames get an error frame; a colleague's message brings an archived chat back."""
    alice, _ = await online_dashboard(desk["alice"])
    carmen, _ = await online_dashboard(desk["carmen"])
    await alice.send_json_to(
        {
            "type": "internal.start",
            "operator": desk["carmen"].pk,
            "body": "Do we have the 1790 letters?",
            "client_id": "i-1",
        }
    )
    opened, _ = await receive_until(alice, "internal.opened")
    internal_id = opened["internal"]["id"]
    await receive_until(carmen, "internal.started")

    await carmen.send_json_to({"type": "internal.archive", "internal": internal_id})
    archived, _ = await receive_until(carmen, "internal.archived")
    assert archived == {
        "type": "internal.archived",
        "internal": internal_id,
        "operator": desk["carmen"].pk,
    }
    await alice.send_json_to(
        {"type": "internal.send", "internal": internal_id, "client_id": "i-2", "body": "Hello?"}
    )
    back, seen = await receive_until(carmen, "internal.message")
    (unarchived,) = [f for f in seen if f["type"] == "internal.unarchived"]  # before it
    assert unarchived["internal"]["id"] == internal_id and unarchived["internal"]["last_seq"] == 2
    assert back["message"]["body"] == "Hello?"

    await alice.send_json_to({"type": "internal.close", "internal": internal_id})
    await receive_until(alice, "internal.closed")
    await alice.send_json_to({"type": "internal.archive", "internal": internal_id})
    await receive_until(alice, "internal.archived")
    again = await staff_socket(desk["alice"].user)  # after a reload: not in the list
    state, _ = await receive_until(again, "dashboard.state")
    assert state["internal"] == []
    await again.send_json_to({"type": "internal.list_archived"})
    listed, _ = await receive_until(again, "internal.archived_list")
    assert (listed["total"], listed["shown"]) == (1, 50)
    assert [(c["id"], c["to_label"], c["closed"]) for c in listed["chats"]] == [
        (internal_id, "Carmen", True)
    ]
    await again.send_json_to({"type": "internal.open", "internal": internal_id})
    read, _ = await receive_until(again, "internal.opened")  # read it from the Archived view
    assert [m["body"] for m in read["messages"]] == ["Do we have the 1790 letters?", "Hello?"]
    await again.send_json_to({"type": "internal.unarchive", "internal": internal_id})
    for socket in (again, alice):  # both of Alice's tabs
        unarchived, _ = await receive_until(socket, "internal.unarchived")
        assert unarchived["internal"]["id"] == internal_id
    state_carmen = await staff_socket(desk["carmen"].user)
    state, _ = await receive_until(state_carmen, "dashboard.state")
    assert [i["id"] for i in state["internal"]] == [internal_id]  # Carmen's list is hers

    for frame, code in (
        ({"type": "internal.archive"}, "invalid"),
        ({"type": "internal.unarchive", "internal": 7}, "invalid"),
        (
            {"type": "internal.archive", "internal": "00000000-0000-0000-0000-000000000000"},
            "not_found",
        ),
    ):
        await again.send_json_to(frame)
        error, _ = await receive_until(again, "error")
        assert error["code"] == code, (frame, error)
    await close_all(alice, carmen, again, state_carmen)


async def test_a_transfer_while_the_patron_is_away(desk):
    chat, token = await db(start_chat)(desk["reference"], question="Rare maps?", name="Pat")
    await db(services.chat_claim)(chat_id=chat.pk, operator=desk["alice"])
    patron = await patron_socket(token)
    welcome, _ = await receive_until(patron, "welcome")
    last_seq = welcome["chat"]["last_seq"]
    await patron.disconnect()  # the patron's connection drops

    alice, _ = await online_dashboard(desk["alice"])
    carmen, _ = await online_dashboard(desk["carmen"])
    public_id = str(chat.public_id)
    await alice.send_json_to(
        {"type": "chat.transfer", "chat": public_id, "operator": desk["alice"].pk}
    )
    error, _ = await receive_until(alice, "error")
    assert error["code"] == "transfer_to_self"
    await alice.send_json_to(
        {
            "type": "chat.transfer",
            "chat": public_id,
            "department": desk["special"].pk,
            "note": "Maps",
        }
    )
    offered, _ = await receive_until(carmen, "transfer.offered")
    assert (
        offered["transfer"]["from_operator"]["name"] == "Alice"
        and offered["transfer"]["note"] == "Maps"
    )
    await receive_until(alice, "transfer.offered")

    await carmen.send_json_to({"type": "chat.open", "chat": public_id})  # read before claiming
    opened, _ = await receive_until(carmen, "chat.opened")
    assert opened["messages"][0]["body"] == "Rare maps?"
    await carmen.send_json_to({"type": "chat.claim", "chat": public_id})
    opened, _ = await receive_until(carmen, "chat.opened")
    assert (
        opened["chat"]["operator"]["name"] == "Carmen"
        and opened["chat"]["department"]["name"] == "Special Collections"
    )
    claimed, _ = await receive_until(alice, "chat.claimed")
    assert claimed["operator"]["name"] == "Carmen"
    resolved, _ = await receive_until(alice, "transfer.resolved")
    assert resolved["transfer"]["status"] == "accepted"

    await alice.send_json_to(
        {"type": "message.send", "chat": public_id, "client_id": "a-9", "body": "Me again"}
    )
    error, _ = await receive_until(alice, "error")
    assert error["code"] == "forbidden"
    await carmen.send_json_to(
        {
            "type": "message.send",
            "chat": public_id,
            "client_id": "c-1",
            "body": "Hello, Carmen here.",
        }
    )
    await receive_until(carmen, "message.ack")
    new, _ = await receive_until(alice, "message.new")  # the sender still reads along
    while new["message"]["body"] != "Hello, Carmen here.":
        new, _ = await receive_until(alice, "message.new")

    patron = await patron_socket(token, last_seq=last_seq)
    welcome, _ = await receive_until(patron, "welcome")
    assert [m["body"] for m in welcome["messages"]] == [
        "You're being transferred to Special Collections; your conversation stays here.",
        "Carmen has joined the chat.",
        "Hello, Carmen here.",
    ]
    assert welcome["chat"]["operator"] == "Carmen"
    await close_all(patron, alice, carmen)


async def test_an_overdue_transfer_returns_at_a_heartbeat_and_decline_works(desk):
    chat, _ = await db(start_chat)(desk["reference"], question="q")
    await db(services.chat_claim)(chat_id=chat.pk, operator=desk["alice"])
    alice, _ = await online_dashboard(desk["alice"])
    carmen, _ = await online_dashboard(desk["carmen"])
    public_id = str(chat.public_id)
    await alice.send_json_to(
        {"type": "chat.transfer", "chat": public_id, "operator": desk["carmen"].pk}
    )
    await receive_until(carmen, "transfer.offered")
    state_socket = await staff_socket(desk["carmen"].user)
    state, _ = await receive_until(state_socket, "dashboard.state")
    assert [t["chat"]["id"] for t in state["transfers"]] == [public_id]
    await state_socket.disconnect()

    # Move the clock: the deadline has passed; the next heartbeat (anyone's) expires it.
    await db(lambda: Transfer.objects.update(expires_at=timezone.now() - timedelta(seconds=1)))()
    await carmen.send_json_to({"type": "ping"})
    resolved, _ = await receive_until(alice, "transfer.resolved")
    assert resolved["transfer"]["status"] == "expired" and resolved["by"] is None

    await alice.send_json_to(
        {"type": "chat.transfer", "chat": public_id, "operator": desk["carmen"].pk}
    )
    await receive_until(carmen, "transfer.offered")
    await carmen.send_json_to({"type": "chat.decline", "chat": public_id})
    resolved, _ = await receive_until(alice, "transfer.resolved")
    assert resolved["transfer"]["status"] == "declined" and resolved["by"]["name"] == "Carmen"
    assert (
        await db(lambda: transfers.Chat.objects.get(pk=chat.pk).operator_id)() == desk["alice"].pk
    )
    await close_all(alice, carmen)


async def _deliver_late(group, event):
    """An event that was read before what the socket shows, arriving only now (two
    processes' events, or a call that finished later, cross on the channel layer)."""
    from channels.layers import get_channel_layer

    await get_channel_layer().group_send(
        group, {"type": "desk.event", "event": event, "chat_pk": None}
    )


async def test_a_presence_snapshot_older_than_what_the_dashboard_shows_is_dropped(desk):
    from chat import events

    dashboard, _state = await online_dashboard(desk["alice"])
    await dashboard.send_json_to({"type": "ping"})
    await receive_until(dashboard, "pong")
    offline = [{"id": desk["reference"].pk, "name": "Reference Desk", "online": False}]
    me_offline = {"id": desk["alice"].pk, "name": "Alice", "status": "offline", "available": False}
    # Read before Alice went Online (as_of 1.0): neither the list nor her status.
    await _deliver_late(
        events.STAFF_GROUP,
        {"type": "presence.changed", "operator": me_offline, "departments": offline, "as_of": 1.0},
    )
    await _deliver_late(
        events.STAFF_GROUP, {"type": "departments.changed", "departments": offline, "as_of": 1.0}
    )
    await dashboard.send_json_to({"type": "ping"})
    frame, seen = await receive_until(dashboard, "pong")
    assert [f["type"] for f in seen] == ["pong"], seen
    # A newer snapshot about someone else: forwarded, departments and all.
    carmen = {"id": desk["carmen"].pk, "name": "Carmen", "status": "online", "available": True}
    newer = {"type": "presence.changed", "operator": carmen, "departments": offline}
    await _deliver_late(events.STAFF_GROUP, {**newer, "as_of": 4e9})
    frame, _ = await receive_until(dashboard, "presence.changed")
    assert frame["departments"] == offline and frame["operator"] == carmen
    # Then one about Alice read between the two: her status is newer than what she
    # shows, the departments are not.
    await _deliver_late(
        events.STAFF_GROUP,
        {"type": "presence.changed", "operator": me_offline, "departments": [], "as_of": 3e9},
    )
    frame, _ = await receive_until(dashboard, "presence.changed")
    assert frame["operator"] == me_offline and "departments" not in frame
    await dashboard.disconnect()


async def test_a_widget_drops_a_presence_older_than_the_one_it_shows(desk):
    from chat import events

    widget = await patron_socket()
    await widget.send_json_to({"type": "watch", "department": "reference"})
    first, _ = await receive_until(widget, "presence")
    group = events.department_presence_group(desk["reference"].pk)
    update = {"type": "department.presence", "department": "reference", "answering": None}
    await _deliver_late(group, {**update, "online": True, "as_of": first["as_of"] - 1})
    await _deliver_late(group, {**update, "online": False, "as_of": first["as_of"] + 1})
    frame, seen = await receive_until(widget, "presence")
    assert [f["online"] for f in seen] == [False] and frame["as_of"] == first["as_of"] + 1
    await widget.disconnect()
