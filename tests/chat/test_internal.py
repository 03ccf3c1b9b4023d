"""Internal chat: staff to staff or to a department, the first reply answers it, "about
this chat" transcripts, and patrons never see any of it (issue 4)."""

import threading

import pytest
from django.db import connection

from chat import selectors, services
from chat.exceptions import Conflict, InvalidInput, NotFound
from chat.models import InternalChat, InternalChatArchive, InternalMessage, Operator
from chat.services import internal
from chat.services.internal import AlreadyAnswered
from tests.chat.staffing import bring_online, events_of
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    carmen = OperatorFactory(
        user=UserFactory(username="carmen", first_name="Carmen"), departments=[special]
    )
    dan = OperatorFactory(user=UserFactory(username="dan", first_name="Dan"), departments=[special])
    for operator in (alice, carmen, dan):
        bring_online(operator)
    return {
        "reference": reference,
        "special": special,
        "alice": alice,
        "carmen": carmen,
        "dan": dan,
    }


def test_a_chat_to_a_department_reaches_it_and_the_first_reply_answers_it(
    desk, captured_events, django_capture_on_commit_callbacks
):
    alice, carmen, dan, special = desk["alice"], desk["carmen"], desk["dan"], desk["special"]
    with django_capture_on_commit_callbacks(execute=True):
        started = internal.internal_start(
            operator=alice,
            to_department_id=special.pk,
            body="Can you take a rare-books question?",
            client_id="i-1",
        )
    groups, event = events_of(captured_events, "internal.started")[0]
    assert set(groups) == {f"operator-{alice.pk}", f"dept-{special.pk}"}
    assert (
        event["internal"]["to_label"] == "Special Collections"
        and event["internal"]["answered_by"] is None
    )
    groups, event = events_of(captured_events, "internal.message")[0]
    assert (
        f"dept-{special.pk}" in groups
        and event["message"]["body"] == "Can you take a rare-books question?"
    )

    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message, created = internal.internal_send(
            internal_id=started.pk, operator=carmen, body="Yes, send it over.", client_id="c-1"
        )
    assert created and message.seq == 2
    started.refresh_from_db()
    assert started.answered_by == carmen
    groups, event = events_of(captured_events, "internal.answered")[0]
    assert (
        f"dept-{special.pk}" in groups and event["by"]["name"] == "Carmen"
    )  # Dan sees who took it
    groups, _ = events_of(captured_events, "internal.message")[0]
    assert set(groups) == {
        f"operator-{alice.pk}",
        f"operator-{carmen.pk}",
    }  # no longer the whole department

    with pytest.raises(AlreadyAnswered) as raised:
        internal.internal_send(
            internal_id=started.pk, operator=dan, body="I can too", client_id="d-1"
        )
    assert "Carmen has already answered" in raised.value.message
    again, created = internal.internal_send(
        internal_id=started.pk, operator=carmen, body="Yes, send it over.", client_id="c-1"
    )
    assert not created and again.seq == 2  # a retried frame stores nothing new
    assert list(started.messages.values_list("seq", flat=True)) == [1, 2]


def test_refusals(desk):
    alice, special, reference = desk["alice"], desk["special"], desk["reference"]
    with pytest.raises(InvalidInput):
        internal.internal_start(operator=alice, to_operator_id=alice.pk)
    with pytest.raises(Conflict) as raised:
        internal.internal_start(
            operator=alice, to_department_id=reference.pk
        )  # only Alice is online there
    assert raised.value.code == "offline"
    services.presence_set(operator=desk["carmen"], status="offline")
    with pytest.raises(Conflict):
        internal.internal_start(operator=alice, to_operator_id=desk["carmen"].pk)
    outsider = OperatorFactory(departments=[reference])
    started = internal.internal_start(operator=alice, to_department_id=special.pk)
    with pytest.raises(NotFound):  # not in Special Collections
        internal.internal_send(internal_id=started.pk, operator=outsider, body="hi", client_id="x")
    assert InternalChat.objects.count() == 1


def test_close_and_one_to_one(desk):
    alice, carmen = desk["alice"], desk["carmen"]
    started = internal.internal_start(
        operator=alice, to_operator_id=carmen.pk, body="Hi Carmen", client_id="a"
    )
    internal.internal_send(internal_id=started.pk, operator=carmen, body="Hi!", client_id="b")
    started.refresh_from_db()
    assert started.answered_by == carmen
    with pytest.raises(NotFound):
        internal.internal_send(
            internal_id=started.pk, operator=desk["dan"], body="me too", client_id="c"
        )
    internal.internal_close(internal_id=started.pk, operator=carmen)
    with pytest.raises(Conflict):
        internal.internal_send(
            internal_id=started.pk, operator=alice, body="one more", client_id="d"
        )


