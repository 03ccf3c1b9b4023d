"""Script and markup payloads through every text a patron or staff member can enter,
verified inert in the server's output: HTML pages and fragments escape them, JSON
carries them as data, and the HTML parts of emails escape them.

(The browser side — no dialog, no element made from a payload — is tests/e2e/test_xss.py.)
"""

import json
import re
import uuid
from email.message import EmailMessage

import pytest
from django.core import mail
from django.test import Client
from django.utils.html import escape

from chat import events, selectors, services
from chat.models import Chat, Message
from chat.transcripts import build_email
from libdesk.celery import app as celery_app
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    UserFactory,
    canned_message,
    offline_ticket,
    record_interaction,
    start_chat,
)
from tickets import services as ticket_services
from tickets.models import Ticket

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "</textarea><b>x</b>",
]
# A dangerous URL in an attribute, or an element/handler made from a payload.
LIVE_MARKUP = re.compile(
    r"(href|src|action|formaction)\s*=\s*[\"']?\s*javascript:|<script>alert|<img src=x|<svg onload|"
    r"</textarea><b>",
    re.IGNORECASE,
)


def assert_inert_html(html: str, payload: str, where: str) -> None:
    """The payload is in the page as text (escaped), never as markup."""
    assert escape(payload) in html, f"{where}: the payload is missing (as text)"
    assert not LIVE_MARKUP.search(html), f"{where}: live markup {LIVE_MARKUP.search(html)[0]!r}"


@pytest.fixture(autouse=True)
def _mail_and_tasks(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TICKETS = {**settings.TICKETS, "INBOUND_SECRET": "s3cret-for-tests"}
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice", email="alice@library.example"),
        departments=[reference],
    )
    client = Client()
    client.force_login(alice.user)
    return reference, alice, client


