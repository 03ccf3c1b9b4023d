"""Email tasks: retries, the failed state on the ticket, and real SMTP (aiosmtpd)."""

import contextlib
import email
import socket
from email import policy

import pytest
from django.core import mail

from tests.factories import offline_ticket
from tickets import services, tasks
from tickets.models import TicketChange, TicketMessage

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("x")</script> & <b>bold</b>'


class BrokenBackend:
    """An email backend whose server is always down."""

    calls = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        type(self).calls += 1
        raise ConnectionRefusedError("smtp is down")


class FlakyBackend(BrokenBackend):
    """Down for the first attempt only."""

    def send_messages(self, messages):
        type(self).calls += 1
        if type(self).calls == 1:
            raise TimeoutError("slow server")
        return len(messages)


@pytest.fixture
def broken_smtp(settings):
    BrokenBackend.calls = 0
    settings.EMAIL_BACKEND = "tests.tickets.test_tasks.BrokenBackend"
    return BrokenBackend


def test_a_failing_reply_is_retried_then_marked_failed_and_can_be_sent_again(
    special, carmen, broken_smtp, settings, django_capture_on_commit_callbacks
):
    ticket = offline_ticket(special, email="pat@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body="Answer")
    reply.refresh_from_db()
    retries = settings.TICKETS["EMAIL_MAX_RETRIES"]
    assert broken_smtp.calls == retries + 1
    assert reply.email_status == "failed"
    assert reply.email_attempts == retries + 1
    assert "ConnectionRefusedError: smtp is down" in reply.email_last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_retry(message_id=reply.pk, actor=carmen)
    reply.refresh_from_db()
    assert reply.email_status == "sent" and reply.email_last_error == ""
    assert [m.to for m in mail.outbox if m.body.startswith("Answer")] == [["pat@example.org"]]


def test_a_reply_that_recovers_on_a_retry_is_sent(special, carmen, settings):
    ticket = offline_ticket(special, email="pat@example.org")
    reply = services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body="Second try")
    FlakyBackend.calls = 0
    settings.EMAIL_BACKEND = "tests.tickets.test_tasks.FlakyBackend"
    tasks.send_reply.delay(reply.pk)
    reply.refresh_from_db()
    assert FlakyBackend.calls == 2
    assert (reply.email_status, reply.email_attempts) == ("sent", 1)


def test_a_failing_notification_ends_in_the_tickets_history(special, carmen, broken_smtp):
    ticket = offline_ticket(special)
    tasks.notify_new_ticket.delay(ticket.pk)
    change = TicketChange.objects.get(ticket=ticket, field="notification")
    assert change.new_value.startswith("failed: ConnectionRefusedError")


def test_reply_email_has_text_and_html_parts_reference_and_reply_to(
    special, carmen, django_capture_on_commit_callbacks
):
    ticket = offline_ticket(special, email="pat@example.org", question=PAYLOAD)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body=PAYLOAD)
    sent = [m for m in mail.outbox if m.to == ["pat@example.org"]][0]
    assert sent.subject.startswith(f"[{ticket.reference}] ")
    assert sent.reply_to == [f"desk+{ticket.reference}@library.example"]
    assert PAYLOAD in sent.body  # plain text: as written
    html = sent.alternatives[0][0]
    assert sent.alternatives[0][1] == "text/html"
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_new_ticket_notification_escapes_the_patrons_text(special, carmen):
    ticket = offline_ticket(special, question=PAYLOAD)
    mail.outbox.clear()
    tasks.notify_new_ticket.delay(ticket.pk).get()
    [notice] = mail.outbox
    assert notice.to == ["carmen@library.example"]
    assert "<script>" not in notice.alternatives[0][0]
    assert f"/tickets/{ticket.reference}/" in notice.body


def test_stale_queued_replies_are_queued_again(special, carmen):
    ticket = offline_ticket(special, email="pat@example.org")
    reply = services.ticket_reply(ticket_id=ticket.pk, actor=carmen, body="Lost in the broker")
    assert TicketMessage.objects.get(pk=reply.pk).email_status == "queued"  # never ran
    assert tasks.requeue_stale_replies.delay(older_than_seconds=0).get() == 1

    reply.refresh_from_db()
    assert reply.email_status == "sent"


