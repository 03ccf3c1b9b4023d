"""Decoding that never fails, and attribution lines of ten languages: the desk reads
what real mail programs send."""

import pytest

from tests.factories import offline_ticket
from tickets import services
from tickets.inbound import parse_message
from tickets.mail_decoding import decode_bytes
from tickets.reply_detection import split_reply

pytestmark = pytest.mark.django_db


def mail(body: bytes, content_type=b"text/plain; charset=utf-8", headers=b"", cte=b"8bit") -> bytes:
    return (
        b"From: Pat <pat@example.org>\r\nTo: desk@library.example\r\nSubject: Hello\r\n"
        b"Message-ID: <m-"
        + str(abs(hash(body + content_type + headers))).encode()
        + b"@x>\r\n"
        + headers
        + b"MIME-Version: 1.0\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Transfer-Encoding: "
        + cte
        + b"\r\n\r\n"
        + body
    )


@pytest.mark.parametrize(
    "label",
    [
        b"X-UNKNOWN",
        b"unknown-8bit",
        b"iso-8859-8-i",
        b"windows-874",
        b"x-user-defined",
        b'3D"utf-8"',
    ],
)
def test_unknown_or_odd_charset_labels_never_fail(label):
    parsed = parse_message(
        mail("Caf\u00e9 ouvert \u00e0 9h".encode(), b"text/plain; charset=" + label)
    )
    assert "Caf" in parsed.body and "9h" in parsed.body


def test_windows_1252_labelled_iso_8859_1_reads_as_browsers_do():
    body = "\u201cQuoted\u201d costs 5 \u20ac".encode("cp1252")
    assert (
        parse_message(mail(body, b"text/plain; charset=iso-8859-1")).body
        == "\u201cQuoted\u201d costs 5 \u20ac"
    )


def test_utf8_labelled_us_ascii_or_unlabelled_is_utf8():
    body = "Gr\u00fc\u00dfe aus M\u00fcnchen".encode()
    assert (
        parse_message(mail(body, b"text/plain; charset=us-ascii")).body
        == "Gr\u00fc\u00dfe aus M\u00fcnchen"
    )
    assert parse_message(mail(body, b"text/plain")).body == "Gr\u00fc\u00dfe aus M\u00fcnchen"


def test_raw_8bit_headers_and_html_meta_charset():
    raw = mail(
        (
            '<html><head><meta charset="windows-1251"></head>'
            "<body><p>\u041f\u0440\u0438\u0432\u0435\u0442</p></body></html>"
        ).encode("cp1251"),
        b"text/html",
        headers=b"Reply-To: x@y.z\r\n",
    ).replace(b"From: Pat <pat", "From: J\u00fcrgen M\u00fcller <pat".encode())
    parsed = parse_message(raw)
    assert parsed.from_name == "J\u00fcrgen M\u00fcller"
    assert parsed.body == "\u041f\u0440\u0438\u0432\u0435\u0442"


def test_nul_is_replaced_in_text_and_kept_in_the_original(special):
    ticket = offline_ticket(special)
    raw = mail(b"before\x00after").replace(
        b"Subject: Hello", f"Subject: [{ticket.reference}] a\x00b".encode()
    )
    message = services.ticket_receive_email(raw=raw)
    message.refresh_from_db()
    assert message.body == "before\ufffdafter"
    with message.original.open("rb") as handle:
        assert b"before\x00after" in handle.read()


