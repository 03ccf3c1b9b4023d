"""The sockets, through WebsocketCommunicator on the real ASGI application and the real
channel layer (in-memory by default, Redis when REDIS_URL is set)."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from chat import services
from chat.models import Chat, Message, Operator
from libdesk.asgi import application
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # the desk's own origin is the one the socket reached
TIMEOUT = 10  # generous: a loaded 2-core machine


def session_cookie_for(user) -> bytes:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}".encode()


async def patron_socket(token=None, last_seq=0, origin=ORIGIN):
    headers = [HOST] + ([origin] if origin else [])
    communicator = WebsocketCommunicator(application, "/ws/patron/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    if token is not None:
        await communicator.send_json_to({"type": "hello", "token": token, "last_seq": last_seq})
    return communicator


async def staff_socket(user, origin=ORIGIN, path="/ws/staff/"):
    cookie = await database_sync_to_async(session_cookie_for)(user)
    headers = [HOST, (b"cookie", cookie)] + ([origin] if origin else [])
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def receive_until(communicator, frame_type, timeout=TIMEOUT):
    """Frames up to and including the first of ``frame_type`` (the others are returned too)."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        seen.append(frame)
        if frame["type"] == frame_type:
            return frame, seen


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    return reference, alice


async def test_patron_and_operator_round_trip(desk):
    reference, alice = desk
    operator = await staff_socket(alice.user)
    state, _ = await receive_until(operator, "dashboard.state")
    assert state["operator"]["name"] == "Alice" and state["waiting"] == []
    await operator.send_json_to({"type": "presence.set", "status": "online"})
    await receive_until(operator, "presence.changed")

    chat, token = await database_sync_to_async(start_chat)(
        reference, question="Atlases?", name="Pat"
    )
    waiting, _ = await receive_until(operator, "chat.waiting")
    assert waiting["chat"]["id"] == str(chat.public_id) and waiting["chat"]["preview"] == "Atlases?"

    patron = await patron_socket(token)
    welcome, _ = await receive_until(patron, "welcome")
    assert welcome["chat"]["status"] == "waiting" and welcome["chat"]["position"] == 1
    assert [m["body"] for m in welcome["messages"]] == ["Atlases?"]

    await operator.send_json_to({"type": "chat.claim", "chat": str(chat.public_id)})
    opened, _ = await receive_until(operator, "chat.opened")
    assert [m["seq"] for m in opened["messages"]] == [1, 2]
    claimed, _ = await receive_until(patron, "chat.claimed")
    assert claimed["operator"] == "Alice"  # a patron sees a name, never an id

    await operator.send_json_to(
        {
            "type": "message.send",
            "chat": str(chat.public_id),
            "client_id": "o-1",
            "body": "Yes, on floor 2.",
        }
    )
    ack, _ = await receive_until(operator, "message.ack")
    assert ack == {
        "type": "message.ack",
        "chat": str(chat.public_id),
        "client_id": "o-1",
        "seq": 3,
        "duplicate": False,
    }
    new, _ = await receive_until(patron, "message.new")
    while new["message"]["seq"] < 3:
        new, _ = await receive_until(patron, "message.new")
    assert new["message"]["body"] == "Yes, on floor 2." and new["message"]["author"] == "Alice"

    await patron.send_json_to({"type": "message.send", "client_id": "p-1", "body": "Thank you!"})
    ack, _ = await receive_until(patron, "message.ack")
    assert ack["seq"] == 4
    new, _ = await receive_until(operator, "message.new")
    while new["message"]["seq"] < 4:
        new, _ = await receive_until(operator, "message.new")
    assert new["message"]["body"] == "Thank you!" and new["message"]["sender"] == "patron"

    await operator.send_json_to({"type": "chat.end", "chat": str(chat.public_id)})
    ended, _ = await receive_until(patron, "chat.ended")
    assert ended["by"] == "operator"
    await operator.send_json_to({"type": "chat.close", "chat": str(chat.public_id)})
    await receive_until(operator, "chat.closed")
    status = await database_sync_to_async(lambda: Chat.objects.get(pk=chat.pk).status)()
    assert status == "closed"
    await patron.disconnect()
    await operator.disconnect()


