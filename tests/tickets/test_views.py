"""The ticket desk's pages and endpoints: scoping, filters, escaping, the widget's
offline form and email request, the webhook's secret, attachment downloads."""

import json

import pytest
from django.core import mail
from django.urls import reverse

from chat import services as chat_services
from tests.factories import offline_ticket, start_chat
from tests.tickets.conftest import sample_mail
from tickets import services
from tickets.models import Ticket, TicketAttachment

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("x")</script>'


@pytest.fixture
def carmen_client(client, carmen):
    client.force_login(carmen.user)
    return client


def test_the_desk_needs_a_logged_in_operator(client, carmen):
    assert client.get("/tickets/").status_code == 302
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="clerk", is_staff=False))
    assert client.get("/tickets/").status_code == 403


def test_operators_see_only_their_departments_tickets(
    carmen_client, special, reference_desk, alice
):
    mine = offline_ticket(special, question="Special question")
    theirs = offline_ticket(reference_desk, question="Reference question")
    page = carmen_client.get("/tickets/").content.decode()
    assert mine.reference in page and theirs.reference not in page
    assert carmen_client.get(f"/tickets/{theirs.reference}/").status_code == 404
    assert carmen_client.get(f"/tickets/{mine.reference}/").status_code == 200
    response = carmen_client.post(f"/tickets/{theirs.reference}/note", {"body": "sneaky"})
    assert response.status_code == 404
    assert not theirs.messages.filter(kind="note").exists()


def test_superuser_sees_all(client, superuser_operator, special, reference_desk):
    tickets = [offline_ticket(special), offline_ticket(reference_desk)]
    client.force_login(superuser_operator.user)
    page = client.get("/tickets/").content.decode()
    assert all(t.reference in page for t in tickets)


def test_filters_and_search(carmen_client, carmen, special):
    assigned = offline_ticket(special, question="Maps of 1910")
    services.ticket_assign(ticket_id=assigned.pk, actor=carmen, assignee=carmen)
    unassigned = offline_ticket(special, question="Letters of Ada")
    closed = offline_ticket(special, question="Closed matter")
    services.ticket_set_status(ticket_id=closed.pk, actor=carmen, status="closed")

    def listed(**params):
        page = carmen_client.get("/tickets/", params).content.decode()
        return {t.reference for t in (assigned, unassigned, closed) if t.reference in page}

    assert listed() == {assigned.reference, unassigned.reference, closed.reference}
    assert listed(view="mine") == {assigned.reference}
    assert listed(view="unassigned") == {unassigned.reference, closed.reference}
    assert listed(status="closed") == {closed.reference}
    assert listed(department=special.pk, status="open") == {
        assigned.reference,
        unassigned.reference,
    }
    assert listed(q="ada") == {unassigned.reference}
    assert listed(q=closed.reference) == {closed.reference}
    assert "1 open ticket assigned to me" in carmen_client.get("/tickets/").content.decode()


def test_the_list_runs_a_fixed_number_of_queries(
    carmen_client, carmen, special, django_assert_max_num_queries, django_assert_num_queries
):
    for n in range(3):
        offline_ticket(special, question=f"Q{n}")
    with django_assert_max_num_queries(12) as few:
        carmen_client.get("/tickets/")
    for n in range(12):
        ticket = offline_ticket(special, question=f"More {n}")
        services.ticket_assign(ticket_id=ticket.pk, actor=carmen, assignee=carmen)
    with django_assert_num_queries(len(few.captured_queries)):
        response = carmen_client.get("/tickets/")
    assert response.content.decode().count("LD-") >= 15


def test_the_ticket_page_shows_patron_text_as_text(
    carmen_client, carmen, special, django_assert_max_num_queries
):
    ticket = offline_ticket(special, question=PAYLOAD, name=PAYLOAD, email="pat@example.org")
    services.ticket_receive_email(raw=sample_mail("attachment_reply.eml", ticket.reference))
    services.ticket_add_note(ticket_id=ticket.pk, actor=carmen, body="note " + PAYLOAD)
    with django_assert_max_num_queries(20):
        page = carmen_client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert PAYLOAD not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "page 12.pdf" in page and "evil.html" in page


def test_reply_from_the_page_is_emailed_and_its_status_shown(
    carmen_client, special, django_capture_on_commit_callbacks
):
    ticket = offline_ticket(special, email="pat@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = carmen_client.post(f"/tickets/{ticket.reference}/reply", {"body": "Found it!"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox if "Found it!" in m.body] == [["pat@example.org"]]
    page = carmen_client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Email: Sent" in page


def test_a_failed_reply_is_visible_with_its_error(carmen_client, carmen, special):
    ticket = offline_ticket(special, email="pat@example.org")
    reply = services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body="Won't arrive")
    services.reply_record_failure(
        message_id=reply.pk, error="SMTPServerDisconnected: gone", final=True
    )
    page = carmen_client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Email: Failed" in page and "SMTPServerDisconnected: gone" in page
    assert "Send again" in page


