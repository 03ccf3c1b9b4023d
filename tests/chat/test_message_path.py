"""The live message path's cost and ordering: a message send is a fixed, small number of
statements; the sockets forward each seq once, in whatever order events arrive."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import events, services
from chat.consumers.support import SentSeqs, socket_db
from chat.exceptions import Conflict, Forbidden
from chat.models import Chat, Message, OperatorConnection
from tests.chat.test_consumers import patron_socket, receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat


@pytest.fixture
def claimed(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    chat, token = start_chat(reference)
    services.chat_claim(chat_id=chat.pk, operator=alice)
    return chat, token, alice


def _statements(captured):
    return [q["sql"].split()[0].upper() for q in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_a_message_is_one_statement_on_postgresql_else_one_update_and_one_insert(claimed):
    chat, _token, alice = claimed
    # A fresh connection: once psycopg has prepared the statement (after 5 runs on one
    # connection, by earlier tests) its cursor keeps no text for the capture to show.
    connection.close()
    for kwargs in ({"sender": "patron"}, {"sender": "operator", "operator": alice}):
        with CaptureQueriesContext(connection) as captured:
            message, created = services.message_send(
                chat_id=chat.pk, body="hi", client_id=f"c-{kwargs['sender']}", **kwargs
            )
        assert created
        if connection.vendor == "postgresql":
            # UPDATE ... RETURNING and INSERT ... SELECT in one autocommitted statement.
            assert _statements(captured) == ["WITH"], captured.captured_queries
        else:
            # The seq is taken by UPDATE ... RETURNING (which locks the row): no SELECT.
            assert _statements(captured)[-3:] == ["UPDATE", "INSERT", "COMMIT"], (
                captured.captured_queries
            )
            assert len(captured) <= 4  # + BEGIN on SQLite
        stored = Message.objects.select_related("operator").get(pk=message.pk)
        assert (stored.seq, stored.sender, stored.operator, stored.client_id, stored.body) == (
            message.seq,
            kwargs["sender"],
            kwargs.get("operator"),
            f"c-{kwargs['sender']}",
            "hi",
        )
        assert stored.created_at == message.created_at and message.chat.public_id == chat.public_id
    assert list(Message.objects.filter(chat=chat).values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert Chat.objects.get(pk=chat.pk).last_seq == 4


@pytest.mark.django_db(transaction=True)
def test_one_client_id_sent_at_once_from_eight_threads_is_stored_once_and_takes_one_seq(claimed):
    """Eight retries of one message racing each other (a client that resent on several
    sockets): one is stored; the others wait for its row lock, fail on the client id and
    give their sequence number back, and are answered with the stored message."""
    chat, _token, alice = claimed
    barrier = threading.Barrier(8)
    results = []

    def send():
        barrier.wait()
        try:
            results.append(
                services.message_send(
                    chat_id=chat.pk, body="once", client_id="same", sender="patron"
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    stored = Message.objects.get(chat=chat, client_id="same")
    assert {message.pk for message, _ in results} == {stored.pk}
    assert results[0][0].seq == 3  # after the question and the join notice
    services.message_send(chat_id=chat.pk, body="next", client_id="next", sender="patron")
    assert list(Message.objects.filter(chat=chat).values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert Chat.objects.get(pk=chat.pk).last_seq == 4


@pytest.mark.django_db(transaction=True)
def test_a_refused_or_repeated_send_leaves_no_gap(claimed):
    chat, _token, alice = claimed
    bob = OperatorFactory(departments=[chat.department])
    services.message_send(
        chat_id=chat.pk, body="one", client_id="o-1", sender="operator", operator=alice
    )
    with pytest.raises(Forbidden):
        services.message_send(
            chat_id=chat.pk, body="mine?", client_id="b-1", sender="operator", operator=bob
        )
    again, created = services.message_send(
        chat_id=chat.pk, body="one", client_id="o-1", sender="operator", operator=alice
    )
    assert (again.seq, created) == (3, False)
    services.chat_end(chat_id=chat.pk, by="patron")
    # A retry of a stored message is still answered with it after the chat ended.
    assert (
        services.message_send(
            chat_id=chat.pk, body="one", client_id="o-1", sender="operator", operator=alice
        )[1]
        is False
    )
    with pytest.raises(Conflict):
        services.message_send(chat_id=chat.pk, body="late", client_id="p-2", sender="patron")
    seqs = list(Message.objects.filter(chat=chat).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and Chat.objects.get(pk=chat.pk).last_seq == len(
        seqs
    )


def test_sent_seqs_once_each_in_any_order():
    sent = SentSeqs()
    assert [sent.add(s) for s in (2, 1, 2, 4, 3, 1)] == [True, True, False, True, True, False]
    assert (sent.floor, sent.above) == (4, set())
    sent.raise_floor(10)
    assert 7 in sent and not sent.add(9) and sent.add(11)


@pytest.mark.django_db(transaction=True)
async def test_sockets_forward_crossed_events_once_each(claimed):
    chat, token, alice = claimed
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    layer = get_channel_layer()
    group = events.chat_group(chat.pk)

    def new(seq):
        message = {
            "seq": seq,
            "client_id": f"x-{seq}",
            "sender": "system",
            "author": "",
            "body": str(seq),
            "created_at": "2026-01-01T00:00:00+00:00",
            "attachment": None,
        }
        return {
            "type": "desk.event",
            "event": {"type": "message.new", "chat": str(chat.public_id), "message": message},
            "chat_pk": chat.pk,
        }

    for seq in (4, 3, 4, 2, 3):  # 3 and 4 crossed; 2 was in the history; repeats
        await layer.group_send(group, new(seq))
    for socket in (patron, operator):
        frames = []
        while not await socket.receive_nothing(timeout=0.5):
            frames.append(await socket.receive_json_from())
        got = [f["message"]["seq"] for f in frames if f["type"] == "message.new"]
        assert got == ([4, 3] if socket is patron else [4, 3, 2])  # the dashboard never opened it
    await patron.disconnect()
    await operator.disconnect()
    assert await database_sync_to_async(lambda: Chat.objects.get(pk=chat.pk).last_seq)() == 2


@pytest.mark.django_db(transaction=True)
async def test_the_staff_pong_carries_the_last_seq_of_each_chat_it_follows(claimed):
    """A message whose live event this dashboard socket never got (it was not in the
    chat's group) shows up at the next ping as a higher last_seq, and chat.open with
    after_seq brings it."""
    chat, _token, alice = claimed
    last = await database_sync_to_async(lambda: Chat.objects.get(pk=chat.pk).last_seq)()
    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    chat_id = str(chat.public_id)
    await operator.send_json_to({"type": "ping"})
    pong, _ = await receive_until(operator, "pong")
    assert pong["last_seq"] == {chat_id: last}

    channel = await database_sync_to_async(
        lambda: OperatorConnection.objects.get(operator=alice).channel_name
    )()
    await get_channel_layer().group_discard(events.chat_group(chat.pk), channel)
    await database_sync_to_async(services.message_send)(
        chat_id=chat.pk, body="lost on the way", client_id="p-lost", sender="patron"
    )
    assert await operator.receive_nothing(timeout=0.5)  # its event never reached the socket

    await operator.send_json_to({"type": "ping"})
    pong, _ = await receive_until(operator, "pong")
    assert pong["last_seq"] == {chat_id: last + 1}
    await operator.send_json_to({"type": "chat.open", "chat": chat_id, "after_seq": last})
    opened, _ = await receive_until(operator, "chat.opened")
    assert [(m["seq"], m["body"]) for m in opened["messages"]] == [(last + 1, "lost on the way")]
    await operator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_call_whose_socket_went_away_mid_call_still_commits_and_broadcasts(claimed):
    """A database call cannot be stopped once its thread runs it: when the socket's task
    is cancelled meanwhile (the socket closed), the call ends, and what it committed is
    still broadcast to the chat before the cancellation goes on."""
    chat, _token, _alice = claimed
    layer = get_channel_layer()
    listener = await layer.new_channel()
    await layer.group_add(events.chat_group(chat.pk), listener)
    started, release = threading.Event(), threading.Event()

    def slow_send():
        started.set()
        release.wait(5)
        return services.message_send(
            chat_id=chat.pk, body="late", client_id="slow", sender="patron"
        )

    call = asyncio.ensure_future(socket_db(slow_send)())
    assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    call.cancel()
    await asyncio.sleep(0.05)
    assert not call.done()  # waiting for the call, not abandoning it
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await call
    envelope = await asyncio.wait_for(layer.receive(listener), 5)
    assert envelope["event"]["message"]["client_id"] == "slow"
    last = await database_sync_to_async(lambda: chat.messages.order_by("seq").last().client_id)()
    assert last == "slow"
