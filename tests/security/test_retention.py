"""Retention by moving the clock; the patron deleting their own chat."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat import selectors, services
from chat.exceptions import Conflict
from chat.models import Chat, Message
from chat.services import retention
from chat.tasks import apply_retention
from tests.factories import DepartmentFactory, OperatorFactory, start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended_chat(settings):
    settings.RETENTION = {"TRANSCRIPT_DAYS": 30, "PATRON_DAYS": 7}
    department = DepartmentFactory()
    operator = OperatorFactory(departments=[department])
    chat, token = services.chat_start(
        department=department,
        question="my confidential question",
        patron_name="Pat",
        patron_email="pat@example.org",
        page_url="https://lib.example/page?x=1",
    )
    services.chat_claim(chat_id=chat.pk, operator=operator)
    services.chat_end(chat_id=chat.pk, by="patron")
    return chat, token


def test_retention_keeps_everything_until_the_periods_pass(ended_chat):
    chat, _ = ended_chat
    report = retention.retention_apply(now=timezone.now() + timedelta(days=6))
    assert report == {"transcripts_deleted": 0, "messages_deleted": 0, "patrons_scrubbed": 0}
    chat.refresh_from_db()
    assert chat.patron_email == "pat@example.org" and chat.messages.count() == 3


def test_retention_scrubs_then_deletes_and_is_idempotent(ended_chat):
    chat, _ = ended_chat
    later = timezone.now() + timedelta(days=8)
    assert retention.retention_apply(now=later)["patrons_scrubbed"] == 1
    chat.refresh_from_db()
    assert (chat.patron_name, chat.patron_email, chat.page_url) == ("", "", "")
    assert chat.messages.count() == 3  # the transcript is kept longer
    assert retention.retention_apply(now=later)["patrons_scrubbed"] == 0

    much_later = timezone.now() + timedelta(days=31)
    report = retention.retention_apply(now=much_later)
    assert report == {"transcripts_deleted": 1, "messages_deleted": 3, "patrons_scrubbed": 0}
    assert not Message.objects.filter(chat=chat).exists()
    assert retention.retention_apply(now=much_later) == {
        "transcripts_deleted": 0,
        "messages_deleted": 0,
        "patrons_scrubbed": 0,
    }
    chat.refresh_from_db()  # statistics stay
    assert chat.status == "ended" and chat.claimed_at and chat.ended_at and chat.department_id


def test_retention_leaves_open_chats_alone(settings):
    settings.RETENTION = {"TRANSCRIPT_DAYS": 0, "PATRON_DAYS": 0}
    chat, _ = start_chat(DepartmentFactory(), name="Waiting Pat")
    retention.retention_apply(now=timezone.now() + timedelta(days=400))
    chat.refresh_from_db()
    assert chat.patron_name == "Waiting Pat" and chat.messages.count() == 1


def test_the_beat_task_and_the_command_report_what_they_did(ended_chat, settings, capsys):
    settings.RETENTION = {"TRANSCRIPT_DAYS": 0, "PATRON_DAYS": 0}
    report = apply_retention.apply().get()  # the task's own code, run here
    assert report["chat"]["messages_deleted"] == 3 and report["chat"]["patrons_scrubbed"] == 1
    # One job for every app's patron data: tickets and Reference Analytics register theirs.
    assert set(report) == {"chat", "tickets", "analytics"}
    call_command("apply_retention")
    assert '"messages_deleted": 0' in capsys.readouterr().out


def test_a_patron_deletes_their_own_ended_chat(ended_chat):
    chat, token = ended_chat
    retention.chat_delete_by_patron(chat_id=chat.pk)
    chat.refresh_from_db()
    assert Message.objects.filter(chat=chat).count() == 0
    assert (chat.patron_name, chat.patron_email) == ("", "")
    assert selectors.chat_for_token(token) is None  # the token opens nothing any more
    assert Chat.objects.filter(pk=chat.pk).exists()  # statistics stay


def test_a_chat_must_end_before_the_patron_deletes_it():
    chat, _ = start_chat(DepartmentFactory())
    with pytest.raises(Conflict):
        retention.chat_delete_by_patron(chat_id=chat.pk)
    assert chat.messages.count() == 1
