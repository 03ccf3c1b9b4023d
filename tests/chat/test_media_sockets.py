"""Issue 7 over the sockets: typing, the screenshare flow and its signalling (only
between the chat's patron and its operator), rating, deleting, and the estimated wait."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import selectors, services
from chat.models import Chat, ChatRating, Message
from tests.chat.test_consumers import TIMEOUT, patron_socket, receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db(transaction=True)

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    bob = OperatorFactory(
        user=UserFactory(username="bob", first_name="Bob"), departments=[reference]
    )
    return reference, alice, bob


async def claimed_chat(reference, alice):
    chat, token = await database_sync_to_async(start_chat)(
        reference, question="Screens?", name="Pat"
    )
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    return chat, token, operator, patron


async def nothing_of(communicator, frame_type, wait=0.5):
    """True when no frame of ``frame_type`` arrives within ``wait`` seconds (other frames
    are read and dropped; receive_nothing never cancels the application)."""
    while not await communicator.receive_nothing(timeout=wait):
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == frame_type:
            return False
    return True


async def test_typing_both_ways_throttled_and_without_writes(desk):
    reference, alice, _ = desk
    chat, _, operator, patron = await claimed_chat(reference, alice)
    last_seq = (await database_sync_to_async(Chat.objects.get)(pk=chat.pk)).last_seq
    await patron.send_json_to({"type": "typing", "active": True})
    typing, _ = await receive_until(operator, "typing")
    assert typing == {
        "type": "typing",
        "chat": str(chat.public_id),
        "sender": "patron",
        "name": "Pat",
        "active": True,
        "operator": None,
    }
    await patron.send_json_to({"type": "typing", "active": True})  # within a second: dropped
    assert await nothing_of(operator, "typing")

    await operator.send_json_to({"type": "typing", "chat": str(chat.public_id), "active": True})
    typing, _ = await receive_until(patron, "typing")
    assert typing == {"type": "typing", "sender": "operator", "name": "Alice", "active": True}
    await operator.send_json_to({"type": "typing", "chat": str(chat.public_id), "active": False})
    stopped, _ = await receive_until(patron, "typing")
    assert stopped["active"] is False
    assert await nothing_of(patron, "typing", wait=0.3)  # its own typing never echoes back

    await patron.send_json_to({"type": "typing", "active": "yes"})
    error, _ = await receive_until(patron, "error")
    assert error["code"] == "invalid"
    refreshed = await database_sync_to_async(Chat.objects.get)(pk=chat.pk)
    assert refreshed.last_seq == last_seq  # nothing was written
    await patron.disconnect()
    await operator.disconnect()


async def test_screenshare_request_decline_accept_signal_stop(desk, settings):
    settings.SCREENSHARE_ICE_SERVERS = [{"urls": "stun:127.0.0.1:3478"}]
    reference, alice, bob = desk
    chat, _, operator, patron = await claimed_chat(reference, alice)
    other = await staff_socket(bob.user)  # bob watches the same chat: never gets signalling
    await receive_until(other, "dashboard.state")
    await other.send_json_to({"type": "chat.open", "chat": str(chat.public_id)})
    await receive_until(other, "chat.opened")
    chat_id = str(chat.public_id)

    # Signalling before any share is refused.
    await patron.send_json_to({"type": "rtc.offer", "sdp": SDP})
    error, _ = await receive_until(patron, "error")
    assert error["code"] == "no_share"

    await operator.send_json_to({"type": "screenshare.request", "chat": chat_id})
    requested, seen = await receive_until(patron, "screenshare.requested")
    assert requested["mode"] == "webrtc" and "operator" not in requested
    lines = [f["message"]["body"] for f in seen if f["type"] == "message.new"]
    assert lines == ["Alice asked to see your screen."]  # the system line comes first
    await patron.send_json_to({"type": "screenshare.decline"})
    declined, _ = await receive_until(operator, "screenshare.declined")
    assert declined["by"] == "patron"

    await operator.send_json_to({"type": "screenshare.request", "chat": chat_id})
    await receive_until(patron, "screenshare.requested")
    await operator.send_json_to({"type": "screenshare.request", "chat": chat_id})  # already pending
    busy, _ = await receive_until(operator, "error")
    assert busy["code"] == "share_busy"
    await patron.send_json_to({"type": "screenshare.accept"})
    accepted, _ = await receive_until(operator, "screenshare.accepted")
    assert accepted["ice_servers"] == [{"urls": "stun:127.0.0.1:3478"}]
    await receive_until(patron, "screenshare.accepted")

    await patron.send_json_to({"type": "rtc.offer", "sdp": SDP})
    offer, _ = await receive_until(operator, "rtc.offer")
    assert offer["sdp"] == SDP and offer["sender"] == "patron" and offer["chat"] == chat_id
    await operator.send_json_to({"type": "rtc.answer", "chat": chat_id, "sdp": SDP})
    answer, _ = await receive_until(patron, "rtc.answer")
    assert answer["sdp"] == SDP and "operator" not in answer
    await patron.send_json_to({"type": "rtc.ice", "candidate": {**CANDIDATE, "extra": "dropped"}})
    ice, _ = await receive_until(operator, "rtc.ice")
    assert ice["candidate"] == {**CANDIDATE, "usernameFragment": None}
    await operator.send_json_to({"type": "rtc.ice", "chat": chat_id, "candidate": CANDIDATE})
    await receive_until(patron, "rtc.ice")

    for bad in (
        {"type": "rtc.offer", "sdp": "<script>"},
        {"type": "rtc.ice", "candidate": {"candidate": 5}},
    ):
        await patron.send_json_to(bad)
        error, _ = await receive_until(patron, "error")
        assert error["code"] == "invalid"
    # Bob may not answer or send candidates in alice's share.
    await other.send_json_to({"type": "rtc.answer", "chat": chat_id, "sdp": SDP})
    refused, seen = await receive_until(other, "error")
    assert refused["code"] == "forbidden"
    assert not [
        f for f in seen if f["type"].startswith("rtc.") or f["type"] == "screenshare.accepted"
    ]

    await patron.send_json_to({"type": "screenshare.stop"})
    ended, _ = await receive_until(operator, "screenshare.ended")
    assert ended["by"] == "patron"
    await patron.send_json_to({"type": "rtc.ice", "candidate": CANDIDATE})
    error, _ = await receive_until(patron, "error")
    assert error["code"] == "no_share"

    bodies = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(chat=chat, sender="system").values_list("body", flat=True)
        )
    )()
    assert bodies[-5:] == [
        "Alice asked to see your screen.",
        "The patron declined screen sharing.",
        "Alice asked to see your screen.",
        "The patron accepted screen sharing.",
        "The patron stopped screen sharing.",
    ]
    for communicator in (patron, operator, other):
        await communicator.disconnect()


async def test_meeting_link_mode_sends_the_operators_room(desk):
    reference, alice, _ = desk
    await database_sync_to_async(
        lambda: type(reference).objects.filter(pk=reference.pk).update(screenshare_mode="meeting")
    )()
    await database_sync_to_async(
        lambda: (
            type(alice).objects.filter(pk=alice.pk).update(meeting_url="https://zoom.example/j/123")
        )
    )()
    chat, _, operator, patron = await claimed_chat(reference, alice)
    await operator.send_json_to({"type": "screenshare.request", "chat": str(chat.public_id)})
    requested, _ = await receive_until(patron, "screenshare.requested")
    assert (
        requested["mode"] == "meeting" and requested["meeting_url"] == "https://zoom.example/j/123"
    )
    await patron.send_json_to({"type": "screenshare.accept"})
    accepted, _ = await receive_until(operator, "screenshare.accepted")
    assert accepted["meeting_url"] == "https://zoom.example/j/123"
    await operator.send_json_to({"type": "screenshare.stop", "chat": str(chat.public_id)})
    ended, _ = await receive_until(patron, "screenshare.ended")
    assert ended["by"] == "operator"
    await patron.disconnect()
    await operator.disconnect()


async def test_rating_and_deleting_from_the_widget(desk):
    reference, alice, _ = desk
    chat, token, operator, patron = await claimed_chat(reference, alice)
    await patron.send_json_to({"type": "chat.rate", "score": 5})
    early, _ = await receive_until(patron, "error")
    assert early["code"] == "not_ended"
    await patron.send_json_to({"type": "chat.end"})
    await receive_until(patron, "chat.ended")
    await patron.send_json_to({"type": "chat.rate", "score": 6})
    bad, _ = await receive_until(patron, "error")
    assert bad["code"] == "invalid" and bad["message"] == "Choose a rating from 1 to 5."
    await patron.send_json_to({"type": "chat.rate", "score": 4, "comment": " Very helpful "})
    rated, _ = await receive_until(patron, "chat.rated")
    assert rated["score"] == 4
    rating = await database_sync_to_async(ChatRating.objects.get)(chat=chat)
    assert (rating.score, rating.comment) == (4, "Very helpful")

    await patron.send_json_to({"type": "chat.delete"})
    await receive_until(patron, "chat.deleted")
    deleted, _ = await receive_until(operator, "chat.deleted")
    assert deleted["chat"] == str(chat.public_id)
    assert await database_sync_to_async(Message.objects.filter(chat=chat).count)() == 0
    await patron.disconnect()
    again = await patron_socket(token)  # the old token opens nothing now
    refused, _ = await receive_until(again, "error")
    assert refused["code"] == "bad_token"
    await operator.disconnect()


def _claimed_after(department, operator, minutes, name):
    chat, _ = start_chat(department, name=name, client_id=name)
    services.chat_claim(chat_id=chat.pk, operator=operator)
    created = timezone.now() - timedelta(minutes=minutes)
    Chat.objects.filter(pk=chat.pk).update(
        created_at=created, claimed_at=created + timedelta(minutes=minutes)
    )


def test_estimated_wait_is_the_median_of_recent_claims(desk):
    reference, alice, _ = desk
    assert selectors.estimated_wait_seconds(reference.pk) is None
    for minutes, name in [(1, "a"), (3, "b"), (10, "c")]:
        _claimed_after(reference, alice, minutes, name)
    assert selectors.estimated_wait_seconds(reference.pk) == 180
    _claimed_after(reference, alice, 5, "d")
    assert selectors.estimated_wait_seconds(reference.pk) == 240  # (3 + 5) / 2 minutes
    assert selectors.estimated_wait_seconds(reference.pk, recent=1) in (60, 180, 300, 600)


async def test_waiting_patron_hears_position_and_estimated_wait(desk):
    reference, alice, _ = desk
    await database_sync_to_async(_claimed_after)(reference, alice, 2, "old")
    first, _ = await database_sync_to_async(start_chat)(reference, name="First", client_id="f")
    _, token = await database_sync_to_async(start_chat)(reference, name="Second", client_id="s")
    patron = await patron_socket(token)
    welcome, _ = await receive_until(patron, "welcome")
    assert welcome["chat"]["position"] == 2 and welcome["chat"]["estimated_wait"] == 120
    await database_sync_to_async(services.chat_claim)(chat_id=first.pk, operator=alice)
    position, _ = await receive_until(patron, "queue.position")
    assert position["position"] == 1 and isinstance(position["estimated_wait"], int)
    await patron.disconnect()
