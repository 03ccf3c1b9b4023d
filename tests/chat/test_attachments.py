"""Attachments (issue 7): limits and refused types, the download check and its headers,
and files following the chat into transcripts, tickets and retention."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chat import services, transcripts
from chat.models import Attachment, Message
from chat.services import retention
from tests.factories import DepartmentFactory, OperatorFactory, start_chat

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def ooxml(main):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types><Override PartName="/word/document.xml"'
            f' ContentType="{main}"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ATTACHMENTS = {**settings.ATTACHMENTS, "MAX_BYTES": 10 * 1024 * 1024}
    return tmp_path / "media"


@pytest.fixture
def active_chat():
    department = DepartmentFactory()
    operator = OperatorFactory(departments=[department])
    chat, token = start_chat(department, name="Pat", email="pat@example.org")
    services.chat_claim(chat_id=chat.pk, operator=operator)
    return chat, token, operator


def upload(client, token, name, content, content_type="application/octet-stream", **extra):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        "/widget/attachments",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), **extra},
        headers=headers,
    )


def test_patron_uploads_a_png_and_it_becomes_a_message(client, active_chat, media_root):
    chat, token, _ = active_chat
    response = upload(client, token, "../../etc/map.png", PNG, "image/png", client_id="f-1")
    assert response.status_code == 201, response.content
    message = response.json()["message"]
    assert message["sender"] == "patron" and message["body"] == "map.png"
    assert message["attachment"]["type"] == "PNG image" and message["attachment"]["previewable"]
    stored = Attachment.objects.get(chat=chat)
    assert stored.name == "map.png" and stored.size == len(PNG)
    # A random name under attachments/, nothing of the patron's name, outside MEDIA_URL.
    assert stored.file.name.startswith("attachments/") and "map" not in stored.file.name
    assert default_storage.exists(stored.file.name)
    again = upload(client, token, "map.png", PNG, "image/png", client_id="f-1")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Attachment.objects.filter(chat=chat).count() == 1


@pytest.mark.parametrize(
    "name,content",
    [
        ("drawing.svg", SVG),
        ("innocent.png", HTML),  # HTML named .png: the content decides
        ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 200),  # a Windows program
        ("run.txt", b"#!/bin/sh\nrm -rf /\n"),
        ("macro.docx", ooxml("application/vnd.ms-word.document.macroEnabled.main+xml")),
    ],
)
def test_refused_types_whatever_their_name(client, active_chat, name, content):
    chat, token, _ = active_chat
    response = upload(client, token, name, content, "image/png")
    assert response.status_code == 400
    assert (
        response.json()["code"] == "type_refused" and "can't be sent" in response.json()["message"]
    )
    assert not Attachment.objects.exists() and chat.messages.count() == 2


@pytest.mark.parametrize(
    "name,content,kind",
    [
        ("notes.txt", "Call number: QA76 — café\n".encode(), "Plain text"),
        ("data.csv", b"a,b\n1,2\n", "CSV spreadsheet"),
        ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        (
            "essay.docx",
            ooxml(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
            ),
            "Word document",
        ),
    ],
)
def test_allowed_types_are_detected_from_content(client, active_chat, name, content, kind):
    _, token, _ = active_chat
    response = upload(client, token, name, content)
    assert response.status_code == 201, response.content
    assert response.json()["message"]["attachment"]["type"] == kind


def test_oversize_file_is_refused(client, active_chat, settings):
    settings.ATTACHMENTS = {**settings.ATTACHMENTS, "MAX_BYTES": 1000}
    _, token, _ = active_chat
    response = upload(client, token, "big.png", PNG + b"\x00" * 2000)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    huge = upload(client, token, "huge.png", PNG + b"\x00" * 200_000)  # refused before reading
    assert huge.status_code == 413
    assert not Attachment.objects.exists()


def test_upload_needs_the_bearer_token(client, active_chat):
    response = upload(client, None, "map.png", PNG)
    assert response.status_code == 403 and not Attachment.objects.exists()


def test_staff_upload_needs_session_and_csrf(active_chat):
    from django.test import Client

    chat, _, operator = active_chat
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator.user)
    url = f"/dashboard/chats/{chat.public_id}/attachments"
    refused = strict.post(url, {"file": SimpleUploadedFile("map.png", PNG)})
    assert refused.status_code == 403
    strict.get("/dashboard/")
    token = strict.cookies["csrftoken"].value
    sent = strict.post(
        url, {"file": SimpleUploadedFile("map.png", PNG)}, headers={"X-CSRFToken": token}
    )
    assert sent.status_code == 201 and sent.json()["message"]["sender"] == "operator"


def test_download_is_for_the_chat_patron_and_its_staff_only(client, active_chat):
    chat, token, operator = active_chat
    attachment_id = upload(client, token, "map.png", PNG).json()["message"]["attachment"]["id"]
    url = f"/attachments/{attachment_id}"

    mine = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and b"".join(mine.streaming_content) == PNG
    assert (
        mine["Content-Disposition"].startswith("attachment;")
        and "map.png" in mine["Content-Disposition"]
    )
    assert mine["X-Content-Type-Options"] == "nosniff"
    assert mine["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert mine["Content-Type"] == "image/png"

    assert client.get(url).status_code == 403  # logged out, no token
    _, other_token = start_chat(chat.department, name="Other", client_id="q-9")
    assert client.get(url, headers={"Authorization": f"Bearer {other_token}"}).status_code == 404
    guessed = "00000000-0000-4000-8000-000000000000"
    assert (
        client.get(
            f"/attachments/{guessed}", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )

    client.force_login(operator.user)
    assert client.get(url).status_code == 200
    outsider = OperatorFactory(departments=[DepartmentFactory()])
    client.force_login(outsider.user)
    assert client.get(url).status_code == 404


def test_attachments_are_listed_in_the_email_transcript_and_the_ticket(client, active_chat):
    chat, token, operator = active_chat
    upload(client, token, "map.png", PNG)
    _, text, html = transcripts.render(chat)
    assert "[Attachment: map.png, PNG image" in text and "map.png" in html

    from tickets import services as ticket_services

    ticket = ticket_services.ticket_create_from_chat(
        chat_id=chat.pk, department=chat.department, actor=operator
    )
    assert "[Attachment: map.png, PNG image" in ticket.transcript


def test_retention_deletes_attachment_rows_and_files(
    client, active_chat, settings, django_capture_on_commit_callbacks
):
    settings.RETENTION = {"TRANSCRIPT_DAYS": 30, "PATRON_DAYS": 7}
    chat, token, _ = active_chat
    upload(client, token, "map.png", PNG)
    stored = Attachment.objects.get(chat=chat).file.name
    services.chat_end(chat_id=chat.pk, by="patron")
    retention.retention_apply(now=timezone.now() + timedelta(days=8))
    assert Attachment.objects.filter(chat=chat).exists()  # only patron details went
    with django_capture_on_commit_callbacks(execute=True):
        report = retention.retention_apply(now=timezone.now() + timedelta(days=31))
    assert report["transcripts_deleted"] == 1
    assert (
        not Attachment.objects.filter(chat=chat).exists()
        and not Message.objects.filter(chat=chat).exists()
    )
    assert not default_storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        retention.retention_apply(now=timezone.now() + timedelta(days=31))  # idempotent


def test_patron_deletion_removes_attachment_files(
    client, active_chat, django_capture_on_commit_callbacks
):
    chat, token, _ = active_chat
    upload(client, token, "map.png", PNG)
    stored = Attachment.objects.get(chat=chat).file.name
    services.chat_end(chat_id=chat.pk, by="patron")
    with django_capture_on_commit_callbacks(execute=True):
        retention.chat_delete_by_patron(chat_id=chat.pk)
    assert not Attachment.objects.filter(chat=chat).exists() and not default_storage.exists(stored)