async def test_resume_after_reconnect_loses_and_doubles_nothing(desk):
    reference, alice = desk
    chat, token = await database_sync_to_async(start_chat)(reference, question="q")
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    patron = await patron_socket(token)
    welcome, _ = await receive_until(patron, "welcome")
    last_seen = welcome["messages"][-1]["seq"]
    assert last_seen == 2
    await patron.disconnect()

    # While the patron is away: the librarian writes, and the patron's retry of an
    # earlier send (same client id) arrives after the reconnect.
    for i in range(3):
        await database_sync_to_async(services.message_send)(
            chat_id=chat.pk,
            body=f"while away {i}",
            client_id=f"o-{i}",
            sender="operator",
            operator=alice,
        )
    patron = await patron_socket(token, last_seq=last_seen)
    welcome, _ = await receive_until(patron, "welcome")
    assert [m["seq"] for m in welcome["messages"]] == [3, 4, 5]
    assert [m["body"] for m in welcome["messages"]] == [
        "while away 0",
        "while away 1",
        "while away 2",
    ]

    for _ in range(2):  # the outbox resends the same message twice
        await patron.send_json_to(
            {"type": "message.send", "client_id": "p-9", "body": "still there?"}
        )
    first, frames = await receive_until(patron, "message.ack")
    second, more = await receive_until(patron, "message.ack")
    frames += more
    assert (first["seq"], first["duplicate"]) == (6, False)
    assert (second["seq"], second["duplicate"]) == (6, True)
    assert (
        await database_sync_to_async(
            lambda: Message.objects.filter(chat=chat, client_id="p-9").count()
        )()
        == 1
    )
    # and the live event for seq 6 arrives exactly once
    while not await patron.receive_nothing(timeout=0.3):
        frames.append(await patron.receive_json_from())
    assert [f["message"]["seq"] for f in frames if f["type"] == "message.new"] == [6]
    await patron.disconnect()


async def test_staff_resume_with_after_seq(desk):
    reference, alice = desk
    chat, _ = await database_sync_to_async(start_chat)(reference, question="q")
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    await database_sync_to_async(services.message_send)(
        chat_id=chat.pk, body="p", client_id="p1", sender="patron"
    )
    operator = await staff_socket(alice.user)
    state, _ = await receive_until(operator, "dashboard.state")
    assert [c["id"] for c in state["mine"]] == [str(chat.public_id)]
    await operator.send_json_to({"type": "chat.open", "chat": str(chat.public_id), "after_seq": 2})
    opened, _ = await receive_until(operator, "chat.opened")
    assert [m["seq"] for m in opened["messages"]] == [3]
    await operator.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"no": "type"}', "bad_frame"),
        ('{"type": "chat.explode"}', "unknown_type"),
        ('{"type": "message.send", "client_id": "x", "body": "hi"}', "not_authenticated"),
        ('{"type": "hello", "token": "x", "last_seq": -1}', "invalid"),
    ],
)
async def test_patron_bad_frames_get_an_error_and_change_nothing(desk, raw, code):
    communicator = await patron_socket()
    await communicator.send_to(text_data=raw)
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "error" and frame["code"] == code and frame["message"]
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from())["type"] == "pong"  # still alive
    assert await database_sync_to_async(Message.objects.count)() == 0
    await communicator.disconnect()


