"""Ticket services: creating, the patron's email, inbound mail, staff work, audit."""

import pytest
from django.core import mail
from django.core.files.storage import default_storage

from chat.exceptions import InvalidInput, NotFound
from chat.models import Message
from tests.factories import OperatorFactory, UserFactory, offline_ticket, start_chat
from tests.tickets.conftest import sample_mail
from tickets import services
from tickets.exceptions import NoPatronEmail, RateLimited
from tickets.models import Ticket, TicketChange, TicketMessage

pytestmark = pytest.mark.django_db


def _active_chat(department, operator, email="pat@example.org"):
    from chat import services as chat_services

    chat, token = start_chat(department, question="Do you hold the Smith papers?", email=email)
    chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    chat_services.message_send(
        chat_id=chat.pk, body="Let me check.", client_id="o-1", sender="operator", operator=operator
    )
    return chat, token


def test_create_from_chat_for_another_department(
    alice, carmen, special, captured_events, django_capture_on_commit_callbacks
):
    chat, _ = _active_chat(alice.departments.first(), alice)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create_from_chat(
            chat_id=chat.pk,
            department=special,
            actor=alice,
            assignee=carmen,
            notes="Ask about box 4",
        )
    ticket.refresh_from_db()
    assert ticket.reference == f"LD-{ticket.pk:06d}"
    assert (ticket.department, ticket.assignee, ticket.status) == (special, carmen, "open")
    assert ticket.patron_email == "pat@example.org"
    assert ticket.question == "Do you hold the Smith papers?"
    assert "Alice: Let me check." in ticket.transcript
    kinds = list(ticket.messages.values_list("kind", "body"))
    assert kinds == [("patron", "Do you hold the Smith papers?"), ("note", "Ask about box 4")]
    assert ticket.created_by == alice.user
    assert TicketChange.objects.filter(ticket=ticket, field="created", actor=alice.user).exists()
    # The patron sees a system message in the chat…
    system = Message.objects.filter(chat=chat, sender="system").last()
    assert ticket.reference in system.body and "follow up with you by email" in system.body
    # …no request for an email (they gave one), and Carmen is told by email.
    assert not [e for _, e in captured_events if e["type"] == "ticket.email_requested"]
    assert [m.to for m in mail.outbox] == [["carmen@library.example"]]
    assert ticket.reference in mail.outbox[0].subject


def test_create_from_chat_without_email_asks_the_widget_for_one(
    alice, special, carmen, captured_events, django_capture_on_commit_callbacks
):
    chat, _ = _active_chat(alice.departments.first(), alice, email="")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create_from_chat(chat_id=chat.pk, department=special, actor=alice)
    requested = [(g, e) for g, e in captured_events if e["type"] == "ticket.email_requested"]
    assert requested == [
        (
            [f"chat-{chat.pk}"],
            {
                "type": "ticket.email_requested",
                "chat": str(chat.public_id),
                "ticket": ticket.reference,
                "department": "Special Collections",
            },
        )
    ]
    assert "Please leave your email address" in Message.objects.filter(chat=chat).last().body
    # Nobody assigned: every operator of the department is notified.
    assert mail.outbox[0].to == ["carmen@library.example"]

    with django_capture_on_commit_callbacks(execute=True):
        updated = services.ticket_set_patron_email(chat_id=chat.pk, email="late@example.org")
    assert [t.pk for t in updated] == [ticket.pk]
    ticket.refresh_from_db()
    chat.refresh_from_db()
    assert ticket.patron_email == chat.patron_email == "late@example.org"
    assert "will follow up with you by email" in Message.objects.filter(chat=chat).last().body
    assert TicketChange.objects.filter(ticket=ticket, field="patron_email").exists()


def test_create_from_chat_refuses_chats_of_other_departments_and_foreign_assignees(
    alice, carmen, special, reference_desk
):
    chat, _ = _active_chat(reference_desk, alice)
    with pytest.raises(NotFound):
        services.ticket_create_from_chat(chat_id=chat.pk, department=reference_desk, actor=carmen)
    with pytest.raises(InvalidInput):  # Alice is not in Special Collections
        services.ticket_create_from_chat(
            chat_id=chat.pk, department=special, actor=alice, assignee=alice
        )
    assert not Ticket.objects.exists()


