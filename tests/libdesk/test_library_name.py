"""The library's name and sender address are one setting each, used everywhere: the
header, the sample page, and the emails (issue 20)."""

import pytest
from django.conf import settings
from django.urls import reverse

from chat import services
from tests.factories import DepartmentFactory, named_operator, start_chat

pytestmark = pytest.mark.django_db


def test_the_demo_is_riverside_university_library_in_header_page_and_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    assert settings.LIBRARY_NAME == "Riverside University Library"
    assert settings.DEFAULT_FROM_EMAIL == "Riverside University Library <ask@library.example>"
    department = DepartmentFactory(slug="reference")
    alice = named_operator("alice", [department])
    client.force_login(alice.user)
    header = client.get(reverse("chat:dashboard")).content.decode()
    assert "Riverside University Library</span>" in header and "the Library" not in header
    demo = client.get(reverse("chat:demo")).content.decode()
    assert "<h1>Welcome to Riverside University Library</h1>" in demo
    chat, _ = start_chat(department, email="pat@example.org")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.transcript_email_request(chat_id=chat.pk, requested_by=alice)
    [mail] = mailoutbox
    assert mail.from_email == "Riverside University Library <ask@library.example>"
    assert "at Riverside University Library" in mail.body
