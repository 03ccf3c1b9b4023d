import threading

import pytest
from django.db import connection

from chat import selectors, services
from chat.exceptions import AlreadyClaimed, Conflict, Forbidden, InvalidInput
from chat.models import Chat, ChatAudit, Message, Operator
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return DepartmentFactory(name="Reference Desk", slug="reference")


@pytest.fixture
def alice(reference):
    return OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )


def test_chat_start_makes_a_waiting_chat_with_the_question_as_message_one(
    reference, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        chat, token = start_chat(reference, question="  Do you have atlases?  ", name="Pat")
    assert chat.status == Chat.Status.WAITING
    assert chat.token_matches(token) and not chat.token_matches(token + "x")
    assert token not in chat.patron_token_digest  # only a digest is stored
    [message] = chat.messages.all()
    assert (message.seq, message.sender, message.body) == (1, "patron", "Do you have atlases?")
    types = [event["type"] for _, event in captured_events]
    assert types == ["message.new", "chat.waiting", "queue.changed"]
    groups, waiting = captured_events[1]
    assert groups == [f"dept-{reference.pk}"]
    assert waiting["chat"]["preview"] == "Do you have atlases?"
    assert captured_events[2][1]["waiting"] == [chat.pk]


def test_page_url_is_kept_without_its_query_string(reference):
    chat, _ = services.chat_start(
        department=reference, question="Hi", page_url="https://lib.example/find?q=secret#x"
    )
    assert chat.page_url == "https://lib.example/find"


@pytest.mark.parametrize(
    "question, code", [("", "empty"), ("   ", "empty"), (None, "invalid"), ("x" * 5000, "too_long")]
)
def test_chat_start_refuses_bad_questions_and_creates_nothing(reference, question, code):
    with pytest.raises(InvalidInput) as error:
        services.chat_start(department=reference, question=question)
    assert error.value.code == code
    assert Chat.objects.count() == 0


def test_chat_start_refuses_a_bad_email(reference):
    with pytest.raises(InvalidInput):
        services.chat_start(department=reference, question="Hi", patron_email="not an email")


def test_resending_a_client_id_never_makes_a_second_message(
    reference, captured_events, django_capture_on_commit_callbacks
):
    chat, _ = start_chat(reference)
    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = services.message_send(
            chat_id=chat.pk, body="hello", client_id="c-42", sender=Message.Sender.PATRON
        )
        again, created_again = services.message_send(
            chat_id=chat.pk, body="hello", client_id="c-42", sender=Message.Sender.PATRON
        )
    assert created_first and not created_again
    assert again.pk == first.pk and again.seq == 2
    assert chat.messages.filter(client_id="c-42").count() == 1
    # The retry broadcasts the stored message again (its first broadcast may have been
    # lost); same seq, so consumers drop it where it already went out.
    assert [(e["type"], e["message"]["seq"]) for _, e in captured_events] == [
        ("message.new", 2)
    ] * 2


def test_sequence_numbers_are_gapless_and_in_order(reference, alice):
    chat, _ = start_chat(reference)
    services.chat_claim(chat_id=chat.pk, operator=alice)
    for i in range(5):
        services.message_send(chat_id=chat.pk, body=f"p{i}", client_id=f"p{i}", sender="patron")
        services.message_send(
            chat_id=chat.pk, body=f"o{i}", client_id=f"o{i}", sender="operator", operator=alice
        )
    seqs = list(chat.messages.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 13))  # question, join notice, 10 messages
    chat.refresh_from_db()
    assert chat.last_seq == 12
    assert [m.seq for m in selectors.messages_after(chat, 10)] == [11, 12]


def test_claim_makes_the_chat_active_writes_an_audit_row_and_tells_everyone(
    reference, alice, captured_events, django_capture_on_commit_callbacks
):
    chat, _ = start_chat(reference)
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_claim(chat_id=chat.pk, operator=alice)
    chat.refresh_from_db()
    assert chat.status == "active" and chat.operator == alice and chat.claimed_at
    audit = ChatAudit.objects.get(chat=chat, action="claimed")
    assert audit.actor == alice.user and audit.to_operator == alice
    claimed = [(g, e) for g, e in captured_events if e["type"] == "chat.claimed"]
    assert claimed == [
        (
            [f"dept-{reference.pk}", f"chat-{chat.pk}"],
            {
                "type": "chat.claimed",
                "chat": str(chat.public_id),
                "operator": {"id": alice.pk, "name": "Alice"},
            },
        )
    ]
    assert chat.messages.last().body == "Alice has joined the chat."


def test_a_second_claim_loses(reference, alice):
    bob = OperatorFactory(departments=[reference])
    chat, _ = start_chat(reference)
    services.chat_claim(chat_id=chat.pk, operator=alice)
    with pytest.raises(AlreadyClaimed):
        services.chat_claim(chat_id=chat.pk, operator=bob)
    chat.refresh_from_db()
    assert chat.operator == alice