async def test_patron_message_errors(desk, settings):
    reference, _ = desk
    settings.LIBDESK = {**settings.LIBDESK, "MAX_MESSAGE_LENGTH": 10, "MAX_FRAME_BYTES": 2000}
    chat, token = await database_sync_to_async(start_chat)(reference, question="q")
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    cases = [
        ({"type": "message.send", "client_id": "a", "body": "x" * 11}, "too_long"),
        ({"type": "message.send", "client_id": "a", "body": "   "}, "empty"),
        ({"type": "message.send", "body": "hello"}, "no_client_id"),
        ({"type": "message.send", "client_id": "a", "body": {"html": 1}}, "invalid"),
    ]
    for frame, code in cases:
        await patron.send_json_to(frame)
        error, _ = await receive_until(patron, "error")
        assert error["code"] == code
    await patron.send_to(
        text_data=json.dumps({"type": "message.send", "client_id": "a", "body": "x" * 3000})
    )
    error, _ = await receive_until(patron, "error")
    assert error["code"] == "frame_too_large"
    assert await database_sync_to_async(Message.objects.filter(chat=chat).count)() == 1
    await patron.disconnect()


async def test_a_wrong_token_is_refused_and_closed(desk):
    reference, _ = desk
    await database_sync_to_async(start_chat)(reference)
    patron = await patron_socket("guessed-token")
    error = await patron.receive_json_from(timeout=TIMEOUT)
    assert error["code"] == "bad_token"
    assert (await patron.receive_output(timeout=TIMEOUT))["code"] == 4403


async def test_a_patron_token_opens_only_its_own_chat(desk):
    reference, alice = desk
    mine, my_token = await database_sync_to_async(start_chat)(
        reference, question="mine", client_id="m"
    )
    other, _ = await database_sync_to_async(start_chat)(reference, question="secret", client_id="s")
    patron = await patron_socket(my_token)
    welcome, _ = await receive_until(patron, "welcome")
    assert welcome["chat"]["id"] == str(mine.public_id)
    assert "secret" not in json.dumps(welcome)
    # The other chat's events never reach this patron.
    await database_sync_to_async(services.chat_claim)(chat_id=other.pk, operator=alice)
    frames = []
    while not await patron.receive_nothing(timeout=0.3):
        frames.append(await patron.receive_json_from())
    assert all(f.get("chat") in (None, str(mine.public_id)) for f in frames)
    # staff frames are unknown on the patron socket
    await patron.send_json_to({"type": "chat.claim", "chat": str(other.public_id)})
    error, _ = await receive_until(patron, "error")
    assert error["code"] == "unknown_type"
    assert (
        await database_sync_to_async(lambda: Chat.objects.get(pk=other.pk).operator_id)()
        == alice.pk
    )
    await patron.disconnect()


async def test_queue_position_moves_when_a_chat_ahead_is_claimed(desk):
    reference, alice = desk
    first, _ = await database_sync_to_async(start_chat)(reference, client_id="a")
    second, token = await database_sync_to_async(start_chat)(reference, client_id="b")
    patron = await patron_socket(token)
    welcome, _ = await receive_until(patron, "welcome")
    assert welcome["chat"]["position"] == 2
    await database_sync_to_async(services.chat_claim)(chat_id=first.pk, operator=alice)
    position, _ = await receive_until(patron, "queue.position")
    assert position["position"] == 1
    await patron.disconnect()


async def test_staff_socket_refuses_anonymous_and_foreign_origin(desk):
    _, alice = desk
    anonymous = WebsocketCommunicator(application, "/ws/staff/", headers=[HOST, ORIGIN])
    connected, _ = await anonymous.connect(timeout=TIMEOUT)
    assert connected
    error = await anonymous.receive_json_from(timeout=TIMEOUT)
    assert error["code"] == "not_authenticated"
    assert (await anonymous.receive_output(timeout=TIMEOUT))["code"] == 4401

    foreign = await staff_socket(alice.user, origin=(b"origin", b"https://evil.example"))
    error = await foreign.receive_json_from(timeout=TIMEOUT)
    assert error["code"] == "bad_origin"
    assert (await foreign.receive_output(timeout=TIMEOUT))["code"] == 4403
    no_origin = await staff_socket(alice.user, origin=None)
    assert (await no_origin.receive_json_from(timeout=TIMEOUT))["code"] == "bad_origin"
    assert await database_sync_to_async(lambda: alice.connections.count())() == 0


