"""The ticket list runs the same number of queries whatever the tickets, with a search
and with filters too (the default list's guard is in test_views.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OperatorFactory, UserFactory, offline_ticket
from tickets import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(special, reference_desk, carmen):
    """Carmen works in both queues, beside a colleague."""
    from chat.models import Membership

    Membership.objects.create(operator=carmen, department=reference_desk)
    colleague = OperatorFactory(
        user=UserFactory(username="dora", first_name="Dora"), departments=[special, reference_desk]
    )
    return {"queues": [special, reference_desk], "carmen": carmen, "colleague": colleague}


@pytest.fixture
def carmen_client(client, carmen):
    client.force_login(carmen.user)
    return client


def add_tickets(desk, n, tag):
    """``n`` tickets over both queues, every status, assigned to Carmen, to a colleague
    or nobody, each with a thread (replies, notes) and an audit trail."""
    carmen, colleague = desk["carmen"], desk["colleague"]
    for i in range(n):
        ticket = offline_ticket(
            desk["queues"][i % 2], question=f"Atlas question {tag} {i}", name=f"Pat {tag} {i}"
        )
        assignee = [carmen, colleague, None][i % 3]
        if assignee is not None:
            services.ticket_assign(ticket_id=ticket.pk, actor=carmen, assignee=assignee)
        services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body=f"Reply {i}")
        services.ticket_add_note(ticket_id=ticket.pk, actor=colleague, body=f"Note {i}")
        status = ["open", "pending", "closed"][i % 3]
        if status != "open":
            services.ticket_set_status(ticket_id=ticket.pk, actor=carmen, status=status)


@pytest.mark.parametrize(
    "query",
    [
        "?q=atlas",
        "?q=LD-000001",
        "?view=mine&status=pending",
        "?view=unassigned&status=open",
        "?department={special}&status=closed",
        "?page=2",
    ],
)
def test_the_list_runs_the_same_queries_with_five_times_the_tickets(
    carmen_client, desk, query, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 10)  # full pages with fewer tickets
    url = "/tickets/" + query.format(special=desk["queues"][0].pk)
    add_tickets(desk, 6, "a")
    carmen_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert carmen_client.get(url).status_code == 200
    add_tickets(desk, 24, "b")  # enough for a second page
    with django_assert_num_queries(len(few)):
        response = carmen_client.get(url)
    assert response.status_code == 200
    if query == "?q=atlas":
        assert response.content.decode().count("Atlas question") == 10  # one full page
