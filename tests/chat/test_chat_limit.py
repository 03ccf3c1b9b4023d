"""The operator's chat limit (issue 15, failure 11): set in the admin, enforced under the
operator's row lock for Claim Chat and for accepting a transfer; what counts is the
operator's active chats (not ended or closed ones)."""

import pytest
from channels.db import database_sync_to_async

from chat import services
from chat.exceptions import Conflict
from chat.models import Chat, Operator, Transfer
from chat.services import transfers
from tests.chat.staffing import bring_online
from tests.chat.test_consumers import receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat
from tests.racing import at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return DepartmentFactory(name="Reference Desk", slug="reference")


def librarian(department, username, limit):
    operator = OperatorFactory(
        user=UserFactory(username=username, first_name=username.capitalize()),
        departments=[department],
    )
    Operator.objects.filter(pk=operator.pk).update(max_chats=limit)
    return bring_online(operator)


def claim(chat, operator):
    return services.chat_claim(chat_id=chat.pk, operator=operator)


def active_of(operator):
    return Chat.objects.filter(operator=operator, status=Chat.Status.ACTIVE).count()


def test_a_third_claim_with_a_limit_of_two_is_refused_and_the_chat_waits(reference):
    alice = librarian(reference, "alice", 2)
    chats = [start_chat(reference, question=f"Question {i}")[0] for i in range(3)]
    claim(chats[0], alice)
    claim(chats[1], alice)
    with pytest.raises(Conflict) as refused:
        claim(chats[2], alice)
    assert refused.value.code == "chat_limit"
    assert refused.value.message == (
        "You have 2 active chats and your limit is 2. End or transfer a chat before claiming "
        "another."
    )
    chats[2].refresh_from_db()
    assert (chats[2].status, chats[2].operator_id) == ("waiting", None)
    assert active_of(alice) == 2
    assert not chats[2].messages.filter(body__endswith="has joined the chat.").exists()


def test_ended_and_closed_chats_do_not_count(reference):
    alice = librarian(reference, "alice", 1)
    first, second, third = (start_chat(reference, question=f"Q{i}")[0] for i in range(3))
    claim(first, alice)
    services.chat_end(chat_id=first.pk, by="patron")
    claim(second, alice)  # the ended chat no longer counts
    services.chat_end(chat_id=second.pk, by="operator", operator=alice)
    services.chat_close(chat_id=second.pk, operator=alice)
    claim(third, alice)
    assert active_of(alice) == 1


def test_no_limit_means_no_limit(reference):
    alice = librarian(reference, "alice", None)
    for i in range(5):
        claim(start_chat(reference, question=f"Q{i}")[0], alice)
    assert active_of(alice) == 5


def test_the_limit_set_in_the_admin_meanwhile_applies_to_a_stale_copy(reference):
    """A socket holds the operator it read at connect; the limit is read under the lock."""
    alice = librarian(reference, "alice", None)
    claim(start_chat(reference, question="Q0")[0], alice)
    Operator.objects.filter(pk=alice.pk).update(max_chats=1)  # alice's copy says None
    with pytest.raises(Conflict) as refused:
        claim(start_chat(reference, question="Q1")[0], alice)
    assert refused.value.code == "chat_limit"


def test_a_limit_of_zero_takes_no_chat(reference):
    alice = librarian(reference, "alice", 0)
    with pytest.raises(Conflict) as refused:
        claim(start_chat(reference)[0], alice)
    assert "You have 0 active chats and your limit is 0." in refused.value.message


def test_accepting_a_transfer_respects_the_receivers_limit(reference):
    alice = librarian(reference, "alice", None)
    bob = librarian(reference, "bob", 1)
    claim(start_chat(reference, question="Bob's own")[0], bob)
    offered, _ = start_chat(reference, question="Offered to Bob")
    claim(offered, alice)
    transfers.chat_transfer(chat_id=offered.pk, operator=alice, to_operator_id=bob.pk)
    with pytest.raises(Conflict) as refused:
        claim(offered, bob)
    assert refused.value.code == "chat_limit"
    offered.refresh_from_db()
    assert offered.operator_id == alice.pk  # still the sender's, still offered
    assert Transfer.objects.get(chat=offered).status == Transfer.Status.OFFERED
    assert active_of(bob) == 1


def test_a_chat_being_transferred_away_still_counts_for_its_sender(reference):
    alice = librarian(reference, "alice", 1)
    bob = librarian(reference, "bob", None)
    chat, _ = start_chat(reference, question="Mine")
    claim(chat, alice)
    transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=bob.pk)
    with pytest.raises(Conflict):
        claim(start_chat(reference, question="Another")[0], alice)
    claim(chat, bob)  # once Bob has it, it no longer counts for Alice
    claim(start_chat(reference, question="Another again")[0], alice)
    assert (active_of(alice), active_of(bob)) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_ten_claims_by_one_operator_at_once_stop_at_the_limit():
    """Different chats, so no chat lock serialises them: the operator's row lock does."""
    department = DepartmentFactory(slug="limit-race")
    alice = librarian(department, "alice", 3)
    chats = [start_chat(department, question=f"Race {i}")[0] for i in range(10)]
    results = at_once([lambda chat=chat: claim(chat, alice) for chat in chats])
    outcomes = [
        "claimed" if isinstance(result, Chat) else getattr(result, "code", repr(result))
        for result in results
    ]
    assert sorted(outcomes) == ["chat_limit"] * 7 + ["claimed"] * 3
    assert active_of(alice) == 3


@pytest.mark.django_db(transaction=True)
async def test_the_dashboard_socket_answers_a_claim_over_the_limit_with_an_error_frame():
    reference = await database_sync_to_async(DepartmentFactory)(slug="reference")
    alice = await database_sync_to_async(librarian)(reference, "alice", 1)
    first, _ = await database_sync_to_async(start_chat)(reference, question="First")
    second, _ = await database_sync_to_async(start_chat)(reference, question="Second")
    user = await database_sync_to_async(lambda: alice.user)()
    socket = await staff_socket(user)
    await receive_until(socket, "dashboard.state")
    await socket.send_json_to({"type": "chat.claim", "chat": str(first.public_id)})
    opened, _ = await receive_until(socket, "chat.opened")
    assert opened["chat"]["id"] == str(first.public_id)
    await socket.send_json_to({"type": "chat.claim", "chat": str(second.public_id), "ref": 7})
    error, _ = await receive_until(socket, "error")
    assert (error["code"], error["ref"]) == ("chat_limit", 7)
    assert error["message"].startswith("You have 1 active chat and your limit is 1.")
    await socket.disconnect()
    assert await database_sync_to_async(active_of)(alice) == 1
