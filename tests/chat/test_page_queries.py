"""The Chat Dashboard's first load runs the same number of queries whatever the data:
the page itself, and the ``dashboard.state`` the staff socket sends on connect (built by
the consumer's ``_staff_open`` and ``staff_state_extras``, called here in this thread so
that their queries are counted on this test's connection)."""

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from chat import consumers, services
from chat.consumers.frames import staff_state_extras
from chat.services import internal, transfers
from tests.chat.staffing import bring_online
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference, special]
    )
    return {"departments": [reference, special], "alice": alice}


def add_desk_activity(desk, n, tag):
    """``n`` of everything the dashboard shows, across departments and operators: waiting
    chats, Alice's active and ended chats with several messages, closed chats, online
    colleagues, an internal chat and a transfer offered to Alice."""
    alice = desk["alice"]
    for i in range(n):
        department = desk["departments"][i % 2]
        colleague = bring_online(
            OperatorFactory(
                user=UserFactory(username=f"colleague-{tag}-{i}"), departments=[department]
            ),
            channel=f"chan-{tag}-{i}",
        )
        start_chat(department, question=f"Waiting {tag} {i}", client_id=f"w-{tag}-{i}")
        for state in ("active", "ended", "closed"):
            chat, _ = start_chat(department, question=f"{state} {tag} {i}")
            owner = colleague if state == "closed" else alice
            services.chat_claim(chat_id=chat.pk, operator=owner)
            for k in range(3):
                services.message_send(
                    chat_id=chat.pk,
                    body=f"reply {k}",
                    client_id=f"r{k}",
                    sender="operator",
                    operator=owner,
                )
            if state != "active":
                services.chat_end(chat_id=chat.pk, by="operator", operator=owner)
            if state == "closed":
                services.chat_close(chat_id=chat.pk, operator=owner)
        offered, _ = start_chat(department, question=f"Offered {tag} {i}")
        services.chat_claim(chat_id=offered.pk, operator=colleague)
        transfers.chat_transfer(chat_id=offered.pk, operator=colleague, to_operator_id=alice.pk)
        internal.internal_start(
            operator=colleague, to_operator_id=alice.pk, body=f"Help {tag} {i}", client_id="i"
        )


def sync(socket_call):
    """The plain function behind a socket's database call (``socket_db`` or Channels'
    ``database_sync_to_async``), to run it in this thread."""
    return getattr(socket_call, "__wrapped__", None) or socket_call.func


def socket_state(operator):
    """What StaffConsumer.connect builds for ``dashboard.state``, and the presence
    snapshots broadcast after its commits (read then: chat.events)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        department_ids, _mine, state = sync(consumers._staff_open)(operator, "test-page-queries")
        state.update(sync(staff_state_extras)(operator, department_ids))
        services.connection_close(channel_name="test-page-queries")
    return state


def count(call):
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return len(queries), result


def test_dashboard_page_runs_the_same_queries_with_five_times_the_chats(
    client, desk, django_assert_num_queries
):
    alice = bring_online(desk["alice"], channel="alice-chan")
    client.force_login(alice.user)
    add_desk_activity(desk, 1, "a")
    client.get("/dashboard/")  # first request of the session
    few, response = count(lambda: client.get("/dashboard/"))
    assert response.status_code == 200
    add_desk_activity(desk, 5, "b")
    with django_assert_num_queries(few):
        assert client.get("/dashboard/").status_code == 200


def test_dashboard_state_runs_the_same_queries_with_five_times_the_chats(
    desk, django_assert_num_queries
):
    alice = bring_online(desk["alice"], channel="alice-chan")
    add_desk_activity(desk, 1, "a")
    few, state = count(lambda: socket_state(alice))
    # Each thing read once (chat.selectors.dashboard_snapshot / dashboard_extras): 9
    # queries for the frame; the rest for connection_open (the stored status under the
    # operator's lock) and connection_close (savepoints included), and the presence
    # snapshots each broadcasts, read after its commit (6 queries each). Was 44: the
    # operator's departments read four times, every department's presence twice.
    assert few == 34
    assert len(state["waiting"]) == 1 and len(state["mine"]) == 2
    assert len(state["transfers"]) == 1 and len(state["internal"]) == 1
    add_desk_activity(desk, 5, "b")
    with django_assert_num_queries(few):
        state = socket_state(alice)
    assert len(state["waiting"]) == 6 and len(state["mine"]) == 12
    assert len(state["transfers"]) == 6 and len(state["internal"]) == 6
    # Alice in both her departments, and six colleagues.
    assert sum(len(d["online_operators"]) for d in state["departments"]) == 8