def test_deep_nesting_is_stored_with_a_clear_note(special):
    ticket = offline_ticket(special)
    nested = b""
    for depth in range(3000):
        nested += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (depth, depth)
    nested += b"Content-Type: text/plain\r\n\r\nhello\r\n" + b"".join(
        b"--b%d--\r\n" % depth for depth in reversed(range(3000))
    )
    raw = (
        f"From: pat@example.org\r\nSubject: [{ticket.reference}] deep\r\nMessage-ID: <deep@x>\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode() + nested
    message = services.ticket_receive_email(raw=raw)
    assert message.ticket_id == ticket.pk
    assert "nested too deeply" in message.body and "original message is kept" in message.body
    assert message.original_size == len(raw)


def test_forwarded_messages_and_unnamed_inline_images_are_kept_as_attachments():
    inner = b"From: bob@example.org\r\nSubject: Opening hours\r\n\r\nWe open at nine.\r\n"
    raw = mail(
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        b"--XX\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"iVBORw0KGgo=\r\n"
        b"--XX\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--XX--\r\n",
        b'multipart/mixed; boundary="XX"',
    )
    parsed = parse_message(raw)
    assert parsed.body == "See below."
    kinds = sorted((a.content_type, a.filename) for a in parsed.attachments)
    assert kinds == [("image/png", "image-1.png"), ("message/rfc822", "Opening hours.eml")]
    eml = next(a for a in parsed.attachments if a.content_type == "message/rfc822")
    assert b"We open at nine." in eml.content


def test_a_multipart_without_its_boundary_is_stored_as_text():
    parsed = parse_message(mail(b"--nowhere\r\nJust my words.\r\n", b"multipart/mixed"))
    assert "Just my words." in parsed.body and "MIME structure is broken" in parsed.body


def test_mbox_from_escaping_is_undone():
    from tickets.management.commands.import_ticket_mail import unescape_mbox_from

    raw = mail(b"Line one\r\n>From the archive we got\r\n>>From quoted\r\n")
    body = parse_message(unescape_mbox_from(raw.replace(b"\r\n", b"\n"))).body
    assert "From the archive we got" in body and ">From the archive" not in body
    assert ">From quoted" in body


def test_windows_1252_decoder_keeps_undefined_bytes():
    assert decode_bytes(b"a\x81b", "iso-8859-1") == "a\x81b"


# Attribution lines as mail programs write them, one per language; the reply above it
# is what staff see, the quote is folded.
ATTRIBUTIONS = {
    "en": "On Tue, 3 Mar 2026 at 10:12, Reference Desk <desk@library.example> wrote:",
    "es": "El mar., 3 mar. 2026 a las 10:12, Mostrador <desk@library.example> escribió:",
    "fr": "Le mar. 3 mars 2026 à 10:12, Accueil <desk@library.example> a écrit :",
    "de": "Am Di., 3. März 2026 um 10:12 Uhr schrieb Auskunft <desk@library.example>:",
    "pt": "Em ter., 3 de mar. de 2026 às 10:12, Balcão <desk@library.example> escreveu:",
    "it": "Il giorno mar 3 mar 2026 alle ore 10:12 Banco <desk@library.example> ha scritto:",
    "nl": "Op di 3 mrt 2026 om 10:12 schreef Balie <desk@library.example>:",
    "pl": "W dniu 3.03.2026 o 10:12, Informacja <desk@library.example> napisał:",
    "sv": "Den tis 3 mars 2026 kl 10:12 skrev Informationsdisken <desk@library.example>:",
    "ru": "вт, 3 мар. 2026 г. в 10:12, Справочная <desk@library.example>:",
    "ru-gmail": "В Вт, 3 мар. 2026 г. в 10:12, Справочная <desk@library.example> написал:",
}
HEADER_BLOCKS = {
    "de": (
        "Von: Auskunft <desk@library.example>\n"
        "Gesendet: Dienstag, 3. März 2026 10:12\n"
        "An: Pat\n"
        "Betreff: Frage"
    ),
    "fr": (
        "De : Accueil <desk@library.example>\n"
        "Envoyé : mardi 3 mars 2026 10:12\n"
        "À : Pat\n"
        "Objet : Question"
    ),
    "es": (
        "De: Mostrador <desk@library.example>\n"
        "Enviado: martes, 3 de marzo de 2026 10:12\n"
        "Para: Pat\n"
        "Asunto: Pregunta"
    ),
    "pl": (
        "Od: Informacja <desk@library.example>\n"
        "Wysłane: wtorek, 3 marca 2026 10:12\n"
        "Do: Pat\n"
        "Temat: Pytanie"
    ),
    "ru": (
        "От: Справочная <desk@library.example>\n"
        "Отправлено: 3 марта 2026 г. 10:12\n"
        "Кому: Pat\n"
        "Тема: Вопрос"
    ),
}


@pytest.mark.parametrize("language", sorted(ATTRIBUTIONS))
def test_attribution_lines_in_ten_languages(language):
    text = (
        f"Thank you, that helps.\n\n{ATTRIBUTIONS[language]}\n\n> The book is on the shelf.\n> Desk"
    )
    split = split_reply(text)
    assert split.reply == "Thank you, that helps."
    assert "The book is on the shelf." in split.quoted


@pytest.mark.parametrize("language", sorted(HEADER_BLOCKS))
def test_header_blocks_in_other_languages(language):
    split = split_reply(f"Merci.\n\n{HEADER_BLOCKS[language]}\n\nThe book is on the shelf.")
    assert split.reply == "Merci." and "The book is on the shelf." in split.quoted


def test_the_text_of_an_smime_signed_mail_is_kept():
    from tests.realworld import corpus

    parsed = parse_message(corpus("flanker", "signed.eml").read_bytes())
    assert parsed.body == "a p\u00f6stal sign of our times"
    assert [a.filename for a in parsed.attachments] == ["smime.p7s"]
