"""Chat History's pages as a librarian reads them, and their query counts: the same
number whatever the number of results."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat.models import PatronBlock
from tests.factories import desk_admin_user, start_chat
from tests.history.conftest import answered_chat
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def login(client, operator):
    client.force_login(operator.user)
    return client


def results_of(html: str) -> list[str]:
    return re.findall(r'class="history-result-title"><a href="[^"]+">([^<]*)', html)


def test_search_page_lists_matches_with_marked_snippets(client, desk):
    answered_chat(
        desk["reference"], desk["alice"], ["Where are the <maps>?", "Floor 2."], name="Ann"
    )
    answered_chat(desk["reference"], desk["alice"], ["Renew a book"], name="Ben", client="b")
    html = (
        login(client, desk["alice"])
        .get(reverse("history:search"), {"words": "maps"})
        .content.decode()
    )
    assert results_of(html) == ["Ann"]
    assert "&lt;<mark>maps</mark>&gt;" in html
    assert "1 chat found" in html


def queries_for_search(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("history:search"), params)
    assert response.status_code == 200
    return len(queries)


def test_search_page_runs_a_fixed_number_of_queries(client, desk):
    login(client, desk["alice"])
    for i in range(2):
        answered_chat(
            desk["reference"], desk["alice"], [f"atlas question {i}", "answer"], client=f"a{i}"
        )
    few = queries_for_search(client, words="atlas")
    few_all = queries_for_search(client)
    for i in range(2, 20):
        chat = answered_chat(
            desk["reference"], desk["alice"], [f"atlas question {i}", "answer"], client=f"a{i}"
        )
        if i % 3 == 0:
            from tickets import services as ticket_services

            ticket_services.ticket_create_from_chat(
                chat_id=chat.pk, department=desk["reference"], actor=desk["alice"]
            )
    assert queries_for_search(client, words="atlas") == few
    assert queries_for_search(client) == few_all


def test_transcript_page_shows_conversation_audit_ticket_and_scope(client, desk):
    chat = answered_chat(
        desk["reference"],
        desk["alice"],
        ["Do you have the 1902 atlas?", "Yes, in Special Collections."],
        name="Ann",
        email="ann@example.org",
    )
    from tickets import services as ticket_services

    ticket = ticket_services.ticket_create_from_chat(
        chat_id=chat.pk, department=desk["reference"], actor=desk["alice"]
    )
    html = (
        login(client, desk["alice"])
        .get(reverse("history:transcript", args=[chat.public_id]))
        .content.decode()
    )
    log = html.split('role="log"')[1].split("</ol>")[0]
    assert log.index("Do you have the 1902 atlas?") < log.index("Yes, in Special Collections.")
    assert ticket.reference in html and "Claimed" in html and "Ended" in html
    # Carmen works in Special Collections only: not her department's chat.
    client.force_login(desk["carmen"].user)
    assert client.get(reverse("history:transcript", args=[chat.public_id])).status_code == 404


def test_desk_admin_sees_every_department(client, desk):
    answered_chat(desk["special"], desk["carmen"], ["A manuscript"], name="Rae")
    from tests.factories import OperatorFactory

    admin = OperatorFactory(user=desk_admin_user("dana"))
    client.force_login(admin.user)
    assert results_of(client.get(reverse("history:search")).content.decode()) == ["Rae"]


def test_create_a_ticket_and_email_transcript_from_history(
    client, desk, mailoutbox, django_capture_on_commit_callbacks
):
    chat = answered_chat(
        desk["reference"], desk["alice"], ["Question"], name="Ann", email="ann@example.org"
    )
    login(client, desk["alice"])
    response = client.post(
        reverse("history:create_ticket", args=[chat.public_id]),
        {"department": desk["special"].pk, "notes": "Over to you"},
    )
    ticket = Ticket.objects.get(chat=chat)
    assert ticket.department == desk["special"]
    assert response["Location"] == reverse("tickets:detail", args=[ticket.reference])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("history:email", args=[chat.public_id]), {"email": ""}, follow=True
        )
    assert "The transcript is on its way to ann@example.org." in response.content.decode()
    assert [m.to for m in mailoutbox] == [["ann@example.org"]]
    assert "Question" in mailoutbox[0].body


def test_patron_context_counts_earlier_chats_and_tickets(client, desk):
    answered_chat(
        desk["reference"], desk["alice"], ["First visit"], email="ann@example.org", client="x"
    )
    answered_chat(
        desk["special"], desk["carmen"], ["Elsewhere"], email="ann@example.org", client="y"
    )
    chat, _ = start_chat(
        desk["reference"], question="Back again", email="Ann@Example.org", client_id="z"
    )
    login(client, desk["alice"])
    data = client.get(reverse("history:patron_context", args=[chat.public_id])).json()
    # Only what Alice may read: her department's chat, not Special Collections'.
    assert (data["earlier_chats"], data["tickets"]) == (1, 0)
    html = client.get(data["url"]).content.decode()
    assert "First visit" not in html  # a list of chats by date, not their words
    assert html.count('href="/history/chats/') == 2  # the earlier chat, and "This chat"


def test_block_from_dashboard_needs_a_reason_and_is_recorded(client, desk):
    chat, _ = start_chat(desk["reference"])
    chat.refresh_from_db()
    login(client, desk["alice"])
    url = reverse("history:block_from_dashboard", args=[chat.public_id])
    assert client.post(url, {"reason": ""}, content_type="application/json").status_code == 400
    # The chat of start_chat has no address (made without a request): nothing to block.
    assert (
        client.post(url, {"reason": "spam"}, content_type="application/json").json()["code"]
        == "no_address"
    )
    assert PatronBlock.objects.count() == 0


def test_chat_history_in_spanish(client, desk):
    """A librarian whose browser asks for Spanish reads the search form's labels and
    choices, and the page's messages, in Spanish."""
    chat = answered_chat(
        desk["reference"], desk["alice"], ["Pregunta"], name="Ana", email="ana@example.org"
    )
    login(client, desk["alice"])
    spanish = {"HTTP_ACCEPT_LANGUAGE": "es"}
    html = client.get(reverse("history:search"), **spanish).content.decode()
    for label in ("Palabras de la conversación", "Nombre o correo electrónico del usuario"):
        assert f">{label}</label>" in html
    assert re.search(r'<option value="yes">Sí</option>\s*<option value="no">No</option>', html)
    assert "Tiene un registro en Reference Analytics" in html
    response = client.post(
        reverse("history:create_ticket", args=[chat.public_id]), {"notes": "x"}, **spanish
    )
    html = client.get(response["Location"], **spanish).content.decode()
    assert "Elija una cola para el caso." in html
