"""manage.py import_ticket_mail on a real Maildir and a real mbox file."""

import mailbox

import pytest
from django.core.management import call_command

from tests.factories import offline_ticket
from tests.tickets.conftest import sample_mail
from tickets.models import Ticket, TicketMessage

pytestmark = pytest.mark.django_db


def _fill(box, ticket):
    for name in (
        "quoted_reply.eml",
        "attachment_reply.eml",
        "unknown_reference.eml",
        "auto_reply.eml",
    ):
        box.add(sample_mail(name, ticket.reference))
    box.flush()


def test_import_from_a_maildir_removes_what_it_stored(tmp_path, special, reference_desk, capsys):
    ticket = offline_ticket(special)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    _fill(box, ticket)
    call_command("import_ticket_mail", maildir=str(tmp_path / "Maildir"))
    out = capsys.readouterr().out
    assert "Imported 4 message(s); 0 already there; 0 failed." in out
    bodies = list(ticket.messages.filter(kind="patron").values_list("body", flat=True))
    assert sorted(bodies[1:]) == [
        "Great, I will come on Thursday.\nIs there a copy machine nearby?",
        "Here is the page I meant, scanned.",
        "I am out of the office until Monday.",
    ]
    assert Ticket.objects.filter(department=reference_desk, source="email").count() == 1
    assert len(mailbox.Maildir(tmp_path / "Maildir", create=False)) == 0


def test_import_from_an_mbox_twice_with_keep_stores_once(tmp_path, special):
    ticket = offline_ticket(special)
    path = tmp_path / "desk.mbox"
    box = mailbox.mbox(path, create=True)
    _fill(box, ticket)
    box.close()
    call_command("import_ticket_mail", mbox=str(path), keep=True)
    call_command("import_ticket_mail", mbox=str(path), keep=True)
    assert TicketMessage.objects.filter(email_message_id="<quoted-1@mail.example.org>").count() == 1
    assert len(mailbox.mbox(path, create=False)) == 4
    call_command("import_ticket_mail", mbox=str(path))
    assert len(mailbox.mbox(path, create=False)) == 0