async def test_a_non_operator_staff_user_is_refused(desk):
    user = await database_sync_to_async(UserFactory)(username="plainstaff")
    communicator = await staff_socket(user)
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["code"] == "not_authenticated"


async def test_patron_socket_refuses_a_foreign_origin(desk):
    communicator = WebsocketCommunicator(
        application, "/ws/patron/", headers=[(b"origin", b"https://evil.example")]
    )
    await communicator.connect(timeout=TIMEOUT)
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["code"] == "bad_origin"


async def test_staff_errors_for_other_departments_and_contested_claims(desk):
    reference, alice = desk
    archives = await database_sync_to_async(DepartmentFactory)(name="Archives", slug="archives")
    bob = await database_sync_to_async(OperatorFactory)(
        user=await database_sync_to_async(UserFactory)(username="bob", first_name="Bob"),
        departments=[reference],
    )
    foreign_chat, _ = await database_sync_to_async(start_chat)(archives, client_id="f")
    chat, _ = await database_sync_to_async(start_chat)(reference, client_id="r")
    operator = await staff_socket(alice.user)
    state, _ = await receive_until(operator, "dashboard.state")
    assert [c["id"] for c in state["waiting"]] == [str(chat.public_id)]  # not the Archives chat

    for frame in (
        {"type": "chat.claim", "chat": str(foreign_chat.public_id)},
        {"type": "chat.open", "chat": str(foreign_chat.public_id)},
        {"type": "chat.claim", "chat": "not-a-uuid"},
        {"type": "chat.claim", "chat": "00000000-0000-0000-0000-000000000000"},
    ):
        await operator.send_json_to(frame)
        error, _ = await receive_until(operator, "error")
        assert error["code"] == "not_found"

    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=bob)
    claimed, _ = await receive_until(operator, "chat.claimed")
    assert claimed["operator"]["name"] == "Bob"  # it leaves Alice's waiting list
    await operator.send_json_to({"type": "chat.claim", "chat": str(chat.public_id)})
    error, _ = await receive_until(operator, "error")
    assert error["code"] == "already_claimed"
    await operator.send_json_to(
        {"type": "message.send", "chat": str(chat.public_id), "client_id": "x", "body": "hi"}
    )
    error, _ = await receive_until(operator, "error")
    assert (error["code"], error["client_id"]) == ("forbidden", "x")
    await operator.send_json_to({"type": "presence.set", "status": "asleep"})
    error, _ = await receive_until(operator, "error")
    assert error["code"] == "invalid"
    await operator.disconnect()


async def test_closing_the_last_dashboard_goes_offline_after_the_grace_period(desk, settings):
    reference, alice = desk
    settings.LIBDESK = {**settings.LIBDESK, "PRESENCE_GRACE_SECONDS": 0.3}
    first = await staff_socket(alice.user)
    await receive_until(first, "dashboard.state")
    second = await staff_socket(alice.user)
    await receive_until(second, "dashboard.state")
    await first.send_json_to({"type": "presence.set", "status": "online"})
    await receive_until(first, "presence.changed")

    def status():
        return Operator.objects.get(pk=alice.pk).status

    await first.disconnect()
    await asyncio.sleep(0.6)
    assert await database_sync_to_async(status)() == "online"  # another tab is still open
    await second.disconnect()
    assert await database_sync_to_async(status)() == "online"  # within the grace period
    await asyncio.sleep(0.8)
    assert await database_sync_to_async(status)() == "offline"


