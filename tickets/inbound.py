"""Inbound mail: raw RFC 822 bytes → what a ticket needs (stdlib ``email``, policy=default).

Pure functions, no database: ``parse_message`` reads the headers, the text of every
text part (HTML turned into text, its quotes as ``>`` lines), splits the patron's reply
from the quoted history (``tickets.reply_detection``; the history is kept, folded) and
collects every other part as an attachment. Nothing here raises on what a mail program
sent: bytes are decoded by ``tickets.mail_decoding``, broken MIME is read as text, and
a message nested too deeply to read says so in its text (the original is kept).
"""

import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.parser import BytesHeaderParser, BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parseaddr
from html.parser import HTMLParser

from tickets.mail_decoding import decode_bytes, html_charset, sanitise
from tickets.models import parse_reference
from tickets.reply_detection import Split, split_reply

PLUS_REFERENCE_RE = re.compile(r"\+(LD-\d{1,12})@", re.IGNORECASE)
SUBJECT_REFERENCE_RE = re.compile(r"\[(LD-\d{1,12})\]", re.IGNORECASE)
REPLY_PREFIX_RE = re.compile(
    r"^\s*((re|fw|fwd|aw|sv|antw|wg|tr|rv|odp|ynt|ha)\s*:\s*)+", re.IGNORECASE
)

# Deeper than this, parts are not read (a message nested 3,000 deep exhausts the
# parser's stack): the message is stored with a note and its original, not refused.
MAX_PART_DEPTH = 60
TOO_DEEP_NOTE = (
    "[This email's parts are nested too deeply to read (more than {depth} levels). "
    "Nothing was shown from it; the original message is kept with this ticket: download it "
    "to read it.]"
)
BROKEN_MIME_NOTE = "[This email's MIME structure is broken; it is shown as plain text.]"


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedMessage:
    message_id: str
    subject: str
    from_name: str
    from_address: str
    recipients: list[str]
    in_reply_to: list[str]
    body: str  # the patron's reply: what staff see first
    quoted: str = ""  # the quoted history, folded behind "Show quoted text"
    attachments: list[Attachment] = field(default_factory=list)
    auto_submitted: bool = False
    notes: list[str] = field(default_factory=list)  # what staff should know about the mail

    @property
    def full_text(self) -> str:
        return "\n\n".join(part for part in (self.body, self.quoted) if part)

    @property
    def reference_id(self) -> int | None:
        """The ticket this message answers: a plus-address (desk+LD-000123@…) in its
        recipients, else ``[LD-000123]`` in its subject."""
        for address in self.recipients:
            match = PLUS_REFERENCE_RE.search(address)
            if match:
                return int(match.group(1)[3:])
        match = SUBJECT_REFERENCE_RE.search(self.subject)
        if match:
            return int(match.group(1)[3:])
        return parse_reference(self.subject)

    @property
    def clean_subject(self) -> str:
        subject = SUBJECT_REFERENCE_RE.sub("", self.subject)
        subject = REPLY_PREFIX_RE.sub("", subject).strip()
        return REPLY_PREFIX_RE.sub("", subject).strip()


