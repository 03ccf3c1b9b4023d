"""Transfers: offer, Claim Chat by the receiver (exactly one wins), decline, timeout,
and every refusal (issue 4)."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from chat import selectors, services, tasks
from chat.exceptions import AlreadyClaimed, Conflict, Forbidden, InvalidInput
from chat.models import Chat, ChatAudit, Transfer
from chat.services import transfers
from tests.chat.staffing import bring_online, events_of
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    bob = OperatorFactory(
        user=UserFactory(username="bob", first_name="Bob"), departments=[reference]
    )
    carmen = OperatorFactory(
        user=UserFactory(username="carmen", first_name="Carmen"), departments=[special]
    )
    for operator in (alice, carmen):
        bring_online(operator)
    chat, token = start_chat(reference, question="A 1790 letter?")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    chat.refresh_from_db()
    return {
        "reference": reference,
        "special": special,
        "alice": alice,
        "bob": bob,
        "carmen": carmen,
        "chat": chat,
    }


def bodies(chat):
    return list(chat.messages.order_by("seq").values_list("body", flat=True))


def test_offer_tells_the_patron_audits_and_reaches_the_department(
    desk, captured_events, django_capture_on_commit_callbacks
):
    chat, alice, special = desk["chat"], desk["alice"], desk["special"]
    with django_capture_on_commit_callbacks(execute=True):
        offer = transfers.chat_transfer(
            chat_id=chat.pk, operator=alice, to_department_id=special.pk, note="Rare letters"
        )
    assert offer.status == "offered"
    assert (
        bodies(chat)[-1]
        == "You're being transferred to Special Collections; your conversation stays here."
    )
    audit = ChatAudit.objects.filter(chat=chat).last()
    assert (audit.action, audit.outcome, audit.from_operator, audit.to_department, audit.note) == (
        "transferred",
        "offered",
        alice,
        special,
        "Rare letters",
    )
    groups, event = events_of(captured_events, "transfer.offered")[0]
    assert set(groups) == {f"operator-{alice.pk}", f"dept-{special.pk}"}
    assert event["transfer"]["from_operator"]["name"] == "Alice"
    assert (
        event["transfer"]["note"] == "Rare letters"
        and event["transfer"]["chat"]["preview"] == "A 1790 letter?"
    )
    chat.refresh_from_db()
    assert chat.status == "active" and chat.operator == alice  # the sender keeps it until a claim
    services.message_send(
        chat_id=chat.pk, body="One moment", client_id="o-1", sender="operator", operator=alice
    )


def test_the_receiver_claims_and_the_sender_can_read_but_not_write(
    desk, captured_events, django_capture_on_commit_callbacks
):
    chat, alice, carmen, special = desk["chat"], desk["alice"], desk["carmen"], desk["special"]
    transfers.chat_transfer(
        chat_id=chat.pk, operator=alice, to_department_id=special.pk, note="Letters"
    )
    assert selectors.operator_can_see_chat(carmen, chat)  # she may read it before claiming
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_claim(chat_id=chat.pk, operator=carmen)
    chat.refresh_from_db()
    assert (chat.operator, chat.department, chat.status) == (carmen, special, "active")
    assert bodies(chat)[0] == "A 1790 letter?"  # the history travels
    assert bodies(chat)[-1] == "Carmen has joined the chat."
    audit = ChatAudit.objects.filter(chat=chat, action="claimed").last()
    assert (audit.from_operator, audit.to_operator, audit.outcome, audit.note) == (
        alice,
        carmen,
        "accepted",
        "Letters",
    )
    assert Transfer.objects.get(chat=chat).status == "accepted"
    claimed_groups = events_of(captured_events, "chat.claimed")[0][0]
    assert f"chat-{chat.pk}" in claimed_groups and f"operator-{alice.pk}" in claimed_groups
    resolved = events_of(captured_events, "transfer.resolved")[0][1]
    assert resolved["transfer"]["status"] == "accepted" and resolved["by"]["name"] == "Carmen"
    with pytest.raises(Forbidden):
        services.message_send(
            chat_id=chat.pk, body="Still here?", client_id="a-2", sender="operator", operator=alice
        )
    assert selectors.operator_can_see_chat(alice, chat)  # read-only from now on
    services.message_send(
        chat_id=chat.pk,
        body="Hello, I'm Carmen",
        client_id="c-1",
        sender="operator",
        operator=carmen,
    )
    services.chat_end(chat_id=chat.pk, by="operator", operator=carmen)


def test_transfer_to_an_operator(desk):
    chat, alice, carmen = desk["chat"], desk["alice"], desk["carmen"]
    transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=carmen.pk)
    with pytest.raises(Conflict):  # the sender cannot claim their own offer
        services.chat_claim(chat_id=chat.pk, operator=alice)
    bring_online(desk["bob"])
    with pytest.raises(AlreadyClaimed):  # offered to Carmen, not to Bob
        services.chat_claim(chat_id=chat.pk, operator=desk["bob"])
    services.chat_claim(chat_id=chat.pk, operator=carmen)
    chat.refresh_from_db()
    assert chat.operator == carmen and chat.department == desk["reference"]
    services.chat_end(chat_id=chat.pk, by="operator", operator=carmen)
    services.chat_close(chat_id=chat.pk, operator=carmen)


def test_decline_returns_the_chat_to_its_sender(
    desk, captured_events, django_capture_on_commit_callbacks
):
    chat, alice, carmen = desk["chat"], desk["alice"], desk["carmen"]
    transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=carmen.pk)
    with pytest.raises(Forbidden):
        transfers.transfer_decline(chat_id=chat.pk, operator=alice)
    with django_capture_on_commit_callbacks(execute=True):
        transfers.transfer_decline(chat_id=chat.pk, operator=carmen)
    chat.refresh_from_db()
    assert chat.operator == alice and Transfer.objects.get(chat=chat).status == "declined"
    assert bodies(chat)[-1] == "The transfer did not go through: Alice is still with you."
    assert ChatAudit.objects.filter(chat=chat).last().outcome == "declined"
    groups, event = events_of(captured_events, "transfer.resolved")[0]
    assert f"operator-{alice.pk}" in groups and event["transfer"]["status"] == "declined"
    with pytest.raises(AlreadyClaimed):
        services.chat_claim(chat_id=chat.pk, operator=carmen)
    with pytest.raises(Conflict):
        transfers.transfer_decline(chat_id=chat.pk, operator=carmen)
    services.message_send(
        chat_id=chat.pk, body="Back to me", client_id="a-3", sender="operator", operator=alice
    )


def test_an_unclaimed_transfer_expires_back_to_its_sender(desk, settings):
    settings.LIBDESK = {**settings.LIBDESK, "TRANSFER_TIMEOUT_SECONDS": 60}
    chat, alice, carmen = desk["chat"], desk["alice"], desk["carmen"]
    offer = transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=carmen.pk)
    # The production task runs early (eager mode runs it at once): it changes nothing.
    assert tasks.transfer_expire(offer.pk) is False
    assert transfers.expire_due(now=timezone.now() + timedelta(seconds=59)) == 0
    assert transfers.expire_due(now=timezone.now() + timedelta(seconds=61)) == 1
    offer.refresh_from_db()
    assert offer.status == "expired"
    assert bodies(chat)[-1] == "The transfer did not go through: Alice is still with you."
    assert ChatAudit.objects.filter(chat=chat).last().action == "transfer_expired"
    with pytest.raises(AlreadyClaimed):
        services.chat_claim(chat_id=chat.pk, operator=carmen)
    assert transfers.expire_due(now=timezone.now() + timedelta(hours=1)) == 0  # once


def test_the_sweep_command_expires_overdue_transfers(desk):
    chat = desk["chat"]
    offer = transfers.chat_transfer(
        chat_id=chat.pk, operator=desk["alice"], to_operator_id=desk["carmen"].pk
    )
    Transfer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("desk_sweep")
    offer.refresh_from_db()
    assert offer.status == "expired"


def test_refused_transfers(desk):
    chat, alice, bob, carmen, special = (
        desk["chat"],
        desk["alice"],
        desk["bob"],
        desk["carmen"],
        desk["special"],
    )
    cases = [
        (dict(operator=alice, to_operator_id=alice.pk), InvalidInput, "transfer_to_self"),
        (dict(operator=alice, to_operator_id=bob.pk), Conflict, "offline"),  # Bob is offline
        (dict(operator=bob, to_operator_id=carmen.pk), Forbidden, "forbidden"),  # not his chat
        (dict(operator=alice), InvalidInput, "invalid"),
    ]
    for kwargs, error, code in cases:
        with pytest.raises(error) as raised:
            transfers.chat_transfer(chat_id=chat.pk, **kwargs)
        assert raised.value.code == code
    services.presence_set(operator=carmen, status="away")
    with pytest.raises(Conflict) as raised:
        transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_department_id=special.pk)
    assert (
        raised.value.code == "offline"
        and "Nobody in Special Collections is online" in raised.value.message
    )
    # Her own department, where nobody else is online, is refused as well.
    with pytest.raises(Conflict):
        transfers.chat_transfer(
            chat_id=chat.pk, operator=alice, to_department_id=desk["reference"].pk
        )
    bring_online(carmen)
    transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=carmen.pk)
    with pytest.raises(Conflict) as raised:
        transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_department_id=special.pk)
    assert raised.value.code == "transfer_pending"
    assert Transfer.objects.filter(chat=chat).count() == 1
    assert ChatAudit.objects.filter(chat=chat, action="transferred").count() == 1


def test_an_ended_or_waiting_chat_cannot_be_transferred(desk):
    chat, alice, carmen = desk["chat"], desk["alice"], desk["carmen"]
    services.chat_end(chat_id=chat.pk, by="patron")
    with pytest.raises(Conflict) as raised:
        transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=carmen.pk)
    assert raised.value.code == "chat_ended"
    waiting, _ = start_chat(desk["reference"], client_id="w")
    with pytest.raises(Conflict) as raised:
        transfers.chat_transfer(chat_id=waiting.pk, operator=alice, to_operator_id=carmen.pk)
    assert raised.value.code == "chat_not_active"


def test_an_offer_to_a_chat_that_ends_meanwhile_cannot_be_claimed(desk):
    chat, alice, carmen = desk["chat"], desk["alice"], desk["carmen"]
    transfers.chat_transfer(chat_id=chat.pk, operator=alice, to_operator_id=carmen.pk)
    services.chat_end(chat_id=chat.pk, by="patron")
    with pytest.raises(Conflict):
        services.chat_claim(chat_id=chat.pk, operator=carmen)
    assert transfers.expire_due(now=timezone.now() + timedelta(hours=1)) == 1
    assert Chat.objects.get(pk=chat.pk).status == "ended"


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_claims_of_a_transferred_chat_have_exactly_one_winner():
    reference = DepartmentFactory(slug="t-race-from")
    target = DepartmentFactory(slug="t-race-to")
    sender = OperatorFactory(departments=[reference])
    receivers = [OperatorFactory(departments=[target]) for _ in range(10)]
    for operator in [sender, *receivers]:
        bring_online(operator)
    chat, _ = start_chat(reference)
    services.chat_claim(chat_id=chat.pk, operator=sender)
    transfers.chat_transfer(chat_id=chat.pk, operator=sender, to_department_id=target.pk)
    barrier = threading.Barrier(len(receivers))
    results = []

    def claim(operator):
        try:
            barrier.wait()
            services.chat_claim(chat_id=chat.pk, operator=operator)
            results.append(("won", operator.pk))
        except AlreadyClaimed:
            results.append(("lost", operator.pk))
        except Exception as error:  # anything else fails the test below, visibly
            results.append((repr(error), operator.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(op,)) for op in receivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [pk for outcome, pk in results if outcome == "won"]
    assert sorted(outcome for outcome, _ in results) == ["lost"] * 9 + ["won"]
    chat.refresh_from_db()
    assert chat.operator_id == winners[0] and chat.department == target
    assert ChatAudit.objects.filter(chat=chat, action="claimed", outcome="accepted").count() == 1
    assert (
        chat.messages.filter(body__endswith="has joined the chat.").count() == 2
    )  # sender, winner
    assert Transfer.objects.get(chat=chat).resolved_by_id == winners[0]


def test_the_audit_trail_is_shown_on_the_chat_in_the_admin(desk, client):
    chat, alice, carmen, special = desk["chat"], desk["alice"], desk["carmen"], desk["special"]
    transfers.chat_transfer(
        chat_id=chat.pk, operator=alice, to_department_id=special.pk, note="Maps of 1790"
    )
    services.chat_claim(chat_id=chat.pk, operator=carmen)
    admin = UserFactory(username="root", is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/chat/chat/{chat.pk}/change/").content.decode()
    assert "Audit trail" in page
    for text in ("transferred", "offered", "accepted", "Special Collections", "Maps of 1790"):
        assert text in page
