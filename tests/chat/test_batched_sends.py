"""Several chats' messages sent at once (chat.services.batched_sends): on PostgreSQL one
statement stores them; whatever it cannot settle gets message_send's own answer. What
is stored, refused and broadcast is what one message_send each gives."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.consumers.sends import SendBatches
from chat.exceptions import Conflict, Forbidden, InvalidInput, RateLimited
from chat.models import Chat, Message
from chat.services.batched_sends import messages_send
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(user=UserFactory(username="alice"), departments=[reference])
    bob = OperatorFactory(user=UserFactory(username="bob"), departments=[reference])
    chats = []
    for i in range(6):
        chat, _token = start_chat(reference, question=f"q{i}", client_id=f"first-{i}")
        if i < 4:
            services.chat_claim(chat_id=chat.pk, operator=alice)
        chats.append(chat)
    return chats, alice, bob


def _by_patron(chat_pk, client_id, body):
    return {"chat_id": chat_pk, "body": body, "client_id": client_id, "sender": "patron"}


def _by_operator(chat_pk, operator, client_id, body):
    return {**_by_patron(chat_pk, client_id, body), "sender": "operator", "operator": operator}


def _seqs(chat):
    return list(Message.objects.filter(chat=chat).order_by("seq").values_list("seq", flat=True))


def test_several_chats_messages_are_stored_by_one_statement_on_postgresql(desk, captured_events):
    chats, alice, _bob = desk
    requests = [
        _by_operator(chats[0].pk, alice, "a0", "to 0"),
        _by_patron(chats[1].pk, "p1", "from 1"),
        _by_operator(chats[2].pk, alice, "a2", "to 2"),
        _by_patron(chats[4].pk, "p4", "still waiting"),
    ]
    with CaptureQueriesContext(connection) as captured:
        results = messages_send(requests)
    if connection.vendor == "postgresql":
        assert len(captured) == 1 and captured[0]["sql"].startswith("WITH"), (
            captured.captured_queries
        )
    for request, (message, created) in zip(requests, results, strict=True):
        assert created and message.chat_id == request["chat_id"]
        stored = Message.objects.get(pk=message.pk)
        assert (stored.seq, stored.body, stored.client_id, stored.sender, stored.operator_id) == (
            message.seq,
            request["body"],
            request["client_id"],
            request["sender"],
            alice.pk if request["sender"] == "operator" else None,
        )
        assert stored.created_at == message.created_at
        assert Chat.objects.get(pk=request["chat_id"]).last_seq == message.seq
    # The claimed chats: question (1), claim line (2), this message (3); the waiting one: 2.
    assert [message.seq for message, _created in results] == [3, 3, 3, 2]
    broadcast = [event for _groups, event in captured_events if event["type"] == "message.new"]
    assert sorted(event["message"]["body"] for event in broadcast) == sorted(
        request["body"] for request in requests
    )
    assert {event["chat"] for event in broadcast} == {str(chats[i].public_id) for i in (0, 1, 2, 4)}


def test_what_one_statement_refuses_gets_message_sends_own_answer(desk, settings):
    chats, alice, bob = desk
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 2}
    services.chat_end(chat_id=chats[3].pk, by="patron")
    services.message_send(chat_id=chats[1].pk, body="one", client_id="p1-1", sender="patron")
    services.message_send(chat_id=chats[1].pk, body="two", client_id="p1-2", sender="patron")
    before = {chat.pk: _seqs(chat) for chat in chats}
    results = messages_send(
        [
            _by_operator(chats[0].pk, bob, "b0", "not mine"),
            _by_patron(chats[1].pk, "p1-3", "three"),
            _by_operator(chats[2].pk, alice, "a2", "stored"),
            _by_patron(chats[3].pk, "p3", "too late"),
            _by_operator(chats[4].pk, alice, "a4", "not claimed"),
            _by_patron(chats[5].pk, "p5", "   "),
        ]
    )
    assert isinstance(results[0], Forbidden)
    assert isinstance(results[1], RateLimited)
    message, created = results[2]
    assert created and message.body == "stored"
    assert isinstance(results[3], Conflict) and results[3].code == "chat_ended"
    assert isinstance(results[4], Conflict) and results[4].code == "chat_not_active"
    assert isinstance(results[5], InvalidInput)
    # Nothing but the one message was written, and no number was used up.
    after = {chat.pk: _seqs(chat) for chat in chats}
    assert after[chats[2].pk] == [*before[chats[2].pk], message.seq]
    assert {pk: seqs for pk, seqs in after.items() if pk != chats[2].pk} == {
        pk: seqs for pk, seqs in before.items() if pk != chats[2].pk
    }
    for chat in chats:
        assert Chat.objects.get(pk=chat.pk).last_seq == len(after[chat.pk])


def test_a_retried_client_id_in_a_batch_is_answered_with_the_stored_message(desk):
    chats, alice, _bob = desk
    first, _created = services.message_send(
        chat_id=chats[0].pk,
        body="sent before",
        client_id="again",
        sender="operator",
        operator=alice,
    )
    results = messages_send(
        [
            _by_operator(chats[0].pk, alice, "again", "sent before"),
            _by_patron(chats[1].pk, "n1", "new"),
            _by_patron(chats[2].pk, "n2", "new too"),
        ]
    )
    again, created = results[0]
    assert not created and again.pk == first.pk and again.seq == first.seq
    assert all(created for _message, created in results[1:])
    for chat in chats[:3]:
        seqs = _seqs(chat)
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, nothing doubled
        assert Chat.objects.get(pk=chat.pk).last_seq == len(seqs)
    assert Message.objects.filter(chat=chats[0], client_id="again").count() == 1


def test_one_message_per_chat(desk):
    chats, _alice, _bob = desk
    twice = {"chat_id": chats[1].pk, "body": "x", "sender": "patron"}
    with pytest.raises(ValueError):
        messages_send([{**twice, "client_id": "x1"}, {**twice, "client_id": "x2"}])
    assert _seqs(chats[1]) == [1, 2]


# --- SendBatches: the sends of a process that wait at the same moment go in one call ---


async def test_sends_queued_behind_a_running_call_go_in_the_next_call_together(desk):
    chats, _alice, _bob = desk
    batches = SendBatches(calls=1, size=32)
    # One call at a time: the first send runs alone, the four behind it wait for it and
    # then go together; a second message of one chat waits for the call after that.
    sends = [
        batches.send(**_by_patron(chat.pk, f"b-{i}", "hi")) for i, chat in enumerate(chats[:5])
    ]
    sends.append(batches.send(**_by_patron(chats[1].pk, "b-1-again", "and again")))
    results = await asyncio.gather(*sends)
    assert all(created for _message, created in results)
    stored = await database_sync_to_async(
        lambda: {m.client_id: m for m in Message.objects.filter(client_id__startswith="b-")}
    )()
    assert set(stored) == {"b-0", "b-1", "b-2", "b-3", "b-4", "b-1-again"}
    assert stored["b-1-again"].seq == stored["b-1"].seq + 1  # in the order sent
    for message, _created in results:
        assert stored[message.client_id].seq == message.seq
    if connection.vendor == "postgresql":
        # One statement stored the four that waited together: one moment for all four.
        together = {stored[f"b-{i}"].created_at for i in range(1, 5)}
        assert len(together) == 1 and stored["b-0"].created_at not in together


async def test_a_send_whose_socket_went_away_before_its_call_is_dropped(desk):
    chats, _alice, _bob = desk
    batches = SendBatches(calls=1, size=32)
    first = asyncio.ensure_future(batches.send(**_by_patron(chats[0].pk, "kept", "hi")))
    gone = asyncio.ensure_future(batches.send(**_by_patron(chats[1].pk, "dropped", "hi")))
    await asyncio.sleep(0)
    gone.cancel()  # what Daphne does to a closed socket's consumer
    message, created = await first
    assert created and message.client_id == "kept"
    await asyncio.sleep(0.2)
    exists = await database_sync_to_async(
        lambda: Message.objects.filter(client_id="dropped").exists()
    )()
    assert not exists and gone.cancelled()


async def test_each_send_of_a_call_gets_its_own_answer(desk):
    chats, alice, _bob = desk
    batches = SendBatches(calls=1, size=32)
    await database_sync_to_async(services.chat_end)(chat_id=chats[2].pk, by="patron")
    results = await asyncio.gather(
        batches.send(**_by_patron(chats[0].pk, "ok-0", "hi")),
        batches.send(**_by_patron(chats[1].pk, "ok-1", "hi")),
        batches.send(**_by_patron(chats[2].pk, "ended", "hi")),
        batches.send(
            chat_id=chats[3].pk, body="x", client_id="y", sender="operator", operator=None
        ),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == ["tuple", "tuple", "Conflict", "Forbidden"]


def test_the_message_statements_are_prepared_once_a_connection_has_run_them(desk):
    """PostgreSQL: a single send's statement and a batch's are bound on the server, so
    psycopg prepares each shape after a few uses and PostgreSQL plans it once; a batch
    of any size is the same one statement; what they store is what Django's
    client-bound cursors stored (same rows, seqs, times)."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    chats, alice, _bob = desk
    for k in range(7):
        services.message_send(**_by_patron(chats[1].pk, f"one-{k}", f"alone {k}"))
        batch = [
            _by_operator(chats[0].pk, alice, f"a-{k}", f"to 0 #{k}"),
            _by_patron(chats[2].pk, f"p-{k}", f"from 2 #{k}"),
            *([_by_patron(chats[3].pk, f"q-{k}", f"from 3 #{k}")] if k % 2 else []),
        ]
        assert all(result[1] for result in messages_send(batch))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("INSERT INTO" in s and "unnest" not in s for s in prepared), prepared
    assert len({s for s in prepared if "unnest" in s}) == 1, prepared  # one text, any size
    assert [m.body for m in Message.objects.filter(chat=chats[3]).order_by("seq")][-3:] == [
        "from 3 #1",
        "from 3 #3",
        "from 3 #5",
    ]
    stored = Message.objects.filter(chat=chats[1], client_id__startswith="one-").order_by("seq")
    assert [m.body for m in stored] == [f"alone {k}" for k in range(7)]
    assert all(m.created_at.tzinfo is not None for m in stored)
    assert _seqs(chats[2])[-7:] == list(range(_seqs(chats[2])[-7], _seqs(chats[2])[-1] + 1))


def test_each_refusal_in_a_batch_is_worded_in_its_own_sockets_language(desk):
    """One batch serves sockets of several languages: a refused request's words are its
    socket's, and the others are stored as usual."""
    chats, _alice, _bob = desk
    results = messages_send(
        [
            {**_by_patron(chats[0].pk, "es-empty", "   "), "language": "es"},
            {**_by_patron(chats[1].pk, "en-empty", "   "), "language": "en"},
            {**_by_patron(chats[2].pk, "es-ok", "hola"), "language": "es"},
        ]
    )
    assert [str(r.message) for r in results[:2]] == [
        "Un mensaje no puede estar vacío.",
        "A message cannot be empty.",
    ]
    assert results[2][0].body == "hola"
    assert [m.body for m in Message.objects.filter(chat=chats[2], client_id="es-ok")] == ["hola"]