class _TextFromHTML(HTMLParser):
    """Visible text of an HTML body: block elements become line breaks; script, style
    and head are dropped; quoted history (<blockquote>) becomes ``>`` lines, as a mail
    program quotes plain text, so that one set of rules finds it."""

    BLOCKS = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "hr",
        "pre",
        "dt",
        "dd",
        "section",
        "article",
        "header",
        "footer",
        "address",
    }
    SKIP = {"script", "style", "head", "title", "template"}
    VOID = {
        "br",
        "hr",
        "img",
        "meta",
        "link",
        "input",
        "area",
        "base",
        "col",
        "embed",
        "source",
        "wbr",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[list] = [[0, ""]]
        self.depth = 0
        self.skip = 0
        self.pre = 0

    def _newline(self):
        if self.lines[-1][1].strip():
            self.lines.append([self.depth, ""])
        else:
            self.lines[-1][0] = self.depth
            if self.lines[-1][1]:
                self.lines[-1][1] = ""
            if len(self.lines) > 1 and self.lines[-2][1].strip():
                self.lines.append([self.depth, ""])

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._newline()
            self.depth += 1
            self.lines[-1][0] = self.depth
        elif tag == "br":
            self.lines.append([self.depth, ""])
        elif tag in self.BLOCKS:
            self._newline()
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "blockquote" and self.depth:
            self._newline()
            self.depth -= 1
            self.lines[-1][0] = self.depth
        elif tag in self.BLOCKS and tag not in self.VOID:
            self._newline()
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre:
            pieces = data.split("\n")
            self.lines[-1][1] += pieces[0]
            for piece in pieces[1:]:
                self.lines.append([self.depth, piece])
            return
        self.lines[-1][1] += re.sub(r"[ \t\r\n\f\u00a0]+", " ", data)

    def text(self) -> str:
        out = []
        for depth, line in self.lines:
            line = line.strip()
            out.append(("> " * depth + line).rstrip() if depth else line)
        text = "\n".join(out)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    parser = _TextFromHTML()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser on truly broken markup
        return sanitise(re.sub(r"<[^>]*>", " ", html))
    return parser.text()


def trim_quoted(text: str) -> str:
    """The new part of a reply (the quoted history left out): see ``split_reply``."""
    return split_reply(text).reply


def _charset(part) -> str | None:
    value = part.get_param("charset")
    if value is None:
        return None
    try:
        return str(collapse_rfc2231_value(value))
    except (LookupError, TypeError, ValueError):
        return None


def _payload(part) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (AssertionError, ValueError, TypeError, LookupError):
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part) -> str:
    data = _payload(part)
    label = _charset(part)
    if part.get_content_subtype() == "html":
        return html_to_text(decode_bytes(data, label or html_charset(data)))
    return decode_bytes(data, label)


def _filename(part) -> str:
    try:
        name = part.get_filename()
    except (LookupError, ValueError, TypeError, IndexError):
        name = None
    if name and any("\udc80" <= ch <= "\udcff" for ch in name):
        name = decode_bytes(name.encode("utf-8", "surrogateescape"))
    return sanitise(name or "").replace("/", "_").replace("\\", "_").strip()[:255]


def _is_attachment(part) -> bool:
    try:
        disposition = part.get_content_disposition()
    except (ValueError, IndexError):
        disposition = None
    return disposition == "attachment" or bool(_filename(part))


class _TooDeep(Exception):
    pass


