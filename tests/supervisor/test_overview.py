"""The supervisor's view: who may open it, what it shows (live chats, who is on, the
hours nobody answered), and its query count, the same whatever the desk's size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat import services
from chat.models import Membership
from supervisor import selectors
from tests.chat.staffing import bring_online
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    desk_admin_user,
    named_operator,
    offline_ticket,
    start_chat,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = named_operator("alice", [reference])
    carmen = named_operator("carmen", [special])
    Membership.objects.filter(operator=carmen).update(role=Membership.Role.ADMIN)
    return {"reference": reference, "special": special, "alice": alice, "carmen": carmen}


def test_plain_operators_may_not_open_it(client, desk):
    client.force_login(desk["alice"].user)
    response = client.get(reverse("supervisor:overview"))
    assert response.status_code == 403
    assert "for Desk admins and Department admins" in response.content.decode()
    assert client.get(reverse("supervisor:live")).status_code == 403


def test_a_department_admin_sees_their_departments_chats_and_staff(client, desk):
    bring_online(desk["carmen"], channel="c1")
    rare, _ = start_chat(desk["special"], question="Rare book", name="Rae", client_id="r")
    start_chat(desk["reference"], question="Elsewhere", name="Ref", client_id="e")
    services.chat_claim(chat_id=rare.pk, operator=desk["carmen"])
    start_chat(desk["special"], question="Second", name="Sid", client_id="s")
    client.force_login(desk["carmen"].user)
    live = client.get(reverse("supervisor:live")).json()
    assert [(c["patron"], c["status"], c["operator"]) for c in live["chats"]] == [
        ("Rae", "active", "Carmen"),
        ("Sid", "waiting", ""),
    ]
    assert [(s["name"], s["status"], s["active_chats"]) for s in live["staff"]] == [
        ("Carmen", "online", 1)
    ]
    html = client.get(reverse("supervisor:overview")).content.decode()
    assert "Rae" in html and "Ref" not in html


def test_coverage_counts_unanswered_chats_and_offline_questions_by_hour(desk):
    gone, _ = start_chat(desk["reference"], question="Hello?", client_id="g")
    services.chat_end(chat_id=gone.pk, by="patron")
    answered, _ = start_chat(desk["reference"], question="Hi", client_id="a")
    services.chat_claim(chat_id=answered.pk, operator=desk["alice"])
    services.chat_end(chat_id=answered.pk, by="patron")
    offline_ticket(desk["reference"])
    offline_ticket(desk["special"])
    gaps = selectors.coverage_gaps(None)
    assert sorted((g["department"], g["abandoned"], g["offline"]) for g in gaps) == [
        ("Reference Desk", 1, 1),
        ("Special Collections", 0, 1),
    ]
    assert selectors.coverage_gaps([desk["special"].pk])[0]["department"] == "Special Collections"


def count_queries(client, name):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name)).status_code == 200
    return len(queries)


def add_activity(desk, n, tag):
    for i in range(n):
        department = desk["reference"] if i % 2 else desk["special"]
        colleague = bring_online(OperatorFactory(departments=[department]), channel=f"{tag}-{i}")
        chat, _ = start_chat(department, question=f"q {tag} {i}", client_id=f"{tag}{i}")
        services.chat_claim(chat_id=chat.pk, operator=colleague)
        start_chat(department, question=f"w {tag} {i}", client_id=f"w{tag}{i}")
        gone, _ = start_chat(department, question=f"g {tag} {i}", client_id=f"g{tag}{i}")
        services.chat_end(chat_id=gone.pk, by="patron")
        offline_ticket(department)


def test_pages_run_a_fixed_number_of_queries(client, desk):
    admin = OperatorFactory(user=desk_admin_user("dana"))
    client.force_login(admin.user)
    add_activity(desk, 2, "a")
    overview, live = (
        count_queries(client, "supervisor:overview"),
        count_queries(client, "supervisor:live"),
    )
    add_activity(desk, 8, "b")
    assert count_queries(client, "supervisor:overview") == overview
    assert count_queries(client, "supervisor:live") == live