def test_operators_only_reach_chats_of_their_departments(reference, alice):
    other = DepartmentFactory(name="Archives", slug="archives")
    chat, _ = start_chat(other)
    assert selectors.chat_for_staff(alice, str(chat.public_id)) is None
    with pytest.raises(Forbidden):
        services.chat_claim(chat_id=chat.pk, operator=alice)
    superuser = OperatorFactory(user=UserFactory(is_superuser=True))
    assert selectors.chat_for_staff(superuser, str(chat.public_id)).pk == chat.pk
    assert [c["id"] for c in selectors.dashboard_chats(alice)["waiting"]] == []
    assert [c["id"] for c in selectors.dashboard_chats(superuser)["waiting"]] == [
        str(chat.public_id)
    ]


def test_only_the_claiming_operator_writes_and_only_while_active(reference, alice):
    bob = OperatorFactory(departments=[reference])
    chat, _ = start_chat(reference)
    with pytest.raises(Conflict):
        services.message_send(
            chat_id=chat.pk, body="hi", client_id="o1", sender="operator", operator=alice
        )
    services.chat_claim(chat_id=chat.pk, operator=alice)
    with pytest.raises(Forbidden):
        services.message_send(
            chat_id=chat.pk, body="hi", client_id="b1", sender="operator", operator=bob
        )
    services.chat_end(chat_id=chat.pk, by="patron")
    with pytest.raises(Conflict):
        services.message_send(chat_id=chat.pk, body="late", client_id="p9", sender="patron")


def test_end_then_close(reference, alice, captured_events, django_capture_on_commit_callbacks):
    chat, _ = start_chat(reference)
    services.chat_claim(chat_id=chat.pk, operator=alice)
    with pytest.raises(Conflict):
        services.chat_close(chat_id=chat.pk, operator=alice)  # End Chat comes first
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_end(chat_id=chat.pk, by="operator", operator=alice)
        services.chat_end(chat_id=chat.pk, by="operator", operator=alice)  # a retry is harmless
        services.chat_close(chat_id=chat.pk, operator=alice)
    chat.refresh_from_db()
    assert chat.status == "closed" and chat.ended_by == "operator"
    assert [e["type"] for _, e in captured_events].count("chat.ended") == 1
    assert "closed" in list(chat.audit.values_list("action", flat=True))
    assert selectors.dashboard_chats(alice)["mine"] == []


def test_patron_ending_a_waiting_chat_takes_it_out_of_the_queue(reference):
    first, _ = start_chat(reference, client_id="a")
    second, _ = start_chat(reference, client_id="b")
    assert selectors.queue_position(second) == 2
    services.chat_end(chat_id=first.pk, by="patron")
    second.refresh_from_db()
    assert selectors.queue_position(second) == 1
    assert selectors.waiting_chat_ids(reference.pk) == [second.pk]


def test_presence_online_needs_a_live_dashboard(reference, alice):
    assert not selectors.department_is_online(reference)
    services.presence_set(operator=alice, status="online")
    assert not selectors.department_is_online(reference)  # no dashboard open
    services.connection_open(operator=alice, channel_name="chan-1")
    assert selectors.department_is_online(reference)
    services.connection_close(channel_name="chan-1")
    services.presence_reconcile(operator_id=alice.pk)
    alice.refresh_from_db()
    assert alice.status == Operator.Status.OFFLINE
    assert not selectors.department_is_online(reference)


def test_presence_refuses_unknown_status(alice):
    with pytest.raises(InvalidInput):
        services.presence_set(operator=alice, status="sleeping")


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_claims_have_exactly_one_winner():
    department = DepartmentFactory(slug="race")
    operators = [OperatorFactory(departments=[department]) for _ in range(10)]
    chat, _ = start_chat(department)
    barrier = threading.Barrier(len(operators))
    results = []

    def claim(operator):
        try:
            barrier.wait()
            services.chat_claim(chat_id=chat.pk, operator=operator)
            results.append(("won", operator.pk))
        except AlreadyClaimed:
            results.append(("lost", operator.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(op,)) for op in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [pk for outcome, pk in results if outcome == "won"]
    assert len(results) == 10 and len(winners) == 1
    chat.refresh_from_db()
    assert chat.operator_id == winners[0]
    assert ChatAudit.objects.filter(chat=chat, action="claimed").count() == 1
    assert chat.messages.filter(sender="system").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_get_distinct_gapless_sequence_numbers():
    department = DepartmentFactory(slug="seq-race")
    chat, _ = start_chat(department)
    barrier = threading.Barrier(8)

    def send(i):
        barrier.wait()
        try:
            services.message_send(chat_id=chat.pk, body=f"m{i}", client_id=f"m{i}", sender="patron")
            services.message_send(chat_id=chat.pk, body=f"m{i}", client_id=f"m{i}", sender="patron")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = sorted(chat.messages.values_list("seq", flat=True))
    assert seqs == list(range(1, 10))
