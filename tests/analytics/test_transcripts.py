"""Email transcript: the service, the staff and patron endpoints, and the email itself
(HTML + text, links clickable, only what the patron saw). Lives with the analytics
tests because it ships with issue 6; the code is chat/transcripts.py and chat/tasks.py."""

import json

import pytest
from django.core import mail

from chat import services as chat_services
from chat.exceptions import Conflict, Forbidden, InvalidInput
from chat.models import Chat, ChatAudit
from tests.factories import OperatorFactory, start_chat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


@pytest.fixture
def conversation(department, operator, django_capture_on_commit_callbacks):
    chat, token = start_chat(
        department, question="Where is <b>the atlas</b>?", name="Pat", email="pat@example.org"
    )
    chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    chat_services.message_send(
        chat_id=chat.pk,
        body="See https://library.example.edu/atlas?x=1&y=2 for it.",
        client_id="o-1",
        sender="operator",
        operator=operator,
    )
    chat_services.chat_end(chat_id=chat.pk, by="operator", operator=operator)
    return chat, token


def test_the_email_has_the_whole_conversation_as_html_and_text(
    conversation, operator, django_capture_on_commit_callbacks
):
    chat, _ = conversation
    with django_capture_on_commit_callbacks(execute=True):
        sent_to = chat_services.transcript_email_request(chat_id=chat.pk, requested_by=operator)
    assert sent_to == "pat@example.org"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@example.org"]
    assert "Reference Desk" in message.subject
    text = message.body
    assert "Pat: Where is <b>the atlas</b>?" in text
    assert "Alice: See https://library.example.edu/atlas?x=1&y=2 for it." in text
    assert "Alice has joined the chat." in text and "The librarian ended the chat." in text
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert "Where is &lt;b&gt;the atlas&lt;/b&gt;?" in html  # escaped, not markup
    assert '<a href="https://library.example.edu/atlas?x=1&amp;y=2"' in html  # clickable
    assert ChatAudit.objects.filter(chat=chat, action="transcript_emailed").count() == 1


def test_without_an_address_staff_are_asked_for_one_and_it_is_stored(
    department, operator, django_capture_on_commit_callbacks
):
    chat, _ = start_chat(department, question="Hi", name="Pat", email="")
    with pytest.raises(InvalidInput) as info:
        chat_services.transcript_email_request(chat_id=chat.pk, requested_by=operator)
    assert info.value.code == "no_email"
    with pytest.raises(InvalidInput):
        chat_services.transcript_email_request(chat_id=chat.pk, email="nope", requested_by=operator)
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.transcript_email_request(
            chat_id=chat.pk, email="given@example.org", requested_by=operator
        )
    assert Chat.objects.get(pk=chat.pk).patron_email == "given@example.org"
    assert mail.outbox[0].to == ["given@example.org"]


def test_other_departments_and_too_many_requests_are_refused(
    conversation, operator, settings, django_capture_on_commit_callbacks
):
    chat, _ = conversation
    with pytest.raises(Forbidden):
        chat_services.transcript_email_request(
            chat_id=chat.pk, requested_by=OperatorFactory(user__username="stranger")
        )
    settings.LIBDESK = {**settings.LIBDESK, "TRANSCRIPT_EMAILS_PER_CHAT": 2}
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.transcript_email_request(chat_id=chat.pk, requested_by=operator)
        chat_services.transcript_email_request(chat_id=chat.pk, requested_by=None)
    with pytest.raises(Conflict):
        chat_services.transcript_email_request(chat_id=chat.pk, requested_by=None)
    assert len(mail.outbox) == 2


def test_nothing_is_sent_if_the_transaction_rolls_back(conversation, operator):
    chat, _ = conversation
    # Outside django_capture_on_commit_callbacks the test transaction never commits.
    chat_services.transcript_email_request(chat_id=chat.pk, requested_by=operator)
    assert mail.outbox == []


def test_staff_endpoint(staff_client, conversation, django_capture_on_commit_callbacks):
    chat, _ = conversation
    url = f"/dashboard/chats/{chat.public_id}/transcript"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url, json.dumps({"email": ""}), content_type="application/json"
        )
    assert response.status_code == 202
    assert response.json() == {"status": "queued", "email": "pat@example.org"}
    assert len(mail.outbox) == 1


def test_staff_endpoint_needs_csrf(conversation, operator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator.user)
    chat, _ = conversation
    response = client.post(
        f"/dashboard/chats/{chat.public_id}/transcript", "{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert mail.outbox == []


def test_patron_endpoint_with_bearer_token(
    client, conversation, django_capture_on_commit_callbacks
):
    chat, token = conversation
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/widget/transcript",
            json.dumps({"email": "other@example.org"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 202
    assert mail.outbox[0].to == ["other@example.org"]
    # The address the patron first gave is kept.
    assert Chat.objects.get(pk=chat.pk).patron_email == "pat@example.org"

    bad = client.post(
        "/widget/transcript",
        "{}",
        content_type="application/json",
        headers={"Authorization": "Bearer wrong"},
    )
    assert bad.status_code == 403 and bad.json()["code"] == "bad_token"
    no_auth = client.post("/widget/transcript", "{}", content_type="application/json")
    assert no_auth.status_code == 403


def test_patron_endpoint_token_in_body(client, department, django_capture_on_commit_callbacks):
    chat, token = start_chat(department, question="Hi", email="")
    response = client.post(
        "/widget/transcript", json.dumps({"token": token}), content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "no_email"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/widget/transcript",
            json.dumps({"token": token, "email": "me@example.org"}),
            content_type="application/json",
        )
    assert response.status_code == 202 and mail.outbox[0].to == ["me@example.org"]


def test_internal_chat_messages_never_appear(
    conversation, operator, django_capture_on_commit_callbacks
):
    """Staff-to-staff talk about the chat (an internal chat, if the model exists) stays out."""
    from django.apps import apps

    chat, _ = conversation
    try:
        internal_chat = apps.get_model("chat", "InternalChat")
        internal_message = apps.get_model("chat", "InternalMessage")
    except LookupError:
        internal_chat = None
    if internal_chat is not None:
        fields = {f.name for f in internal_chat._meta.get_fields()}
        kwargs = {"created_by": operator}
        if "about_chat" in fields:
            kwargs["about_chat"] = chat
        if "to_department" in fields:
            kwargs["to_department"] = chat.department
        ic = internal_chat.objects.create(**kwargs)
        msg_fields = {f.name for f in internal_message._meta.get_fields()}
        values = {"chat": ic, "body": "SECRET staff-only remark"}
        if "seq" in msg_fields:
            values["seq"] = 1
        if "operator" in msg_fields:
            values["operator"] = operator
        internal_message.objects.create(**values)
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.transcript_email_request(chat_id=chat.pk, requested_by=operator)
    message = mail.outbox[0]
    assert "SECRET" not in message.body and "SECRET" not in message.alternatives[0][0]
    assert "See https://library.example.edu/atlas" in message.body