class _Reader:
    """One walk over a message's parts: the texts of its body and its other parts."""

    def __init__(self):
        self.texts: list[str] = []
        self.attachments: list[Attachment] = []
        self.notes: list[str] = []

    def attach(self, part, content: bytes, *, default_name: str):
        content_type = part.get_content_type()[:120]
        name = _filename(part)
        if not name:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = f"{default_name}-{len(self.attachments) + 1}{extension}"
        self.attachments.append(Attachment(name, content_type, content))

    def read(self, part, depth=0):
        if depth > MAX_PART_DEPTH:
            raise _TooDeep
        maintype = part.get_content_maintype()
        subtype = part.get_content_subtype()
        if part.get_content_type() == "message/rfc822" or (
            maintype == "message" and part.is_multipart() and subtype in ("rfc822", "global")
        ):
            self.attach_message(part)
        elif maintype == "multipart" and part.is_multipart():
            children = [child for child in part.get_payload() if hasattr(child, "get_content_type")]
            if subtype == "alternative":
                self.read_alternative(children, depth)
            elif subtype == "signed" and children:
                # S/MIME or PGP: the first part is what the patron wrote, whatever its
                # type says (M2Crypto labels it application/plain); the rest is the
                # signature, kept as an attachment.
                self.read_signed_content(children[0], depth + 1)
                for child in children[1:]:
                    self.read(child, depth + 1)
            else:
                for child in children:
                    self.read(child, depth + 1)
        elif maintype == "multipart":
            # No boundary, or one that never appears: the body is all there is.
            self.notes.append(BROKEN_MIME_NOTE)
            self.texts.append(decode_bytes(_payload(part), _charset(part)))
        elif maintype == "text" and subtype in ("plain", "html") and not _is_attachment(part):
            self.texts.append(_part_text(part))
        elif (
            maintype == "text" and not _is_attachment(part) and subtype in ("enriched", "richtext")
        ):
            self.texts.append(re.sub(r"<[^>]*>", "", _part_text(part)))
        else:
            default = "image" if maintype == "image" else "part"
            self.attach(part, _payload(part), default_name=default)

    def read_signed_content(self, part, depth):
        if (
            not part.is_multipart()
            and part.get_content_maintype() != "text"
            and part.get_param("charset") is not None
            and not _is_attachment(part)
        ):
            self.texts.append(decode_bytes(_payload(part), _charset(part)))
        else:
            self.read(part, depth)

    def read_alternative(self, children, depth):
        readers = []
        for child in children:
            reader = _Reader()
            reader.read(child, depth + 1)
            readers.append((child, reader))
        plain = [r for child, r in readers if child.get_content_type() == "text/plain" and r.texts]
        chosen = plain[0] if plain else next((r for _c, r in reversed(readers) if r.texts), None)
        for _child, reader in readers:
            if reader is chosen:
                self.texts.extend(reader.texts)
            self.attachments.extend(reader.attachments)
            self.notes.extend(reader.notes)

    def attach_message(self, part):
        """A forwarded or bounced message: kept whole as a .eml file (a download)."""
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        try:
            content = inner.as_bytes(policy=policy.default.clone(max_line_length=0))
        except Exception:  # noqa: BLE001 - a broken enclosed message is kept as it came
            try:
                content = inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
            except Exception:  # noqa: BLE001
                content = _payload(part)
        subject = _header(inner, "Subject") if hasattr(inner, "get") else ""
        name = _filename(part) or (re.sub(r"[^\w\- ]+", "", subject).strip()[:80] or "message")
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.attachments.append(Attachment(name[:255], "message/rfc822", content))


def _header(message, name) -> str:
    """A header's text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8 (or by
    detection), unknown charsets never failing."""
    value = None
    try:
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                value = raw
                break
    except (AttributeError, ValueError, IndexError):
        return ""
    if value is None:
        return ""
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        value = decode_bytes(value.encode("utf-8", "surrogateescape"))
    value = re.sub(r"\r?\n[ \t]", " ", value)
    try:
        chunks = decode_header(value)
    except (ValueError, IndexError, LookupError):
        return sanitise(value).strip()
    text = "".join(
        chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)
        for chunk, charset in chunks
    )
    return sanitise(text).strip()


def _addresses(message, names) -> list[str]:
    values = [_header(message, name) for name in names]
    try:
        pairs = getaddresses([value for value in values if value])
    except (ValueError, IndexError, TypeError):
        return []
    return [address for _name, address in pairs if address]


def parse_message(raw: bytes) -> ParsedMessage:
    reader = _Reader()
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        reader.read(message)
    except (RecursionError, _TooDeep):
        message = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        reader = _Reader()
        reader.notes.append(TOO_DEEP_NOTE.format(depth=MAX_PART_DEPTH))
    text = "\n\n".join(t.strip("\n") for t in reader.texts if t.strip())
    split = split_reply(text) if text else Split("", "")
    body = "\n\n".join([split.reply, *reader.notes]).strip() if reader.notes else split.reply
    try:
        from_name, from_address = parseaddr(_header(message, "From"))
    except (ValueError, IndexError, TypeError):
        from_name, from_address = "", ""
    in_reply_to = re.findall(
        r"<[^<>\s]+>", _header(message, "In-Reply-To") + " " + _header(message, "References")
    )
    auto = _header(message, "Auto-Submitted").lower()
    return ParsedMessage(
        message_id=_header(message, "Message-ID")[:255],
        subject=re.sub(r"\s+", " ", _header(message, "Subject"))[:500],
        from_name=from_name.strip()[:80],
        from_address=from_address.strip()[:254],
        recipients=_addresses(message, ("To", "Cc", "Delivered-To", "X-Original-To")),
        in_reply_to=in_reply_to,
        body=body,
        quoted=split.quoted,
        attachments=reader.attachments,
        auto_submitted=bool(auto) and auto != "no",
        notes=reader.notes,
    )