def test_about_a_patron_chat_needs_to_see_that_chat(desk):
    alice, carmen, special = desk["alice"], desk["carmen"], desk["special"]
    chat, _ = start_chat(desk["reference"])
    with pytest.raises(NotFound):  # Carmen cannot reference a Reference Desk chat she cannot see
        internal.internal_start(operator=carmen, to_operator_id=alice.pk, about_chat=chat)
    started = internal.internal_start(operator=alice, to_department_id=special.pk, about_chat=chat)
    assert started.about_chat == chat


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_replies_have_exactly_one_winner():
    source = DepartmentFactory(slug="i-race-from")
    target = DepartmentFactory(slug="i-race-to")
    sender = bring_online(OperatorFactory(departments=[source]))
    receivers = [bring_online(OperatorFactory(departments=[target])) for _ in range(6)]
    started = internal.internal_start(
        operator=sender, to_department_id=target.pk, body="Anyone?", client_id="q"
    )
    barrier = threading.Barrier(len(receivers))
    results = []

    def reply(operator):
        try:
            barrier.wait()
            internal.internal_send(
                internal_id=started.pk, operator=operator, body="Me", client_id=f"r{operator.pk}"
            )
            results.append("won")
        except AlreadyAnswered:
            results.append("lost")
        except Exception as error:  # anything else fails the test below, visibly
            results.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=reply, args=(op,)) for op in receivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["lost"] * 5 + ["won"]
    assert InternalMessage.objects.filter(chat=started).count() == 2


# --- Archive (issue 20): per operator, back on a new message, the Archived view ---------


def _listed(operator):
    return [summary["id"] for summary in selectors.dashboard_internal(operator)]


def test_a_closed_chat_stays_listed_until_each_colleague_archives_it(
    desk, captured_events, django_capture_on_commit_callbacks
):
    alice, carmen = desk["alice"], desk["carmen"]
    started = internal.internal_start(
        operator=alice, to_operator_id=carmen.pk, body="Hi Carmen", client_id="a"
    )
    internal.internal_send(internal_id=started.pk, operator=carmen, body="Hi!", client_id="b")
    internal.internal_close(internal_id=started.pk, operator=alice)
    public_id = str(started.public_id)
    (closed,) = selectors.dashboard_internal(alice)
    assert closed["id"] == public_id and closed["closed"] is True
    assert _listed(desk["dan"]) == []  # not one of the two: nothing to archive

    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        internal.internal_archive(internal_id=started.pk, operator=alice)
    assert captured_events == [
        (
            [f"operator-{alice.pk}"],
            {"type": "internal.archived", "internal": public_id, "operator": alice.pk},
        )
    ]
    assert _listed(alice) == [] and _listed(carmen) == [public_id]  # Carmen's is hers
    archived = selectors.archived_internal(alice)
    assert archived["total"] == 1
    assert [(c["id"], c["to_label"], c["closed"]) for c in archived["chats"]] == [
        (public_id, "Carmen", True)
    ]
    assert selectors.archived_internal(carmen) == {"chats": [], "total": 0}

    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):  # twice: nothing more
        internal.internal_archive(internal_id=started.pk, operator=alice)
    assert captured_events == []
    assert InternalChatArchive.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        internal.internal_unarchive(internal_id=started.pk, operator=alice)
    ((groups, event),) = captured_events
    assert groups == [f"operator-{alice.pk}"] and event["type"] == "internal.unarchived"
    assert event["operator"] == alice.pk and event["internal"]["id"] == public_id
    assert _listed(alice) == [public_id]
    assert selectors.archived_internal(alice)["total"] == 0