def test_offline_form_creates_a_ticket_and_rate_limits_per_address(special, carmen, settings):
    settings.TICKETS = {**settings.TICKETS, "OFFLINE_FORM_LIMIT": 2}
    for n in range(2):
        services.ticket_create_from_offline_form(
            department=special,
            name="Pat",
            email="pat@example.org",
            question=f"Q{n}",
            remote_addr=f"10.0.0.{n}",
        )
    with pytest.raises(RateLimited):  # same email, other IP
        services.ticket_create_from_offline_form(
            department=special,
            name="Pat",
            email="PAT@example.org",
            question="Q3",
            remote_addr="10.9.9.9",
        )
    services.ticket_create_from_offline_form(
        department=special,
        name="Sam",
        email="sam@example.org",
        question="Q",
        remote_addr="10.1.1.1",
    )
    services.ticket_create_from_offline_form(
        department=special,
        name="Sue",
        email="sue@example.org",
        question="Q",
        remote_addr="10.1.1.1",
    )
    with pytest.raises(RateLimited):  # same IP, other email
        services.ticket_create_from_offline_form(
            department=special,
            name="Tom",
            email="tom@example.org",
            question="Q",
            remote_addr="10.1.1.1",
        )
    assert Ticket.objects.filter(source="offline_form").count() == 4


@pytest.mark.parametrize(
    "email, question, code",
    [("", "Q", "bad_email"), ("not-an-email", "Q", "bad_email"), ("a@example.org", "  ", "empty")],
)
def test_offline_form_validates(special, email, question, code):
    with pytest.raises(InvalidInput) as caught:
        services.ticket_create_from_offline_form(
            department=special, name="", email=email, question=question
        )
    assert caught.value.code == code


def test_inbound_reply_lands_on_its_ticket_and_reopens_a_closed_one(special, carmen):
    ticket = offline_ticket(special, email="pat@example.org")
    services.ticket_set_status(ticket_id=ticket.pk, actor=carmen, status="closed")
    message = services.ticket_receive_email(raw=sample_mail("quoted_reply.eml", ticket.reference))
    ticket.refresh_from_db()
    assert message.ticket_id == ticket.pk
    assert message.body == "Great, I will come on Thursday.\nIs there a copy machine nearby?"
    assert ticket.status == "open" and ticket.closed_at is None
    statuses = list(
        TicketChange.objects.filter(ticket=ticket, field="status").values_list(
            "old_value", "new_value", "actor"
        )
    )
    assert statuses == [("open", "closed", carmen.user.pk), ("closed", "open", None)]


def test_inbound_same_message_twice_is_stored_once(special):
    ticket = offline_ticket(special)
    raw = sample_mail("outlook_reply.eml", ticket.reference)
    first = services.ticket_receive_email(raw=raw)
    second = services.ticket_receive_email(raw=raw)
    assert first.pk == second.pk
    assert ticket.messages.filter(kind="patron").count() == 2  # the question + one reply


def test_inbound_attachments_are_stored_under_random_names(special):
    ticket = offline_ticket(special)
    message = services.ticket_receive_email(
        raw=sample_mail("attachment_reply.eml", ticket.reference)
    )
    attachments = list(message.attachments.order_by("pk"))
    assert [a.filename for a in attachments] == ["page 12.pdf", "evil.html"]
    for attachment in attachments:
        assert attachment.filename not in attachment.file.name
        assert attachment.file.name.startswith("tickets/attachments/")
        assert default_storage.exists(attachment.file.name)
    assert default_storage.open(attachments[0].file.name).read().startswith(b"%PDF")


def test_inbound_html_only_and_unknown_reference(special, reference_desk):
    ticket = offline_ticket(special)
    message = services.ticket_receive_email(
        raw=sample_mail("html_only_reply.eml", ticket.reference)
    )
    assert message.ticket_id == ticket.pk and "map room open on Saturday?" in message.body

    stranger = services.ticket_receive_email(raw=sample_mail("unknown_reference.eml"))
    new = stranger.ticket
    assert new.pk != ticket.pk
    assert (new.department, new.source, new.patron_email) == (
        reference_desk,
        "email",
        "sam@example.net",
    )
    assert new.subject == "my old question"
    assert "Sanborn maps" in new.question


