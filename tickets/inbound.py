"""Inbound mail: raw RFC 822 bytes → what a ticket needs (stdlib ``email``, policy=default).

Pure functions, no database: ``parse_message`` reads the headers, the text (or the
HTML turned into text), trims the quoted history and collects attachments.
"""

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from tickets.models import parse_reference

PLUS_REFERENCE_RE = re.compile(r"\+(LD-\d{1,12})@", re.IGNORECASE)
SUBJECT_REFERENCE_RE = re.compile(r"\[(LD-\d{1,12})\]", re.IGNORECASE)
REPLY_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|aw|sv|antw)\s*:\s*)+", re.IGNORECASE)

# Where quoted history starts (the line and everything after it is dropped).
_ON_WROTE_RE = re.compile(r"^\s*On\b.*\bwrote:\s*$", re.IGNORECASE)
_ON_START_RE = re.compile(r"^\s*On\b.*\d", re.IGNORECASE)
_ORIGINAL_RE = re.compile(
    r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE
)
_OUTLOOK_FROM_RE = re.compile(r"^\s*\*?From:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_SENT_RE = re.compile(r"^\s*\*?(Sent|Date):\*?\s+\S", re.IGNORECASE)
_UNDERSCORES_RE = re.compile(r"^\s*_{10,}\s*$")


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
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    auto_submitted: bool = False

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
    """Visible text of an HTML body: block elements become line breaks; script, style,
    head and quoted history (<blockquote>, Gmail's quote div) are dropped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    SKIP = {"script", "style", "head", "title", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.skip_stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag in self.SKIP or "gmail_quote" in classes or dict(attrs).get("id") == "divRplyFwdMsg":
            self.skip_stack.append(tag)
            return
        if self.skip_stack:
            if tag == self.skip_stack[0] and tag not in {"br"}:
                self.skip_stack.append(tag)
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.skip_stack:
            if tag == self.skip_stack[-1]:
                self.skip_stack.pop()
            return
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip_stack:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    parser = _TextFromHTML()
    parser.feed(html)
    parser.close()
    return parser.text()


def trim_quoted(text: str) -> str:
    """The new part of a reply: quoted lines (``>``), "On … wrote:" blocks, Outlook
    "From: … Sent:" headers and "-----Original Message-----" and all after them go."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _ON_WROTE_RE.match(line):
            break
        if _ON_START_RE.match(line) and following.strip().lower().endswith("wrote:"):
            break
        if _ORIGINAL_RE.match(line) or _UNDERSCORES_RE.match(line):
            break
        if _OUTLOOK_FROM_RE.match(line):
            window = lines[index + 1 : index + 4]
            if any(_OUTLOOK_SENT_RE.match(other) for other in window):
                break
        if line in ("-- ", "--"):  # the signature delimiter
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    text = "\n".join(kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return part.get_content()
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(part.get_content())
    return ""


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    body_parts = {id(p) for p in (message.get_body(("plain",)), message.get_body(("html",))) if p}
    for part in message.walk():
        if part.is_multipart() or id(part) in body_parts:
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if not filename and disposition != "attachment":
            continue
        content = part.get_payload(decode=True) or b""
        found.append(
            Attachment(
                filename=(filename or "attachment").strip()[:255] or "attachment",
                content_type=part.get_content_type()[:120],
                content=content,
            )
        )
    return found


def _header(message, name) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a header the parser could not make sense of
        return ""
    return str(value or "").strip()


def parse_message(raw: bytes) -> ParsedMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    from_name, from_address = parseaddr(_header(message, "From"))
    recipients = [
        address
        for _name, address in getaddresses(
            [_header(message, name) for name in ("To", "Cc", "Delivered-To", "X-Original-To")]
        )
        if address
    ]
    in_reply_to = re.findall(
        r"<[^<>\s]+>", _header(message, "In-Reply-To") + " " + _header(message, "References")
    )
    auto = _header(message, "Auto-Submitted").lower()
    return ParsedMessage(
        message_id=_header(message, "Message-ID")[:255],
        subject=re.sub(r"\s+", " ", _header(message, "Subject"))[:500],
        from_name=from_name.strip()[:80],
        from_address=from_address.strip()[:254],
        recipients=recipients,
        in_reply_to=in_reply_to,
        body=trim_quoted(_body_text(message)),
        attachments=_attachments(message),
        auto_submitted=bool(auto) and auto != "no",
    )