def _free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_reply_really_goes_out_over_smtp(
    special, carmen, settings, django_capture_on_commit_callbacks
):
    """Django's SMTP backend → a local aiosmtpd server started here; read what arrived."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    received = []

    class Keep(Sink):
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        ticket = offline_ticket(special, email="pat@example.org")
        received.clear()  # the new-ticket notification went out above
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.ticket_reply(
                ticket_id=ticket.pk, actor=carmen, body=f"Over SMTP {PAYLOAD}"
            )
    finally:
        controller.stop()
    reply.refresh_from_db()
    assert reply.email_status == "sent"
    [envelope] = received
    assert envelope.rcpt_tos == ["pat@example.org"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"].startswith(f"[{ticket.reference}]")
    assert message["Reply-To"] == f"desk+{ticket.reference}@library.example"
    assert message["Message-ID"].strip() == reply.email_message_id
    assert message.get_body(("plain",)).get_content().startswith("Over SMTP <script>")
    html = message.get_body(("html",)).get_content()
    assert "Over SMTP &lt;script&gt;" in html and "<script>" not in html


# --- Mail to staff in each one's language (issue 19) -----------------------------------


@pytest.fixture
def smtp_server(settings):
    """A local aiosmtpd server that Django's SMTP backend sends to: what arrived, parsed."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    received = []

    class Keep(Sink):
        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.original_content, policy=policy.default)
            received.append((envelope.rcpt_tos, message))
            return "250 OK"

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield received
    controller.stop()


def _choose_language(operator, language):
    from chat.services import operator_set_language

    operator_set_language(operator=operator, language=language)


def test_each_operator_gets_the_new_ticket_notification_in_their_language(
    special, carmen, smtp_server, settings, django_capture_on_commit_callbacks
):
    """Carmen chose Spanish, Diego English, Elena never chose (the library's default):
    one Spanish message to Carmen, one English one to Diego and Elena, over SMTP."""
    from tests.factories import named_operator

    _choose_language(carmen, "es")
    _choose_language(named_operator("diego", [special]), "en")
    named_operator("elena", [special])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = offline_ticket(special, question="¿Tienen el atlas de 1902?")
    url = f"{settings.LIBDESK_PUBLIC_URL}/tickets/{ticket.reference}/"
    by_recipients = {tuple(sorted(to)): message for to, message in smtp_server}
    assert sorted(by_recipients) == [
        ("carmen@library.example",),
        ("diego@library.example", "elena@library.example"),
    ]

    spanish = by_recipients[("carmen@library.example",)]
    # (A long non-ASCII subject is folded from its first line on: a reader strips that.)
    assert spanish["Subject"].strip() == (
        f"[{ticket.reference}] Caso nuevo para Special Collections: {ticket.subject}"
    )
    text = spanish.get_body(("plain",)).get_content()
    assert text.startswith("Hay un caso nuevo en la cola de Special Collections.")
    assert "De: Pat" in text and "¿Tienen el atlas de 1902?" in text
    assert f"Ábralo aquí: {url}" in text
    html = spanish.get_body(("html",)).get_content()
    assert '<html lang="es" dir="ltr">' in html
    assert f"Abrir {ticket.reference}" in html

    english = by_recipients[("diego@library.example", "elena@library.example")]
    assert english["Subject"].strip() == (
        f"[{ticket.reference}] New ticket for Special Collections: {ticket.subject}"
    )
    text = english.get_body(("plain",)).get_content()
    assert text.startswith("A new ticket is in the Special Collections queue.")
    assert f"Open it: {url}" in text
    assert '<html lang="en" dir="ltr">' in english.get_body(("html",)).get_content()


def test_the_assignee_is_told_in_their_own_language(special, carmen):
    """A ticket assigned to Carmen (Spanish) tells her alone, in Spanish, whatever the
    others chose."""
    from tests.factories import named_operator

    _choose_language(carmen, "es")
    named_operator("diego", [special])
    ticket = offline_ticket(special)
    services.ticket_assign(ticket_id=ticket.pk, actor=carmen, assignee=carmen)
    mail.outbox.clear()
    assert tasks.notify_new_ticket.delay(ticket.pk).get() == "sent"
    [notice] = mail.outbox
    assert notice.to == ["carmen@library.example"]
    assert notice.body.startswith("Hay un caso nuevo en la cola de Special Collections para ")


class SpanishDownOnce(BrokenBackend):
    """Refuses the first Spanish message; sends everything else."""

    sent: list = []

    def send_messages(self, messages):
        for message in messages:
            if "Caso nuevo" in message.subject and not type(self).calls:
                type(self).calls += 1
                raise ConnectionResetError("dropped")
            type(self).sent.append((message.to, message.subject))
        return len(messages)


def test_a_retry_sends_only_the_languages_not_yet_sent(
    special, carmen, settings, django_capture_on_commit_callbacks
):
    from tests.factories import named_operator

    _choose_language(carmen, "es")
    named_operator("diego", [special])
    SpanishDownOnce.calls, SpanishDownOnce.sent = 0, []
    settings.EMAIL_BACKEND = "tests.tickets.test_tasks.SpanishDownOnce"
    with django_capture_on_commit_callbacks(execute=True):
        ticket = offline_ticket(special)
    assert SpanishDownOnce.calls == 1  # the Spanish one failed once, then went out
    assert [(to, subject.split("] ")[1][:10]) for to, subject in SpanishDownOnce.sent] == [
        (["diego@library.example"], "New ticket"),
        (["carmen@library.example"], "Caso nuevo"),
    ]
    assert not TicketChange.objects.filter(ticket=ticket, field="notification").exists()
