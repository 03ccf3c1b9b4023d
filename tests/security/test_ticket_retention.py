"""Tickets keep patron names and emails: retention scrubs them, and deletes attached
files and transcript copies, for tickets closed longer than the periods (moving the
clock). Open tickets are never touched; a second run does nothing."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from chat import services as chat_services
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    offline_ticket,
    patron_reply_email,
    start_chat,
)
from tickets import services
from tickets.models import Ticket, TicketAttachment, TicketMessage
from tickets.tasks import apply_ticket_retention

pytestmark = pytest.mark.django_db
NOTHING = {
    "originals_deleted": 0,
    "tickets_scrubbed": 0,
    "attachments_deleted": 0,
    "transcripts_deleted": 0,
}


@pytest.fixture
def tickets(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.RETENTION = {"TRANSCRIPT_DAYS": 30, "PATRON_DAYS": 7}
    department = DepartmentFactory(name="Reference Desk", slug="reference")
    operator = OperatorFactory(departments=[department])
    chat, _ = start_chat(department, question="Box list?", name="Pat", email="pat@example.org")
    chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    from_chat = services.ticket_create_from_chat(
        chat_id=chat.pk, department=department, actor=operator
    )
    closed = offline_ticket(department, name="Pat Offline", email="pat-offline@example.org")
    raw = patron_reply_email(
        closed,
        sender="pat-offline@example.org",
        attachment=("scan.pdf", b"%PDF-1.4", "application/pdf"),
    )
    services.ticket_receive_email(raw=raw)
    still_open = offline_ticket(department, name="Open Pat", email="open@example.org")
    for ticket in (from_chat, closed):
        services.ticket_set_status(ticket_id=ticket.pk, actor=operator, status="closed")
    # Closed a while ago, the open one long ago (an old ticket never closed stays whole).
    Ticket.objects.filter(pk__in=[from_chat.pk, closed.pk]).update(
        closed_at=timezone.now() - timedelta(days=1)
    )
    Ticket.objects.filter(pk=still_open.pk).update(created_at=timezone.now() - timedelta(days=400))
    return from_chat, closed, still_open


def stored_file(attachment_name):
    return Path(django_settings.MEDIA_ROOT) / attachment_name


def test_nothing_changes_before_the_periods_pass(tickets):
    from_chat, closed, _ = tickets
    report = services.tickets_retention_apply(now=timezone.now() + timedelta(days=5))
    assert report == NOTHING
    closed.refresh_from_db()
    assert closed.patron_email == "pat-offline@example.org" and closed.patron_name == "Pat Offline"


def test_patron_details_are_scrubbed_then_files_and_transcripts_deleted(
    tickets, django_capture_on_commit_callbacks
):
    from_chat, closed, still_open = tickets
    attachment = TicketAttachment.objects.get()
    path = stored_file(attachment.file.name)
    assert path.exists()
    received = TicketMessage.objects.exclude(original="").get()
    original = stored_file(received.original.name)
    assert original.read_bytes().startswith(b"From:") or b"Message-ID" in original.read_bytes()

    with django_capture_on_commit_callbacks(execute=True):
        report = services.tickets_retention_apply(now=timezone.now() + timedelta(days=10))
    assert report == {
        "originals_deleted": 1,
        "tickets_scrubbed": 2,
        "attachments_deleted": 0,
        "transcripts_deleted": 0,
    }
    # The original email carries the patron's name and address: it goes with them.
    assert not original.exists() and not TicketMessage.objects.exclude(original="").exists()
    for ticket in (from_chat, closed):
        ticket.refresh_from_db()
        assert (ticket.patron_name, ticket.patron_email, ticket.origin_digest) == ("", "", "")
        assert not ticket.messages.filter(kind="patron").exclude(from_address="").exists()
        assert ticket.question  # the record of the question and answer stays
    assert path.exists() and from_chat.transcript

    with django_capture_on_commit_callbacks(execute=True):
        report = services.tickets_retention_apply(now=timezone.now() + timedelta(days=40))
    assert report == {
        "originals_deleted": 0,
        "tickets_scrubbed": 0,
        "attachments_deleted": 1,
        "transcripts_deleted": 1,
    }
    from_chat.refresh_from_db()
    assert from_chat.transcript == "" and not TicketAttachment.objects.exists()
    assert not path.exists()
    assert TicketMessage.objects.filter(ticket=closed).count() == 2  # the thread stays

    # Idempotent; the open ticket (even a very old one) is untouched.
    assert services.tickets_retention_apply(now=timezone.now() + timedelta(days=400)) == NOTHING
    still_open.refresh_from_db()
    assert still_open.patron_email == "open@example.org" and still_open.patron_name == "Open Pat"


def test_the_desk_retention_job_runs_it_and_reports(tickets, settings, capsys):
    from django.core.management import call_command

    from chat.tasks import apply_retention

    # One beat entry runs every app's retention (tickets register theirs in ready()).
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "chat.tasks.apply_retention" in schedule and apply_ticket_retention.name not in schedule
    Ticket.objects.update(closed_at=timezone.now() - timedelta(days=100))
    report = apply_retention.apply().get()["tickets"]
    assert report["tickets_scrubbed"] == 2 and report["attachments_deleted"] == 1
    call_command("apply_retention")  # cron in the embedded mode: tickets too
    assert '"tickets": {"attachments_deleted": 0' in capsys.readouterr().out
    assert not Ticket.objects.filter(status="closed").exclude(patron_email="").exists()