def test_a_new_message_brings_an_archived_open_chat_back_to_whom_it_reaches(
    desk, captured_events, django_capture_on_commit_callbacks
):
    alice, carmen, dan, special = desk["alice"], desk["carmen"], desk["dan"], desk["special"]
    started = internal.internal_start(
        operator=alice, to_department_id=special.pk, body="Anyone for rare books?", client_id="a"
    )
    public_id = str(started.public_id)
    for operator in (carmen, dan):  # before an answer it is in both their lists
        internal.internal_archive(internal_id=started.pk, operator=operator)
    assert _listed(carmen) == [] and _listed(dan) == []

    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        internal.internal_send(
            internal_id=started.pk, operator=alice, body="Still there?", client_id="b"
        )
    # Each is told, before the message that would otherwise have nowhere to go.
    assert [(groups, event["type"]) for groups, event in captured_events] == [
        ([f"operator-{carmen.pk}"], "internal.unarchived"),
        ([f"operator-{dan.pk}"], "internal.unarchived"),
        ([f"operator-{alice.pk}", f"dept-{special.pk}"], "internal.message"),
    ]
    assert captured_events[0][1]["internal"]["last_seq"] == 2
    assert _listed(carmen) == [public_id] and _listed(dan) == [public_id]

    # Carmen answers; Dan, who only reads it now, archives it: Alice's next message
    # reaches Alice and Carmen only, and Dan's list stays as he chose.
    internal.internal_send(internal_id=started.pk, operator=carmen, body="Me!", client_id="c")
    internal.internal_archive(internal_id=started.pk, operator=dan)
    internal.internal_archive(internal_id=started.pk, operator=carmen)
    internal.internal_send(internal_id=started.pk, operator=alice, body="Thanks", client_id="d")
    assert _listed(carmen) == [public_id] and _listed(dan) == []
    assert [c["id"] for c in selectors.archived_internal(dan)["chats"]] == [public_id]


def test_archive_refusals(desk):
    alice, carmen = desk["alice"], desk["carmen"]
    started = internal.internal_start(operator=alice, to_operator_id=carmen.pk)
    with pytest.raises(NotFound):  # Dan cannot see a chat between Alice and Carmen
        internal.internal_archive(internal_id=started.pk, operator=desk["dan"])
    with pytest.raises(NotFound):
        internal.internal_unarchive(internal_id=started.pk, operator=desk["dan"])
    internal.internal_unarchive(internal_id=started.pk, operator=alice)  # not archived: no-op
    assert InternalChatArchive.objects.count() == 0 and _listed(alice) == [str(started.public_id)]


def test_the_archived_view_lists_the_most_recently_archived_first_capped_with_a_count(
    desk, django_assert_num_queries
):
    alice, carmen, dan = desk["alice"], desk["carmen"], desk["dan"]
    for colleague in (carmen, dan, carmen):
        started = internal.internal_start(operator=alice, to_operator_id=colleague.pk)
        internal.internal_close(internal_id=started.pk, operator=alice)
        internal.internal_archive(internal_id=started.pk, operator=alice)
    alice = Operator.objects.select_related("user").get(pk=alice.pk)  # as the socket has it
    with django_assert_num_queries(3):
        archived = selectors.archived_internal(alice, limit=2)
    assert archived["total"] == 3
    assert [c["to_label"] for c in archived["chats"]] == ["Carmen", "Dan"]  # newest first
    assert archived["chats"][0]["archived_at"] > archived["chats"][1]["archived_at"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_chats_closed_before_it_out_of_the_lists():
    """Until 0012 a closed internal chat left every list; after it a closed chat stays
    until archived. The ones closed before are archived, when they were closed, for the
    colleagues who were in them, and the open ones are left as they were."""
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before, after = [("chat", "0011_languages")], [("chat", "0012_internal_chat_archive")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    department = old.get_model("chat", "Department").objects.create(name="Maps", slug="maps")
    user_model = old.get_model("auth", "User")
    operator_model = old.get_model("chat", "Operator")
    alice, bob = (
        operator_model.objects.create(user=user_model.objects.create(username=name))
        for name in ("alice", "bob")
    )
    internal_model = old.get_model("chat", "InternalChat")
    closed_at = timezone.now()
    closed = internal_model.objects.create(
        created_by=alice, to_operator=bob, answered_by=bob, closed_at=closed_at
    )
    unanswered = internal_model.objects.create(
        created_by=alice, to_department=department, closed_at=closed_at
    )
    still_open = internal_model.objects.create(created_by=alice, to_operator=bob)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    archived = sorted(
        InternalChatArchive.objects.values_list("internal_chat_id", "operator_id", "archived_at")
    )
    assert archived == sorted(
        [
            (closed.pk, alice.pk, closed_at),
            (closed.pk, bob.pk, closed_at),
            (unanswered.pk, alice.pk, closed_at),
        ]
    )
    assert not InternalChatArchive.objects.filter(internal_chat_id=still_open.pk).exists()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
