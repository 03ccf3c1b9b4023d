"""The live message path's cost and ordering: a message send is a fixed, small number of
statements; the sockets forward each seq once, in whatever order events arrive."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import events, services
from chat.consumer_support import SentSeqs
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
def test_a_message_is_one_update_and_one_insert(claimed):
    chat, _token, alice = claimed
    for kwargs in ({"sender": "patron"}, {"sender": "operator", "operator": alice}):
        with CaptureQueriesContext(connection) as captured:
            message, created = services.message_send(
                chat_id=chat.pk, body="hi", client_id=f"c-{kwargs['sender']}", **kwargs
            )
        assert created
        # The seq is taken by UPDATE ... RETURNING (which locks the row): no SELECT.
        assert _statements(captured)[-3:] == ["UPDATE", "INSERT", "COMMIT"], (
            captured.captured_queries
        )
        assert len(captured) <= 4  # + BEGIN on SQLite
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
