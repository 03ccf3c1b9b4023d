"""Where a patron's reply ends and the quoted history begins, in plain text.

Each line is marked: ``e`` empty, ``m`` quoted (``>``), ``s`` the start of quoted
history (an attribution line "On … wrote:" in any of the languages below, a
"From: … Sent: …" header block, an "Original Message" separator), ``f`` a forward
("Forwarded message"), ``t`` text. The marks, read as a string, decide (the approach
of mailgun's talon, with our own patterns and rules):

- a forward (text, then ``f``) is all reply: the patron sends the message on;
- text between quoted lines (an inline answer) keeps everything: nothing is folded;
- a splitter followed by text folds from the splitter to the end;
- a block of quoted lines (after a splitter, or three or more) is folded, and text
  after it (a bottom-posted reply, a signature) stays in the reply.

Nothing is deleted: ``Split.quoted`` holds what is folded, and when the reply would be
empty the whole text is the reply. Chosen by the figures of ``benchmarks/mail_corpus.py``
(docs/operations.md, "Reply detection").
"""

import re
from dataclasses import dataclass

# "On <date>, <name> wrote:" — the words that open and close an attribution line.
_ON_WORDS = (
    r"On|Am|Le|El|Em|Il|Op|W\s+dniu|Dnia|Den|På|Dne|В|Vào|Il\s+giorno|El\s+día|Em\s+\d"
    r"|Påː|Pe|Dana|Lähetetty|Ngày"
)
_WROTE_WORDS = (
    r"wrote|sent|a\s+écrit|schrieb|schreef|geschreven|escribió|escribio|escreveu|ha\s+scritto"
    r"|scrisse|scrive|napisał|napisała|napisał\(a\)|skrev|skrifaði|написал|написала"
    r"|написал\(а\)|пишет|kirjoitti|írta|napsal|napsala|yazdı|đã\s+viết|写道|寫道|a\s+scris"
)
_EMAIL = r"[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+"
_ATTRIBUTION_START = rf"^[\s\-*>_]*(?:(?:{_ON_WORDS})\s|\d|\w+,?\s+\d)"
_ATTRIBUTION_START_RE = re.compile(_ATTRIBUTION_START, re.IGNORECASE)
# "---- John Smith wrote ----" (Android).
_DASHED_WROTE_RE = re.compile(
    rf"^\s*-{{2,}}.{{1,200}}?(?<!\w)(?:{_WROTE_WORDS})\s*-{{2,}}\s*$", re.IGNORECASE
)
_ATTRIBUTION_RE = re.compile(
    rf"{_ATTRIBUTION_START}.{{0,400}}?(?<!\w)(?:{_WROTE_WORDS})(?!\w)"
    r".{0,140}?(?:[:\-]\s*)$",
    re.IGNORECASE | re.DOTALL,
)
# "Roman <roman@example.com> wrote:", "Sent from Samsung Mobile<a@b.c> wrote:".
_NAMED_WROTE_RE = re.compile(
    rf"^.{{0,250}}(?:@|\d).{{0,250}}(?<!\w)(?:{_WROTE_WORDS})\s*:\s*$", re.IGNORECASE | re.DOTALL
)
# Dates first: "2014-10-17 11:28 GMT+03:00 Postmaster <postmaster@…>:", "26.06.2014,
# 14:14, "Alexander" <a@example.com>:", "2011/4/7 Nathan <support@example.com>".
_DATE_EMAIL_RE = re.compile(
    rf"^\s*\d{{1,4}}[/.\-]\d{{1,2}}[/.\-]\d{{1,4}}.{{0,200}}?<?\s*{_EMAIL}\s*[>)\]]\s*:?\s*$",
    re.IGNORECASE | re.DOTALL,
)
# "…, 14:14 +04:00 от Alexander L <abc@example.com>:" (a line that ends in an address
# and a colon, with a time or date in it).
_ADDRESS_COLON_RE = re.compile(
    rf"^(?=.*\d).{{0,300}}<\s*{_EMAIL}\s*>\s*:\s*$", re.IGNORECASE | re.DOTALL
)
_ORIGINAL_RE = re.compile(
    r"^[\s>]*[-_=*]{2,}\s*(?:Original\s+Message|Original|Ursprüngliche\s+Nachricht"
    r"|Original-Nachricht|Antwort\s+Nachricht|Originalnachricht|Message\s+d'origine|Message\s+original"
    r"|Mensaje\s+original|Mensagem\s+original|Messaggio\s+originale|Oorspronkelijk\s+bericht"
    r"|Origineel\s+bericht|Originalmeddelande|Ursprungligt\s+meddelande|Oprindelig\s+meddelelse"
    r"|Opprinnelig\s+melding|Wiadomość\s+oryginalna|Oryginalna\s+wiadomość|Исходное\s+сообщение"
    r"|Původní\s+zpráva|Reply\s+message|Alkuperäinen\s+viesti|Eredeti\s+üzenet)"
    r"\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_RE = re.compile(
    r"^[\s>]*(?:[-_=*]{2,}\s*(?:Forwarded\s+message|Weitergeleitete\s+Nachricht"
    r"|Message\s+transféré|Mensaje\s+reenviado|Mensaje\s+reenviado|Mensagem\s+encaminhada"
    r"|Messaggio\s+inoltrato|Doorgestuurd\s+bericht|Wiadomość\s+przekazana"
    r"|Vidarebefordrat\s+meddelande|Videresendt\s+meddelelse|Videresendt\s+melding"
    r"|Пересылаемое\s+сообщение|Přeposlaná\s+zpráva)\s*[-_=*]*"
    r"|Begin\s+forwarded\s+message\s*:|Anfang\s+der\s+weitergeleiteten\s+Nachricht\s*:"
    r"|Début\s+du\s+message\s+réexpédié\s*:)",
    re.IGNORECASE,
)
# A header block of a quoted message (Outlook, Hotmail, Yahoo, …), in many languages.
_FROM_WORDS = r"From|Von|De|Da|Van|Od|Från|Fra|От|Từ|Frá|Lähettäjä|Feladó|Kimden|Date|Datum|Sent"
_HEADER_WORDS = (
    r"From|Sent|Date|To|Subject|Cc|Von|Gesendet|Datum|An|Betreff|De|Envoyé|À|A|Objet|Enviado"
    r"|Enviada|Fecha|Para|Asunto|Assunto|Data|Inviato|Oggetto|Da|Van|Verzonden|Aan|Onderwerp"
    r"|Od|Wysłane|Wysłano|Do|Temat|Från|Skickat|Till|Ämne|Fra|Sendt|Til|Emne|От|Отправлено"
    r"|Дата|Кому|Тема|Từ|Gửi|Đến|Chủ\s+đề|Ngày|Kimden|Tarih|Kime|Konu"
)
_FROM_LINE_RE = re.compile(rf"^\s*[*_]*(?:{_FROM_WORDS})\s*[*_]*\s*:[*_]*\s*\S", re.IGNORECASE)
_HEADER_LINE_RE = re.compile(rf"^\s*[*_]*(?:{_HEADER_WORDS})\s*[*_]*\s*:", re.IGNORECASE)
_RULE_RE = re.compile(r"^\s*(?:_{8,}|-{8,}|={8,})\s*$")
_QUOTE_RE = re.compile(r"^\s*>")
_LINK_RE = re.compile(r"\(https?://|^\s*<?https?://|^\s*_?\w*=\w*\)?\s*>?\s*$")
_QUOTED_WROTE_RE = re.compile(rf"^\s*>\s*(?:{_WROTE_WORDS})\s*:\s*$", re.IGNORECASE)
_SHARED_LINE_RE = re.compile(rf"(?<=\S)[\s\-]*(?=(?:{_ON_WORDS})\s)", re.IGNORECASE)

