"""The supervisor's socket through the real router: refused to plain operators, told
of changes in the supervised departments, and following a watched chat's messages."""

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.models import Membership
from tests.chat.test_consumers import ORIGIN, TIMEOUT, receive_until, staff_socket
from tests.factories import DepartmentFactory, named_operator, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


async def supervisor_socket(user, origin=ORIGIN):
    return await staff_socket(user, origin, path="/ws/supervisor/")


@pytest.fixture
def desk(db):
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    other = DepartmentFactory(name="Reference Desk", slug="reference")
    carmen = named_operator("carmen", [special])
    Membership.objects.filter(operator=carmen).update(role=Membership.Role.ADMIN)
    alice = named_operator("alice", [special, other])
    return {"special": special, "other": other, "carmen": carmen, "alice": alice}


async def test_a_plain_operator_is_refused(desk):
    socket = await supervisor_socket(desk["alice"].user)
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame["code"] == "forbidden"
    assert (await socket.receive_output(timeout=TIMEOUT))["code"] == 4403


async def test_a_foreign_origin_is_refused(desk):
    socket = await supervisor_socket(
        desk["carmen"].user, origin=(b"origin", b"https://evil.example")
    )
    assert (await socket.receive_json_from(timeout=TIMEOUT))["code"] == "bad_origin"


async def test_changes_arrive_and_a_watched_chat_streams_its_messages(desk):
    socket = await supervisor_socket(desk["carmen"].user)
    await receive_until(socket, "supervisor.ready")
    chat, token = await database_sync_to_async(start_chat)(
        desk["special"], question="Rare maps?", name="Rae"
    )
    changed, _ = await receive_until(socket, "supervisor.changed")
    assert changed["because"] in ("chat.waiting", "queue.changed")
    await socket.send_json_to({"type": "chat.watch", "chat": str(chat.public_id)})
    watched, _ = await receive_until(socket, "chat.watched")
    assert [m["body"] for m in watched["messages"]] == ["Rare maps?"]
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=desk["alice"])
    await database_sync_to_async(services.message_send)(
        chat_id=chat.pk,
        body="Let me look.",
        client_id="m1",
        sender="operator",
        operator=desk["alice"],
    )
    frame, _ = await receive_until(socket, "message.new")
    while frame["message"]["sender"] == "system":
        frame, _ = await receive_until(socket, "message.new")
    assert frame["message"]["body"] == "Let me look."
    # A chat of a department Carmen does not run cannot be watched.
    elsewhere, _ = await database_sync_to_async(start_chat)(
        desk["other"], question="x", client_id="o"
    )
    await socket.send_json_to({"type": "chat.watch", "chat": str(elsewhere.public_id)})
    error, _ = await receive_until(socket, "error")
    assert error["code"] == "not_found"
    await socket.disconnect()
