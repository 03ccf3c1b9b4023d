"""Inbound parsing on the real sample messages in tests/tickets/mail/ (no database)."""

from tests.tickets.conftest import sample_mail
from tickets.inbound import html_to_text, parse_message, trim_quoted


def test_a_plain_message_keeps_its_text_and_sender():
    parsed = parse_message(sample_mail("plain_new.eml"))
    assert parsed.from_address == "pat@example.org"
    assert parsed.from_name == "Pat Patron"
    assert parsed.message_id == "<plain-new-1@mail.example.org>"
    assert parsed.reference_id is None
    assert "Can I borrow the 1902 Bartholomew atlas" in parsed.body
    assert parsed.body.endswith("Pat")
    assert parsed.attachments == []


def test_an_html_only_message_becomes_text_without_script_style_or_quote():
    parsed = parse_message(sample_mail("html_only_reply.eml", "LD-000042"))
    assert parsed.reference_id == 42
    assert parsed.clean_subject == "Where are the atlases?"
    assert "Thank you, that helps!" in parsed.body
    assert "is the map room open on Saturday?" in parsed.body
    assert "alert" not in parsed.body and "color: red" not in parsed.body
    assert "floor 2" not in parsed.body  # the quoted history is gone


def test_a_multipart_message_keeps_its_attachments_and_plus_address_reference():
    parsed = parse_message(sample_mail("attachment_reply.eml", "LD-000007"))
    assert parsed.reference_id == 7
    assert parsed.body == "Here is the page I meant, scanned."
    names = [(a.filename, a.content_type) for a in parsed.attachments]
    assert names == [("page 12.pdf", "application/pdf"), ("evil.html", "text/html")]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")


def test_quoted_history_of_a_reply_is_trimmed():
    parsed = parse_message(sample_mail("quoted_reply.eml", "LD-000042"))
    assert parsed.reference_id == 42
    assert parsed.body == "Great, I will come on Thursday.\nIs there a copy machine nearby?"
    assert parsed.in_reply_to == ["<reply-1@library.example>"]


def test_an_outlook_reply_is_trimmed_at_its_from_sent_header():
    parsed = parse_message(sample_mail("outlook_reply.eml", "LD-000042"))
    assert parsed.body == "Thanks, see you then."


def test_an_unknown_reference_is_still_read_as_a_reference():
    parsed = parse_message(sample_mail("unknown_reference.eml"))
    assert parsed.reference_id == 987654321
    assert parsed.clean_subject == "my old question"


def test_automatic_replies_are_flagged():
    assert parse_message(sample_mail("auto_reply.eml", "LD-000001")).auto_submitted
    assert not parse_message(sample_mail("plain_new.eml")).auto_submitted


def test_trim_quoted_variants():
    assert trim_quoted("Yes.\n\n-----Original Message-----\nFrom: x") == "Yes."
    assert trim_quoted("Yes.\nOn 1 Dec 2026, Desk wrote:\n> hi") == "Yes."
    # One ">" line with no attribution is the patron's text (talon's ">>> link" case),
    # and a signature is the patron's too: both stay.
    assert trim_quoted("Yes.\n> quoted\nmore") == "Yes.\n> quoted\nmore"
    assert trim_quoted("Yes.\nOn 1 Dec 2026, Desk wrote:\n> hi\n> there\nmore") == "Yes.\nmore"
    assert trim_quoted("Body\n-- \nSignature") == "Body\n--\nSignature"
    assert trim_quoted("From: me\nI moved house") == "From: me\nI moved house"  # not a header block


def test_html_to_text_keeps_line_structure():
    assert html_to_text("<p>One</p><p>Two<br>Three</p>") == "One\n\nTwo\nThree"
    assert html_to_text("a &lt;b&gt; c") == "a <b> c"
