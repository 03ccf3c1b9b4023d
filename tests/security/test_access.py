"""Access control, proven: another patron's chat by token, id or guess; another
department's chat, ticket or analytics entry; attachments by guessed id; CSRF on staff
POSTs; staff frames on the patron socket; the inbound webhook's secret; group names
from internal ids only."""

import inspect
import json
import uuid
from email.message import EmailMessage

import pytest
from channels.db import database_sync_to_async as db
from django.test import Client

from chat import consumers, events, services
from chat.models import CannedMessage, Chat, ChatAudit, Message
from libdesk.celery import app as celery_app
from tests.chat.test_consumers import patron_socket, receive_until, staff_socket
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    UserFactory,
    canned_message,
    offline_ticket,
    start_chat,
)
from tickets import services as ticket_services
from tickets.models import Ticket, TicketAttachment, TicketMessage

SECRET = "s3cret-for-tests"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TICKETS = {**settings.TICKETS, "INBOUND_SECRET": SECRET}
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


def _desk():
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    carmen = OperatorFactory(
        user=UserFactory(username="carmen", first_name="Carmen"), departments=[special]
    )
    chat, token = start_chat(reference, question="My confidential question", email="p@example.org")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    other, other_token = start_chat(reference, question="Another patron's question", client_id="o")
    ticket = offline_ticket(reference, question="A Reference ticket")
    raw = EmailMessage()
    raw["From"] = "p@example.org"
    raw["To"] = f"desk+{ticket.reference}@library.example"
    raw["Subject"] = "file"
    raw["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    raw.set_content("see attached")
    raw.add_attachment(b"secret", maintype="application", subtype="pdf", filename="a.pdf")
    ticket_services.ticket_receive_email(raw=raw.as_bytes())
    attachment = TicketAttachment.objects.get()
    return {
        "reference": reference, "special": special, "alice": alice, "carmen": carmen,
        "chat": chat, "token": token, "other": other, "other_token": other_token,
        "ticket": ticket, "attachment": attachment,
    }  # fmt: skip


@pytest.fixture
def desk(db):
    return _desk()


def snapshot():
    return (
        list(
            Chat.objects.order_by("pk").values_list("pk", "status", "operator_id", "patron_email")
        ),
        Message.objects.count(),
        ChatAudit.objects.count(),
        list(
            Ticket.objects.order_by("pk").values_list(
                "pk", "status", "assignee_id", "department_id"
            )
        ),
        TicketMessage.objects.count(),
        list(CannedMessage.objects.order_by("pk").values_list("pk", "title", "body")),
    )


def client_for(operator, **kwargs):
    client = Client(**kwargs)
    client.force_login(operator.user)
    return client


# --- Patrons: tokens -------------------------------------------------------------------

WRONG_TOKENS = ["", "guessed-token", "x" * 300]


def patron_posts(desk, token):
    """Every widget endpoint that takes the patron's token (JSON body or Bearer)."""
    return [
        ("/widget/transcript", {"token": token, "email": "evil@example.org"}),
        ("/tickets/widget/email-needed", {"token": token}),
        ("/tickets/widget/email", {"token": token, "email": "evil@example.org"}),
    ]


@pytest.mark.parametrize("kind", ["wrong", "public id", "other chat's id", "digest", "none"])
def test_patron_endpoints_refuse_anything_but_the_chats_token(desk, kind):
    chat = desk["chat"]
    token = {
        "wrong": "guessed-token",
        "public id": str(chat.public_id),
        "other chat's id": str(desk["other"].public_id),
        "digest": chat.patron_token_digest,
        "none": None,
    }[kind]
    before = snapshot()
    for url, body in patron_posts(desk, token):
        response = Client().post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 403, (url, response.status_code)
        assert response.json()["code"] == "bad_token"
    bearer = Client().post(
        "/widget/transcript", "{}", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert bearer.status_code == 403
    assert snapshot() == before


def test_a_patron_token_reaches_only_its_own_chat_over_http(desk):
    body = {"token": desk["other_token"], "email": "o@example.org"}
    response = Client().post(
        "/tickets/widget/email", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    assert Chat.objects.get(pk=desk["other"].pk).patron_email == "o@example.org"
    assert Chat.objects.get(pk=desk["chat"].pk).patron_email == "p@example.org"  # untouched


@pytest.mark.django_db(transaction=True)
async def test_patron_socket_refuses_wrong_tokens_ids_and_a_second_chat():
    found = await db(_desk)()
    for token in [*WRONG_TOKENS, str(found["chat"].public_id), found["chat"].patron_token_digest]:
        socket = await patron_socket(token)
        error = await socket.receive_json_from(timeout=10)
        assert error["code"] == "bad_token", token
        assert (await socket.receive_output(timeout=10))["code"] == 4403
    # A socket that said hello for one chat cannot switch to another.
    socket = await patron_socket(found["token"])
    await receive_until(socket, "welcome")
    await socket.send_json_to({"type": "hello", "token": found["other_token"]})
    error, _ = await receive_until(socket, "error")
    assert error["code"] == "forbidden"
    # message.send names no chat: a "chat" field naming another is ignored.
    await socket.send_json_to(
        {
            "type": "message.send",
            "chat": str(found["other"].public_id),
            "client_id": "z",
            "body": "hi",
        }
    )
    await receive_until(socket, "message.ack")
    assert (
        await db(lambda: Message.objects.filter(chat=found["other"], body="hi").exists())() is False
    )
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_staff_frames_on_the_patron_socket_are_refused():
    found = await db(_desk)()
    socket = await patron_socket(found["token"])
    await receive_until(socket, "welcome")
    before = await db(snapshot)()
    other = str(found["other"].public_id)
    staff_only = sorted(consumers.StaffConsumer.frame_types - consumers.PatronConsumer.frame_types)
    assert {"chat.claim", "chat.close", "presence.set"} <= set(staff_only)
    for kind in staff_only:
        frame = {
            "type": kind, "chat": other, "status": "online", "internal": other, "operator": 1,
            "department": 1, "body": "x", "client_id": "s",
        }  # fmt: skip
        await socket.send_json_to(frame)
        error, _ = await receive_until(socket, "error")
        assert error["code"] == "unknown_type", kind
    # chat.end from the patron ends only the patron's own chat, whatever it names.
    await socket.send_json_to({"type": "chat.end", "chat": other})
    await receive_until(socket, "chat.ended")
    after = await db(snapshot)()
    statuses = dict((pk, status) for pk, status, *_ in after[0])
    assert statuses[found["other"].pk] == "waiting"
    assert after[3:] == before[3:]
    await socket.disconnect()


# --- Staff: another department ----------------------------------------------------------


def test_an_operator_cannot_reach_another_departments_chat_or_ticket_over_http(desk):
    carmen = client_for(desk["carmen"])
    chat, ticket, attachment = desk["chat"], desk["ticket"], desk["attachment"]
    services.chat_end(chat_id=chat.pk, by="operator", operator=desk["alice"])
    before = snapshot()
    reply = ticket.messages.first()
    gets = [
        f"/dashboard/canned/?chat={chat.public_id}",
        f"/analytics/chats/{chat.public_id}/",
        f"/analytics/chats/{chat.public_id}/form",
        f"/tickets/{ticket.reference}/",
        f"/tickets/attachments/{attachment.pk}/",
    ]
    for url in gets:
        assert carmen.get(url).status_code == 404, url
    posts = [
        (f"/dashboard/chats/{chat.public_id}/transcript", {"email": "x@example.org"}, True),
        (f"/analytics/chats/{chat.public_id}/form", {"duration_minutes": 5}, False),
        (f"/analytics/chats/{chat.public_id}/", {"duration_minutes": 5}, False),
        (
            "/tickets/api/from-chat",
            {"chat": str(chat.public_id), "department": desk["special"].pk},
            True,
        ),
        (f"/tickets/{ticket.reference}/reply", {"body": "hi"}, False),
        (f"/tickets/{ticket.reference}/note", {"body": "hi"}, False),
        (f"/tickets/{ticket.reference}/assign", {"assignee": desk["carmen"].pk}, False),
        (f"/tickets/{ticket.reference}/queue", {"department": desk["special"].pk}, False),
        (f"/tickets/{ticket.reference}/status", {"status": "closed"}, False),
        (f"/tickets/{ticket.reference}/replies/{reply.pk}/retry", {}, False),
    ]
    for url, data, as_json in posts:
        if as_json:
            response = carmen.post(url, json.dumps(data), content_type="application/json")
        else:
            response = carmen.post(url, data)
        assert response.status_code == 404, (url, response.status_code)
    assert snapshot() == before
    # Their own department's list shows none of it either.
    listing = carmen.get("/tickets/?q=Reference").content.decode()
    assert ticket.reference not in listing


def test_guessed_attachment_and_ticket_ids_are_refused(desk):
    alice = client_for(desk["alice"])
    last = TicketAttachment.objects.order_by("-pk").first().pk
    for pk in (last + 1, last + 1000, 0):
        assert alice.get(f"/tickets/attachments/{pk}/").status_code == 404
    assert alice.get(f"/tickets/LD-{desk['ticket'].pk + 1000:06d}/").status_code == 404
    assert alice.get(f"/tickets/attachments/{last}/").status_code == 200  # her own: yes
    assert Client().get(f"/tickets/attachments/{last}/").status_code == 302  # anonymous: login


def test_another_operators_personal_canned_message_is_refused(desk):
    theirs = canned_message(title="Carmen's", body="mine", operator=desk["carmen"])
    alice = client_for(desk["alice"])
    before = snapshot()
    assert alice.post(
        f"/dashboard/canned/{theirs.pk}/", json.dumps({"title": "x", "body": "y"}),
        content_type="application/json",
    ).status_code == 403  # fmt: skip
    assert alice.delete(f"/dashboard/canned/{theirs.pk}/").status_code == 403
    for url in (
        f"/dashboard/canned/manage/{theirs.pk}/",
        f"/dashboard/canned/manage/{theirs.pk}/delete/",
    ):
        assert alice.get(url).status_code in (403, 404)
        assert alice.post(url, {"title": "x", "body": "y"}).status_code in (403, 404)
    assert "Carmen's" not in json.dumps(alice.get("/dashboard/canned/").json())
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
async def test_an_operator_cannot_reach_another_departments_chat_over_the_socket():
    found = await db(_desk)()
    chat = str(found["chat"].public_id)
    internal_id = None
    if "internal.start" in consumers.StaffConsumer.frame_types:
        from chat.services import internal
        from tests.chat.staffing import bring_online

        def start_internal():
            bob = OperatorFactory(
                user=UserFactory(username="bob", first_name="Bob"), departments=[found["reference"]]
            )
            bring_online(bob)
            started = internal.internal_start(
                operator=found["alice"], to_operator_id=bob.pk, body="About a patron", client_id="i"
            )
            return str(started.public_id)

        internal_id = await db(start_internal)()
    before = await db(snapshot)()
    socket = await staff_socket(found["carmen"].user)
    state, _ = await receive_until(socket, "dashboard.state")
    assert chat not in json.dumps(state) and "confidential" not in json.dumps(state)
    frames = [
        {"type": "chat.open", "chat": chat},
        {"type": "chat.claim", "chat": chat},
        {"type": "chat.claim", "chat": str(found["other"].public_id)},
        {"type": "message.send", "chat": chat, "client_id": "c", "body": "hi"},
        {"type": "chat.end", "chat": chat},
        {"type": "chat.close", "chat": chat},
        {"type": "chat.transfer", "chat": chat, "department": found["special"].pk},
        {"type": "chat.decline", "chat": chat},
        {"type": "chat.open", "chat": str(uuid.uuid4())},
    ]
    if internal_id:
        frames += [
            {"type": "internal.open", "internal": internal_id},
            {"type": "internal.send", "internal": internal_id, "client_id": "c", "body": "hi"},
            {"type": "internal.close", "internal": internal_id},
            {"type": "internal.about", "internal": internal_id},
            {"type": "internal.start", "operator": found["alice"].pk, "about": chat, "body": "x"},
        ]
    for frame in frames:
        if frame["type"] not in consumers.StaffConsumer.frame_types:
            continue
        await socket.send_json_to(frame)
        error, seen = await receive_until(socket, "error")
        assert error["code"] == "not_found", (frame, error)
        assert "confidential" not in json.dumps(seen)
    assert await db(snapshot)() == before
    await socket.disconnect()
    await consumers_settle()


async def consumers_settle():
    import asyncio

    await asyncio.sleep(0)
    if consumers._pending_reconciles:
        await asyncio.gather(*list(consumers._pending_reconciles), return_exceptions=True)


# --- CSRF --------------------------------------------------------------------------------


def test_staff_posts_without_a_csrf_token_are_refused(desk):
    alice = client_for(desk["alice"], enforce_csrf_checks=True)
    chat, ticket = desk["chat"], desk["ticket"]
    mine = canned_message(title="Mine", body="mine", operator=desk["alice"])
    reply = ticket.messages.first()
    before = snapshot()
    urls = [
        f"/dashboard/chats/{chat.public_id}/transcript",
        "/dashboard/canned/",
        f"/dashboard/canned/{mine.pk}/",
        "/dashboard/canned/manage/",
        f"/dashboard/canned/manage/{mine.pk}/",
        f"/dashboard/canned/manage/{mine.pk}/delete/",
        "/analytics/new/",
        f"/analytics/chats/{chat.public_id}/form",
        "/tickets/api/from-chat",
        f"/tickets/{ticket.reference}/reply",
        f"/tickets/{ticket.reference}/note",
        f"/tickets/{ticket.reference}/assign",
        f"/tickets/{ticket.reference}/queue",
        f"/tickets/{ticket.reference}/status",
        f"/tickets/{ticket.reference}/replies/{reply.pk}/retry",
        "/accounts/logout/",
        "/admin/chat/cannedmessage/add/",
    ]
    for url in urls:
        response = alice.post(url, {"title": "x", "body": "y", "status": "closed"})
        assert response.status_code == 403, (url, response.status_code)
        as_json = alice.post(
            url, json.dumps({"title": "x", "body": "y"}), content_type="application/json"
        )
        assert as_json.status_code == 403, url
    assert alice.delete(f"/dashboard/canned/{mine.pk}/").status_code == 403
    assert snapshot() == before
    assert alice.get("/dashboard/").status_code == 200  # still logged in: logout was refused


# --- The inbound webhook -----------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET.upper(), SECRET + " "])
def test_the_inbound_webhook_refuses_a_wrong_secret(desk, secret):
    raw = b"From: p@example.org\r\nSubject: hi\r\nMessage-ID: <x@example.org>\r\n\r\nHello"
    headers = {} if secret is None else {"HTTP_X_LIBDESK_SECRET": secret}
    before = Ticket.objects.count(), TicketMessage.objects.count()
    response = Client().post(
        "/tickets/inbound/email", raw, content_type="message/rfc822", **headers
    )
    assert response.status_code == 403
    assert (Ticket.objects.count(), TicketMessage.objects.count()) == before


def test_an_empty_configured_secret_refuses_everything(desk, settings):
    settings.TICKETS = {**settings.TICKETS, "INBOUND_SECRET": ""}
    response = Client().post(
        "/tickets/inbound/email", b"Subject: hi\r\n\r\nHello", content_type="message/rfc822",
        HTTP_X_LIBDESK_SECRET="",
    )  # fmt: skip
    assert response.status_code == 403


# --- Group names -------------------------------------------------------------------------

GROUP_FUNCTIONS = [
    f for name, f in inspect.getmembers(events, inspect.isfunction) if name.endswith("_group")
]


def test_every_group_function_is_checked():
    names = {f.__name__ for f in GROUP_FUNCTIONS}
    assert {"chat_group", "department_group", "operator_group", "user_group"} <= names


@pytest.mark.parametrize("group", GROUP_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "value", ["12", "1; flush", "chat-1", "a.b", 1.0, 1.5, None, True, [1], {"pk": 1}, -1]
)
def test_group_names_are_built_only_from_internal_ids(group, value):
    with pytest.raises((TypeError, ValueError)):
        group(value)


@pytest.mark.parametrize("group", GROUP_FUNCTIONS, ids=lambda f: f.__name__)
def test_group_names_from_an_id(group):
    name = group(42)
    assert "42" in name and name.replace("-", "").isalnum() and len(name) < 100


# --- Chat attachments (issue 7) -----------------------------------------------------------


def test_chat_attachments_by_guess_other_token_or_department_are_refused(desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("notes.txt", b"my library card number\n")
    sent = Client().post(
        "/widget/attachments", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {desk['token']}"
    )
    assert sent.status_code == 201
    url = sent.json()["message"]["attachment"]["url"]
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {desk['token']}").status_code == 200
    assert client_for(desk["alice"]).get(url).status_code == 200
    assert Client().get(url).status_code in (403, 404)  # anonymous
    refused = [
        Client().get(url, HTTP_AUTHORIZATION=f"Bearer {desk['other_token']}"),  # another chat
        Client().get(url, HTTP_AUTHORIZATION="Bearer guessed"),
        client_for(desk["carmen"]).get(url),  # another department
        client_for(desk["alice"]).get(f"/attachments/{uuid.uuid4()}"),  # a guess
    ]
    assert [r.status_code for r in refused] == [404] * len(refused)

    before = snapshot()
    wrong = Client().post(
        "/widget/attachments",
        {"file": SimpleUploadedFile("x.txt", b"x\n")},
        HTTP_AUTHORIZATION="Bearer guessed",
    )
    assert wrong.status_code == 403
    other_department = client_for(desk["carmen"]).post(
        f"/dashboard/chats/{desk['chat'].public_id}/attachments",
        {"file": SimpleUploadedFile("x.txt", b"x\n")},
    )
    assert other_department.status_code == 404
    no_csrf = client_for(desk["alice"], enforce_csrf_checks=True).post(
        f"/dashboard/chats/{desk['chat'].public_id}/attachments",
        {"file": SimpleUploadedFile("x.txt", b"x\n")},
    )
    assert no_csrf.status_code == 403
    assert snapshot() == before