def test_forms_assign_queue_status_and_errors(carmen_client, carmen, special, reference_desk):
    ticket = offline_ticket(special)
    base = f"/tickets/{ticket.reference}"
    assert carmen_client.post(f"{base}/assign", {"assignee": carmen.pk}).status_code == 302
    assert carmen_client.post(f"{base}/status", {"status": "pending"}).status_code == 302
    assert carmen_client.post(f"{base}/note", {"body": ""}).status_code == 400
    assert carmen_client.post(f"{base}/status", {"status": "bogus"}).status_code == 400
    assert carmen_client.post(f"{base}/queue", {"department": reference_desk.pk}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.department, ticket.assignee) == ("pending", reference_desk, None)


def test_attachments_download_only_as_attachments_and_only_in_scope(
    carmen_client, client, alice, special
):
    ticket = offline_ticket(special)
    services.ticket_receive_email(raw=sample_mail("attachment_reply.eml", ticket.reference))
    evil = TicketAttachment.objects.get(filename="evil.html")
    response = carmen_client.get(reverse("tickets:attachment", args=[evil.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="evil.html"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        b"".join(response.streaming_content).strip() == b"<script>alert(document.cookie)</script>"
    )
    client.force_login(alice.user)  # Reference Desk only
    assert client.get(reverse("tickets:attachment", args=[evil.pk])).status_code == 404


def test_dashboard_summary_and_create_from_chat(client, alice, carmen, special, reference_desk):
    client.force_login(alice.user)
    summary = client.get("/tickets/api/summary").json()
    queues = {q["name"]: q for q in summary["queues"]}
    assert queues["Special Collections"]["operators"] == [{"id": carmen.pk, "name": "Carmen"}]
    assert summary["assigned_open"] == 0

    chat, _ = start_chat(reference_desk, email="pat@example.org")
    chat_services.chat_claim(chat_id=chat.pk, operator=alice)
    body = {
        "chat": str(chat.public_id),
        "department": special.pk,
        "assignee": carmen.pk,
        "notes": "n",
    }
    response = client.post(
        "/tickets/api/from-chat", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    data = response.json()
    ticket = Ticket.objects.get()
    assert data == {
        "ticket": ticket.reference,
        "url": f"/tickets/{ticket.reference}/",
        "department": "Special Collections",
        "email_requested": False,
    }
    bad = {**body, "department": 999999}
    assert (
        client.post(
            "/tickets/api/from-chat", json.dumps(bad), content_type="application/json"
        ).status_code
        == 400
    )


def test_create_from_chat_needs_csrf(alice, reference_desk, special):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice.user)
    chat, _ = start_chat(reference_desk)
    body = json.dumps({"chat": str(chat.public_id), "department": special.pk})
    assert (
        csrf_client.post(
            "/tickets/api/from-chat", body, content_type="application/json"
        ).status_code
        == 403
    )


def test_offline_question_endpoint(client, special, carmen, settings):
    url = f"/tickets/widget/{special.slug}/question"
    good = {"name": "Pat", "email": "pat@example.org", "question": "Hours on Sunday?"}
    response = client.post(url, json.dumps(good), content_type="application/json")
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {"ticket": ticket.reference}
    assert (ticket.department, ticket.source) == (special, "offline_form")

    bot = {**good, "email": "bot@example.org", "website": "http://spam.example"}
    response = client.post(url, json.dumps(bot), content_type="application/json")
    assert response.status_code == 201 and response.json() == {"ticket": None}
    assert Ticket.objects.count() == 1  # the honeypot stored nothing

    bad = {**good, "email": "nope"}
    assert (
        client.post(url, json.dumps(bad), content_type="application/json").json()["code"]
        == "bad_email"
    )

    settings.TICKETS = {**settings.TICKETS, "OFFLINE_FORM_LIMIT": 1}
    other = {**good, "email": "other@example.org"}  # same IP (the test client's)
    response = client.post(url, json.dumps(other), content_type="application/json")
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert (
        client.post(
            "/tickets/widget/no-such-dept/question", "{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_patron_email_request_endpoints(client, alice, reference_desk, special):
    chat, token = start_chat(reference_desk, email="")
    chat_services.chat_claim(chat_id=chat.pk, operator=alice)

    def needed():
        body = json.dumps({"token": token})
        return client.post(
            "/tickets/widget/email-needed", body, content_type="application/json"
        ).json()

    assert needed() == {"needed": False}
    ticket = services.ticket_create_from_chat(chat_id=chat.pk, department=special, actor=alice)
    assert needed() == {
        "needed": True,
        "ticket": ticket.reference,
        "department": "Special Collections",
    }

    def post(body):
        return client.post(
            "/tickets/widget/email", json.dumps(body), content_type="application/json"
        )

    assert post({"token": "wrong", "email": "a@example.org"}).status_code == 403
    assert post({"token": token, "email": "nope"}).json()["code"] == "bad_email"
    response = post({"token": token, "email": "pat@example.org"})
    assert response.json() == {"tickets": [ticket.reference]}
    ticket.refresh_from_db()
    assert ticket.patron_email == "pat@example.org"
    assert needed() == {"needed": False}


def test_the_webhook_refuses_a_wrong_or_missing_secret(client, special, settings):
    ticket = offline_ticket(special)
    raw = sample_mail("quoted_reply.eml", ticket.reference)
    url = "/tickets/inbound/email"
    assert client.post(url, raw, content_type="message/rfc822").status_code == 403
    wrong = client.post(url, raw, content_type="message/rfc822", HTTP_X_LIBDESK_SECRET="nope")
    assert wrong.status_code == 403
    assert ticket.messages.count() == 1
    ok = client.post(
        url, raw, content_type="message/rfc822", HTTP_X_LIBDESK_SECRET="s3cret-for-tests"
    )
    assert ok.status_code == 201
    assert ok.json() == {"stored": True, "duplicate": False, "ticket": ticket.reference}
    assert ticket.messages.count() == 2
    # The same Message-ID again: acknowledged (the gateway may forget it), stored once.
    again = client.post(
        url, raw, content_type="message/rfc822", HTTP_X_LIBDESK_SECRET="s3cret-for-tests"
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert ticket.messages.count() == 2
    settings.TICKETS = {**settings.TICKETS, "INBOUND_SECRET": ""}
    assert (
        client.post(url, raw, content_type="message/rfc822", HTTP_X_LIBDESK_SECRET="").status_code
        == 403
    )


WEBHOOK = "/tickets/inbound/email"


def _big_reply(ticket, size: int) -> bytes:
    """A reply carrying a base64 attachment of about ``size`` bytes."""
    import base64

    blob = base64.encodebytes(b"\x89PNG" + b"x" * size)
    return (
        (
            f"From: pat@example.org\r\nSubject: Re: [{ticket.reference}] scan\r\n"
            f"Message-ID: <big-{size}@example.org>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nThe scan, as promised.\r\n"
            "--B\r\nContent-Type: image/png; name=scan.png\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        + blob
        + b"--B--\r\n"
    )


def test_the_webhook_takes_mail_up_to_30_mb_and_answers_413_above(client, special, settings):
    ticket = offline_ticket(special)
    settings.TICKETS = {**settings.TICKETS, "MAX_ATTACHMENT_BYTES": 10 * 1024 * 1024}
    secret = {"HTTP_X_LIBDESK_SECRET": "s3cret-for-tests"}
    # Over Django's 2.5 MB DATA_UPLOAD_MAX_MEMORY_SIZE, within the documented maximum.
    raw = _big_reply(ticket, 4 * 1024 * 1024)
    assert len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    stored = client.post(WEBHOOK, raw, content_type="message/rfc822", **secret)
    assert stored.status_code == 201
    message = ticket.messages.get(email_message_id=f"<big-{4 * 1024 * 1024}@example.org>")
    assert message.body == "The scan, as promised."
    assert message.attachments.get().filename == "scan.png"
    too_big = client.post(
        WEBHOOK, _big_reply(ticket, 23 * 1024 * 1024), content_type="message/rfc822", **secret
    )
    assert too_big.status_code == 413
    # Every other view keeps Django's limit.
    offline = client.post(
        f"/tickets/widget/{special.slug}/question",
        b'{"question": "' + b"a" * (3 * 1024 * 1024) + b'"}',
        content_type="application/json",
    )
    assert offline.status_code == 400


def test_the_ticket_page_folds_the_quote_and_offers_the_original(carmen_client, special):
    ticket = offline_ticket(special)
    raw = sample_mail("quoted_reply.eml", ticket.reference)
    message = services.ticket_receive_email(raw=raw)
    assert message.quoted  # the quoted history is kept
    page = carmen_client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "<summary>Show quoted text</summary>" in page
    assert "Original email" in page
    download = carmen_client.get(f"/tickets/emails/{message.pk}/original")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"
    assert b"".join(download.streaming_content) == raw