async def test_a_resend_broadcasts_again_for_whoever_missed_the_first_broadcast(desk):
    """The first send was stored but its broadcast never left (a process killed after the
    commit): the client's retry with the same client id delivers it live, once."""
    reference, alice = desk
    chat, token = await database_sync_to_async(start_chat)(reference, question="q")
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    await operator.send_json_to({"type": "chat.open", "chat": str(chat.public_id), "after_seq": 0})
    await receive_until(operator, "chat.opened")
    # Stored without any broadcast reaching the operator (outside the socket's view):
    from chat.models import Message as MessageModel

    def store_silently():
        Chat.objects.filter(pk=chat.pk).update(last_seq=3)
        MessageModel.objects.create(
            chat=chat, seq=3, sender="patron", client_id="p-lost", body="lost?"
        )

    await database_sync_to_async(store_silently)()
    patron = await patron_socket(token, last_seq=3)
    await receive_until(patron, "welcome")
    await patron.send_json_to({"type": "message.send", "client_id": "p-lost", "body": "lost?"})
    ack, _ = await receive_until(patron, "message.ack")
    assert (ack["seq"], ack["duplicate"]) == (3, True)
    new, _ = await receive_until(operator, "message.new")
    assert (new["message"]["seq"], new["message"]["body"]) == (3, "lost?")
    await patron.send_json_to({"type": "message.send", "client_id": "p-lost", "body": "lost?"})
    await receive_until(patron, "message.ack")
    frames = []
    while not await operator.receive_nothing(timeout=0.3):
        frames.append(await operator.receive_json_from())
    assert [f for f in frames if f["type"] == "message.new"] == []  # once per socket
    await patron.disconnect()
    await operator.disconnect()


async def test_staff_history_never_repeats_what_went_out_live(desk):
    reference, alice = desk
    chat, _ = await database_sync_to_async(start_chat)(reference, question="q")
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    operator = await staff_socket(alice.user)  # joins its own active chat at connect
    await receive_until(operator, "dashboard.state")
    await database_sync_to_async(services.message_send)(
        chat_id=chat.pk, body="live", client_id="p1", sender="patron"
    )
    live, _ = await receive_until(operator, "message.new")
    assert live["message"]["seq"] == 3
    await operator.send_json_to({"type": "chat.open", "chat": str(chat.public_id), "after_seq": 0})
    opened, _ = await receive_until(operator, "chat.opened")
    assert [m["seq"] for m in opened["messages"]] == [1, 2]  # seq 3 already went out
    await operator.disconnect()


async def test_patron_pong_tells_the_last_seq(desk):
    reference, alice = desk
    chat, token = await database_sync_to_async(start_chat)(reference, question="q")
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    await patron.send_json_to({"type": "ping"})
    pong, _ = await receive_until(patron, "pong")
    assert pong["last_seq"] == 2
    await patron.disconnect()


async def test_choosing_online_after_the_desk_changed_the_status_takes_effect(desk):
    """The desk changes an operator's status behind the socket's back (idle → Away at a
    heartbeat, Offline after a closed tab's grace period). Choosing Online afterwards
    must make them Online for real, not be skipped as "already Online" on what the
    socket read when it opened."""
    reference, alice = desk
    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    await operator.send_json_to({"type": "presence.set", "status": "online"})
    await receive_until(operator, "presence.changed")

    def desk_sets(status, reason):
        services.presence_set(
            operator=Operator.objects.get(pk=alice.pk), status=status, reason=reason
        )

    for status, reason in (("away", "idle"), ("offline", "disconnected")):
        await database_sync_to_async(desk_sets)(status, reason)
        changed, _ = await receive_until(operator, "presence.changed")
        assert changed["operator"]["status"] == status
        await operator.send_json_to({"type": "presence.set", "status": "online"})
        changed, _ = await receive_until(operator, "presence.changed")
        assert changed["operator"]["status"] == "online"
        assert changed["operator"]["available"] is True
        assert [d["online"] for d in changed["departments"]] == [True]
        stored = await database_sync_to_async(lambda: Operator.objects.get(pk=alice.pk).status)()
        assert stored == "online"
    await operator.disconnect()