MAX_SPLITTER_LINES = 6
MAX_LINES = 20_000  # past this the text is kept whole (no folding): nothing is lost


@dataclass(frozen=True)
class Split:
    reply: str  # what staff see first
    quoted: str  # folded behind "Show quoted text" ('' when nothing is folded)


def _attribution_length(lines: list[str], start: int) -> int:
    """How many lines from ``start`` make an attribution ("On … wrote:"), 0 if none."""
    first = lines[start]
    if len(first) > 400:
        return 0
    if _DASHED_WROTE_RE.match(first):
        return 1
    # Only a line that opens like an attribution ("On …", a date, "Thu, 26 …") may
    # run on to the next lines: a reply's own last line never joins the quote's.
    max_lines = MAX_SPLITTER_LINES if _ATTRIBUTION_START_RE.match(first) else 1
    for count in range(1, max_lines + 1):
        chunk = lines[start : start + count]
        if len(chunk) < count:
            break
        if count > 1 and not chunk[-1].strip() and count == MAX_SPLITTER_LINES:
            break
        joined = " ".join(line.strip() for line in chunk if line.strip())
        if len(joined) > 600:
            break
        if count > 1 and _QUOTE_RE.match(chunk[-1]) and not _QUOTED_WROTE_RE.match(chunk[-1]):
            break
        if (
            _ATTRIBUTION_RE.match(joined)
            or _DATE_EMAIL_RE.match(joined)
            or _ADDRESS_COLON_RE.match(joined)
            or (count == 1 and _NAMED_WROTE_RE.match(joined))
        ):
            return count
        if count == 1 and first.rstrip().endswith(":") and not re.search(r"\d|@", first):
            return 0  # "Hi all:" and the like start no attribution
    return 0


