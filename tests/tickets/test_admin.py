"""/admin/ for tickets: read-only, and a superuser's delete goes through the service,
which also removes the files a plain row delete would leave in storage."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.factories import UserFactory, offline_ticket, patron_reply_email
from tickets import services
from tickets.models import Ticket, TicketAttachment

pytestmark = pytest.mark.django_db


def _ticket_with_file(department):
    ticket = offline_ticket(department, name="Pat", email="pat@example.org")
    raw = patron_reply_email(
        ticket, sender="pat@example.org", attachment=("scan.pdf", b"%PDF-1.4", "application/pdf")
    )
    services.ticket_receive_email(raw=raw)
    attachment = TicketAttachment.objects.get(message__ticket=ticket)
    stored = Path(django_settings.MEDIA_ROOT) / attachment.file.name
    assert stored.exists()
    return ticket, stored


@pytest.fixture
def root(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


def test_a_superuser_deletes_a_ticket_and_its_stored_files_go_too(
    root, reference_desk, django_capture_on_commit_callbacks
):
    ticket, stored = _ticket_with_file(reference_desk)
    other, other_file = _ticket_with_file(reference_desk)
    with django_capture_on_commit_callbacks(execute=True):
        response = root.post(
            reverse("admin:tickets_ticket_delete", args=[ticket.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    assert not stored.exists()
    assert other_file.exists()  # only the deleted ticket's files

    with django_capture_on_commit_callbacks(execute=True):
        response = root.post(
            reverse("admin:tickets_ticket_changelist"),
            {"action": "delete_selected", "_selected_action": [str(other.pk)], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Ticket.objects.exists() and not TicketAttachment.objects.exists()
    assert not other_file.exists()


def test_tickets_stay_read_only_and_one_file_is_deleted_with_its_stored_copy(
    root, reference_desk, django_capture_on_commit_callbacks
):
    ticket, stored = _ticket_with_file(reference_desk)
    attachment = TicketAttachment.objects.get()
    page = root.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = root.post(
            reverse("admin:tickets_ticketattachment_delete", args=[attachment.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not TicketAttachment.objects.exists() and not stored.exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()  # the ticket and its thread stay
