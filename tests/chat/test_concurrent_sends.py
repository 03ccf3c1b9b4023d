"""A dashboard's sends run beside its other work (chat.consumers.sends): events for its
other chats keep arriving while one send waits on the database; sends of one chat are
stored in the order they were sent; any other frame waits for the sends before it."""

import threading

import pytest
from channels.db import database_sync_to_async
from django.db import connection, transaction

from chat import services
from chat.models import Chat, Message
from tests.chat.test_consumers import receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_chats(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(user=UserFactory(username="alice"), departments=[reference])
    chats = []
    for i in range(2):
        chat, _token = start_chat(reference, client_id=f"q{i}")
        services.chat_claim(chat_id=chat.pk, operator=alice)
        chats.append(chat)
    return alice, chats


class RowLock:
    """Another database session holding chat ``pk``'s row lock (as a slow transaction
    of another process would) until ``release()``."""

    def __init__(self, pk):
        self.held, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(pk,))
        self.thread.start()
        assert self.held.wait(5)

    def _hold(self, pk):
        try:
            with transaction.atomic():
                Chat.objects.select_for_update().get(pk=pk)
                self.held.set()
                self.done.wait(10)
        finally:
            connection.close()

    def release(self):
        self.done.set()
        self.thread.join(5)


def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks that leave other chats writable (PostgreSQL)")


async def test_a_send_waiting_on_the_database_holds_up_no_event_of_another_chat(two_chats):
    _postgresql_only()
    alice, (first, second) = two_chats
    socket = await staff_socket(alice.user)
    await receive_until(socket, "dashboard.state")
    lock = await database_sync_to_async(RowLock, thread_sensitive=False)(first.pk)
    try:
        await socket.send_json_to(
            {"type": "message.send", "chat": str(first.public_id), "client_id": "o-1", "body": "A"}
        )
        assert await socket.receive_nothing(timeout=0.3)  # the send waits on the lock
        await database_sync_to_async(services.message_send)(
            chat_id=second.pk, body="meanwhile", client_id="p-2", sender="patron"
        )
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] == "message.new" and frame["message"]["body"] == "meanwhile"
    finally:
        await database_sync_to_async(lock.release, thread_sensitive=False)()
    ack, _ = await receive_until(socket, "message.ack")
    assert ack["client_id"] == "o-1" and ack["chat"] == str(first.public_id)
    await socket.disconnect()


async def test_sends_of_one_chat_are_stored_in_order_and_end_chat_waits_for_them(two_chats):
    alice, (first, _second) = two_chats
    socket = await staff_socket(alice.user)
    await receive_until(socket, "dashboard.state")
    chat_id = str(first.public_id)
    locked = connection.vendor == "postgresql"
    lock = (
        await database_sync_to_async(RowLock, thread_sensitive=False)(first.pk) if locked else None
    )
    for i in range(12):
        await socket.send_json_to(
            {"type": "message.send", "chat": chat_id, "client_id": f"o-{i}", "body": f"m{i}"}
        )
    await socket.send_json_to({"type": "chat.end", "chat": chat_id})
    if lock is not None:
        await database_sync_to_async(lock.release, thread_sensitive=False)()
    acks = []
    while len(acks) < 12:
        frame = await socket.receive_json_from(timeout=5)
        assert frame["type"] != "error", frame
        if frame["type"] == "message.ack":
            acks.append(frame)
    assert len({ack["client_id"] for ack in acks}) == 12
    await socket.disconnect()
    stored = await database_sync_to_async(
        lambda: list(
            Message.objects.filter(chat=first).order_by("seq").values_list("client_id", "sender")
        )
    )()
    sent = [client_id for client_id, sender in stored if client_id.startswith("o-")]
    assert sent == [f"o-{i}" for i in range(12)]  # in the order sent
    assert stored[-1][1] == Message.Sender.SYSTEM  # the end notice came after them
    status = await database_sync_to_async(lambda: Chat.objects.get(pk=first.pk).status)()
    assert status == Chat.Status.ENDED