def chat_with(payload, reference, alice, django_capture_on_commit_callbacks):
    """A whole chat in which the patron and the librarian both typed ``payload``."""
    with django_capture_on_commit_callbacks(execute=True):
        chat, _token = start_chat(
            reference, question=payload, name=payload, email="pat@example.org"
        )
        services.chat_claim(chat_id=chat.pk, operator=alice)
        services.message_send(
            chat_id=chat.pk, body=payload, client_id="o-1", sender="operator", operator=alice
        )
        services.message_send(chat_id=chat.pk, body=payload, client_id="p-1", sender="patron")
        services.chat_end(chat_id=chat.pk, by="operator", operator=alice)
    return Chat.objects.get(pk=chat.pk)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_chat_text_is_data_in_json_and_escaped_in_pages_and_emails(
    desk, payload, django_capture_on_commit_callbacks
):
    reference, alice, client = desk
    chat = chat_with(payload, reference, alice, django_capture_on_commit_callbacks)

    # Sockets and JSON: the very text, as data (the browser inserts it with textContent).
    bodies = [
        events.message_payload(m)["body"] for m in selectors.messages_after(chat, 0, limit=100)
    ]
    assert bodies.count(payload) == 3  # question, librarian, patron
    assert events.chat_summary(chat)["patron_name"] == payload
    response = client.get(f"/dashboard/canned/?chat={chat.public_id}")
    assert response["Content-Type"] == "application/json"

    # The after-chat Reference Analytics form: the question prefilled in a <textarea>.
    for url in (f"/analytics/chats/{chat.public_id}/form", f"/analytics/chats/{chat.public_id}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_inert_html(response.content.decode(), payload, url)

    # The emailed transcript: HTML part escaped (urlize links no javascript:).
    message = build_email(chat, "pat@example.org")
    html = message.alternatives[0][0]
    assert_inert_html(html, payload, "transcript email (HTML)")
    assert payload in message.body  # the plain-text part is the text itself


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ticket_texts_are_escaped_on_the_ticket_desk_and_in_emails(
    desk, payload, django_capture_on_commit_callbacks
):
    reference, alice, client = desk
    chat = chat_with(payload, reference, alice, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        from_chat = ticket_services.ticket_create_from_chat(
            chat_id=chat.pk, department=reference, actor=alice, assignee=alice, notes=payload
        )
        ticket_services.ticket_reply(ticket_id=from_chat.pk, actor=alice, body=payload)
        ticket_services.ticket_add_note(ticket_id=from_chat.pk, actor=alice, body=payload)
        offline = offline_ticket(reference, question=payload, name=payload)
    # An email whose subject, body and attachment file name are the payload.
    raw = EmailMessage()
    raw["From"] = "Pat <pat@example.org>"
    raw["To"] = f"desk+{offline.reference}@library.example"
    raw["Subject"] = payload
    raw["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    raw.set_content(payload)
    raw.add_attachment(b"data", maintype="application", subtype="octet-stream", filename=payload)
    response = Client().post(
        "/tickets/inbound/email",
        raw.as_bytes(),
        content_type="message/rfc822",
        HTTP_X_LIBDESK_SECRET="s3cret-for-tests",
    )
    assert response.status_code == 201
    attachment = offline.messages.filter(attachments__isnull=False).get().attachments.get()
    assert attachment.filename  # metadata only (the stored file has a random name)

    for url in ("/tickets/", f"/tickets/{from_chat.reference}/", f"/tickets/{offline.reference}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_inert_html(response.content.decode(), payload, url)
    assert escape(attachment.filename) in response.content.decode()
    download = client.get(f"/tickets/attachments/{attachment.pk}/")
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert not {"\n", "\r"} & set(download["Content-Disposition"])  # no header injection

    # The staff notification of a new ticket and the reply to the patron: HTML escaped.
    assert mail.outbox
    for message in mail.outbox:
        html = message.alternatives[0][0]
        assert not LIVE_MARKUP.search(html), f"{message.subject}: {LIVE_MARKUP.search(html)[0]!r}"
    replies = [m for m in mail.outbox if m.to == ["pat@example.org"]]
    assert replies and escape(payload) in replies[0].alternatives[0][0]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_canned_titles_and_bodies_are_escaped_on_pages_and_data_in_json(desk, payload):
    reference, alice, client = desk
    mine = canned_message(title=payload, body=payload, operator=alice)
    canned_message(title=payload, body=payload, department=reference)
    for url in (
        "/dashboard/canned/manage/",
        f"/dashboard/canned/manage/{mine.pk}/",
        f"/dashboard/canned/manage/{mine.pk}/delete/",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert_inert_html(response.content.decode(), payload, url)
    data = client.get("/dashboard/canned/").json()["canned"]
    assert {row["title"] for row in data} == {payload}
    expected_text = payload.replace("{{", "{").replace("}}", "}")  # {{ }} are literal braces
    assert {row["text"] for row in data} == {expected_text}
    # Created from the dashboard's JSON API too.
    response = client.post(
        "/dashboard/canned/",
        json.dumps({"title": payload, "body": payload}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["body"] == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_reference_analytics_texts_are_escaped(desk, payload):
    reference, alice, client = desk
    record_interaction(
        alice.user,
        department=reference,
        question=payload,
        answer=payload,
        note=payload,
        referred_by_text=payload[:100],
    )
    response = client.get("/analytics/new/", {"question": payload, "ticket": payload})
    assert_inert_html(response.content.decode(), payload, "/analytics/new/?question=")
    report = client.get("/analytics/", {"q": payload, "start": payload}).content.decode()
    assert not LIVE_MARKUP.search(report)
    export = client.get("/analytics/export.csv")
    assert export["Content-Type"].startswith("text/csv")
    assert export["Content-Disposition"].startswith("attachment;")
    assert payload in b"".join(export.streaming_content).decode()  # data, downloaded


def test_email_addresses_with_markup_are_refused_where_patrons_type_them(desk, settings):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "CHATS_PER_ADDRESS": 100}
    reference, alice, _ = desk
    services.presence_set(operator=alice, status="online")
    services.connection_open(operator=alice, channel_name="test-xss")
    for payload in [*PAYLOADS, "a@b.c<script>", "<b>@example.org"]:
        started = Client().post(
            "/widget/reference/chats",
            json.dumps({"question": "q", "email": payload}),
            content_type="application/json",
        )
        assert (started.status_code, started.json().get("code")) == (400, "bad_email"), payload
        offline = Client().post(
            "/tickets/widget/reference/question",
            json.dumps({"question": "q", "email": payload, "name": "n"}),
            content_type="application/json",
        )
        assert (offline.status_code, offline.json().get("code")) == (400, "bad_email"), payload
    assert not Ticket.objects.exists() and not Message.objects.exists()


# RFC 5321 allows a quoted local part: an address with markup in it is valid, so it
# must be escaped wherever it is shown.
QUOTED_EMAIL = '"<svg/onload=alert(1)>"@example.org'


def test_a_valid_email_address_with_markup_is_escaped_where_shown(
    desk, settings, django_capture_on_commit_callbacks
):
    reference, alice, client = desk
    services.presence_set(operator=alice, status="online")
    services.connection_open(operator=alice, channel_name="test-xss")
    started = Client().post(
        "/widget/reference/chats",
        json.dumps({"question": "Maps?", "email": QUOTED_EMAIL}),
        content_type="application/json",
    )
    assert started.status_code == 201
    chat = Chat.objects.get(public_id=started.json()["chat"])
    assert chat.patron_email == QUOTED_EMAIL
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_services.ticket_create_from_chat(
            chat_id=chat.pk, department=reference, actor=alice
        )
        offline = offline_ticket(reference, email=QUOTED_EMAIL)
    for url in ("/tickets/", f"/tickets/{ticket.reference}/", f"/tickets/{offline.reference}/"):
        html = client.get(url).content.decode()
        assert "<svg" not in html, url
    assert escape(QUOTED_EMAIL) in client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "<svg" not in build_email(chat, QUOTED_EMAIL).alternatives[0][0]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_internal_chat_messages_are_data(desk, payload, django_capture_on_commit_callbacks):
    internal = pytest.importorskip(
        "chat.services.internal", reason="internal chat (issue 4) not in this tree"
    )
    from tests.chat.staffing import bring_online

    reference, alice, _ = desk
    bob = OperatorFactory(
        user=UserFactory(username="bob", first_name="Bob"), departments=[reference]
    )
    bring_online(bob)
    started = internal.internal_start(
        operator=alice, to_operator_id=bob.pk, body=payload, client_id="i-1"
    )
    found = selectors.internal_for_staff(bob, str(started.public_id))
    [message] = selectors.internal_messages_after(found, 0)
    assert message["body"] == payload
    assert json.loads(json.dumps(message))["body"] == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_attachment_file_names_are_data_and_escaped(
    desk, payload, settings, django_capture_on_commit_callbacks
):
    """Issue 7: a file's name is the message's body; it never becomes markup."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    reference, alice, client = desk
    chat, token = start_chat(reference, question="A file", name="Pat", email="pat@example.org")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    upload = SimpleUploadedFile(f"{payload}.txt", b"plain text\n", content_type="text/html")
    response = Client().post(
        "/widget/attachments", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 201, response.content
    sent = response.json()["message"]
    name = sent["attachment"]["name"]
    assert name.endswith(".txt") and "/" not in name  # the file's own name, no path
    download = client.get(sent["attachment"]["url"])
    assert download["Content-Disposition"].startswith("attachment;")
    assert not {"\n", "\r"} & set(download["Content-Disposition"])
    assert download["Content-Type"].split(";")[0] in ("text/plain", "application/octet-stream")
    assert download["X-Content-Type-Options"] == "nosniff"

    with django_capture_on_commit_callbacks(execute=True):
        services.chat_end(chat_id=chat.pk, by="operator", operator=alice)
        ticket = ticket_services.ticket_create_from_chat(
            chat_id=chat.pk, department=reference, actor=alice
        )
    chat.refresh_from_db()
    html = build_email(chat, "pat@example.org").alternatives[0][0]
    assert escape(name) in html and not LIVE_MARKUP.search(html)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert not LIVE_MARKUP.search(page)