def _is_header_block(lines: list[str], start: int) -> bool:
    if not _FROM_LINE_RE.match(lines[start]):
        return False
    window = lines[start + 1 : start + 1 + MAX_SPLITTER_LINES]
    return any(_HEADER_LINE_RE.match(line) for line in window)


def _split_shared_lines(lines: list[str]) -> list[str]:
    """ "reply On Wed, … wrote:" on one line: the reply and the attribution apart."""
    result = []
    for line in lines:
        if len(line) < 600 and re.search(_WROTE_WORDS, line, re.IGNORECASE):
            match = _SHARED_LINE_RE.search(line)
            if match and _ATTRIBUTION_RE.match(line[match.end() :]):
                before = line[: match.start()].rstrip(" -")
                if before.strip() and not _QUOTE_RE.match(line):
                    result.extend([before, line[match.end() :]])
                    continue
        result.append(line)
    return result


def mark_lines(lines: list[str]) -> str:
    marks = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            marks.append("e")
        elif _QUOTE_RE.match(line):
            marks.append("m")
        elif _FORWARD_RE.match(line):
            marks.append("f")
        elif _ORIGINAL_RE.match(line) or _is_header_block(lines, index):
            marks.append("s")
        elif _RULE_RE.match(line) and any(
            _is_header_block(lines, other) for other in range(index + 1, min(index + 3, len(lines)))
        ):
            marks.append("s")
        else:
            length = _attribution_length(lines, index)
            if length:
                marks.extend("s" * length)
                index += length
                continue
            marks.append("t")
        index += 1
    return "".join(marks[: len(lines)])


def _join(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n").rstrip()


def split_reply(text: str) -> Split:
    """The patron's reply and the quoted history it carries: see the module docstring."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    whole = Split(_join(text.split("\n")).strip(), "")
    lines = text.split("\n")
    if len(lines) > MAX_LINES:
        return whole
    lines = _split_shared_lines(lines)
    marks = mark_lines(lines)
    if "s" not in marks and not re.search("(?:me*){3}", marks):
        marks = marks.replace("m", "t")
    if re.match("[te]*f", marks):
        return whole
    for inline in re.finditer("(?<=m)e*(t[te]*)m", marks):
        start = inline.start(1)
        if _LINK_RE.search(lines[start]) or _LINK_RE.search(lines[start - 1] if start else ""):
            continue
        return whole  # the patron answered between the quoted lines: keep every line
    cut = re.search("(?:se*)+(?:[tf]+e*)+", marks)
    if cut:
        reply, quoted = lines[: cut.start()], lines[cut.start() :]
    else:
        block = re.search(r"((?:s|(?:me*){2,}).*me*)[te]*$", marks) or re.search(
            r"((?:se*)+|(?:me*){2,})e*$", marks
        )
        if not block:
            return whole
        reply = lines[: block.start(1)] + lines[block.end(1) :]
        quoted = lines[block.start(1) : block.end(1)]
    reply_text = _join(reply).strip()
    if not reply_text:
        return whole  # trimming would leave nothing: the patron's lines are all kept
    return Split(reply_text, _join(quoted).strip())