def test_inbound_plain_new_message_opens_a_ticket_in_the_default_queue(reference_desk):
    message = services.ticket_receive_email(raw=sample_mail("plain_new.eml"))
    ticket = message.ticket
    assert ticket.department == reference_desk
    assert ticket.subject == "Interlibrary loan of a 1902 atlas"
    assert ticket.patron_name == "Pat Patron"


def test_automatic_replies_do_not_reopen_or_create(special, carmen, reference_desk):
    ticket = offline_ticket(special)
    services.ticket_set_status(ticket_id=ticket.pk, actor=carmen, status="closed")
    services.ticket_receive_email(raw=sample_mail("auto_reply.eml", ticket.reference))
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    raw = (
        sample_mail("auto_reply.eml", "nothing")
        .replace(b"[nothing]", b"")
        .replace(b"auto-1@", b"auto-2@")
    )
    # Matching no ticket, it is kept (a bounce or an out-of-office is on record) on a
    # ticket closed at once: no queue fills, no acknowledgement starts a loop.
    kept = services.ticket_receive_email(raw=raw)
    assert kept.ticket.status == "closed" and kept.ticket.pk != ticket.pk
    assert kept.original_size == len(raw)


def test_reply_note_assign_queue_and_status_are_audited(
    special, reference_desk, carmen, alice, django_capture_on_commit_callbacks
):
    ticket = offline_ticket(special, email="pat@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body="We have it.")
        services.ticket_add_note(ticket_id=ticket.pk, actor=carmen, body="Box 4, shelf 2")
    reply.refresh_from_db()
    assert reply.email_status == "sent"
    assert [m.to for m in mail.outbox if "We have it." in m.body] == [["pat@example.org"]]
    assert not [m for m in mail.outbox if "Box 4" in m.body]  # notes are never emailed

    services.ticket_assign(ticket_id=ticket.pk, actor=carmen, assignee=carmen)
    services.ticket_set_status(ticket_id=ticket.pk, actor=carmen, status="pending")
    services.ticket_change_queue(ticket_id=ticket.pk, actor=carmen, department=reference_desk)
    ticket.refresh_from_db()
    assert (ticket.department, ticket.assignee, ticket.status) == (reference_desk, None, "pending")
    changes = list(
        ticket.changes.exclude(field="created").values_list("field", "old_value", "new_value")
    )
    assert changes == [
        ("assignee", "", "Carmen"),
        ("status", "open", "pending"),
        ("queue", "Special Collections", "Reference Desk"),
        ("assignee", "Carmen", ""),
    ]
    # Carmen is not in the Reference Desk: the ticket is no longer hers to touch.
    with pytest.raises(NotFound):
        services.ticket_add_note(ticket_id=ticket.pk, actor=carmen, body="again")
    services.ticket_assign(ticket_id=ticket.pk, actor=alice, assignee=alice)


def test_assigning_someone_outside_the_department_is_refused(special, carmen, alice):
    ticket = offline_ticket(special)
    with pytest.raises(InvalidInput):
        services.ticket_assign(ticket_id=ticket.pk, actor=carmen, assignee=alice)
    assert not TicketChange.objects.filter(field="assignee").exists()


def test_a_reply_needs_the_patrons_email(alice, special, carmen):
    chat, _ = _active_chat(alice.departments.first(), alice, email="")
    ticket = services.ticket_create_from_chat(chat_id=chat.pk, department=special, actor=alice)
    with pytest.raises(NoPatronEmail):
        services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body="Hello")
    assert not TicketMessage.objects.filter(kind="reply").exists()


def test_superuser_sees_every_department(special, superuser_operator):
    ticket = offline_ticket(special)
    services.ticket_add_note(ticket_id=ticket.pk, actor=superuser_operator, body="seen")
    other = OperatorFactory(user=UserFactory(username="nobody"), departments=[])
    with pytest.raises(NotFound):
        services.ticket_add_note(ticket_id=ticket.pk, actor=other, body="not seen")
