"""Bytes of a mail part or header → text, never failing.

Mail programs label charsets wrongly or not at all, so a label is a hint, not a rule:

- the labels browsers treat as windows-1252 (ISO-8859-1, us-ascii, latin1; the WHATWG
  Encoding Standard) are read as windows-1252, and us-ascii or no label as UTF-8 first
  when the bytes are valid UTF-8 (mail programs send UTF-8 labelled us-ascii);
- WHATWG names Python lacks (iso-8859-8-i, windows-874, x-user-defined, …) are mapped;
- an unknown label (``X-UNKNOWN``, ``unknown-8bit``, ``3D"utf-8"``) or bytes that the
  label cannot decode fall back to detection (charset-normalizer), then to UTF-8 with
  replacement characters: a patron's words are shown, never refused.

The text that leaves here holds no NUL and no lone surrogate (PostgreSQL text holds
neither): each becomes U+FFFD. The raw message is kept byte for byte beside it.
"""

import codecs
import re

from charset_normalizer import from_bytes

# WHATWG: these labels all mean windows-1252 in browsers.
_WINDOWS_1252_LABELS = {
    "ansi_x3.4-1968",
    "ascii",
    "cp1252",
    "cp819",
    "csisolatin1",
    "ibm819",
    "iso-8859-1",
    "iso-ir-100",
    "iso8859-1",
    "iso88591",
    "iso_8859-1",
    "iso_8859-1:1987",
    "l1",
    "latin1",
    "us-ascii",
    "windows-1252",
    "x-cp1252",
}
# WHATWG labels that Python spells differently (or lacks).
_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "csiso88598i": "iso-8859-8",
    "logical": "iso-8859-8",
    "windows-874": "cp874",
    "dos-874": "cp874",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "ks_c_5601-1987": "cp949",
    "x-gbk": "gbk",
    "gb2312": "gb18030",  # GBK/GB18030 are supersets; mail labelled gb2312 uses them
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "windows-31j": "cp932",
}
_UNKNOWN_LABELS = {"x-unknown", "unknown-8bit", "unknown", "x-user-defined", "default", "8bit"}
_CONTROL_RE = re.compile("[\x00\ud800-\udfff]")


def _cp1252_with_c1(error):
    """WHATWG windows-1252: the five bytes cp1252 leaves undefined are C1 controls."""
    if isinstance(error, UnicodeDecodeError):
        chunk = error.object[error.start : error.end]
        return "".join(chr(byte) for byte in chunk), error.end
    raise error


codecs.register_error("libdesk-c1", _cp1252_with_c1)


def clean_label(label) -> str:
    """``3D"UTF-8"`` (a quoted-printable leftover), quotes, spaces → ``utf-8``."""
    text = str(label or "").strip().strip("'\"").strip().lower()
    if text.startswith("3d"):
        text = text[2:].strip().strip("'\"").strip()
    return _ALIASES.get(text, text)


def sanitise(text: str) -> str:
    """No NUL, no lone surrogate: PostgreSQL cannot store them; U+FFFD marks the spot."""
    return _CONTROL_RE.sub("\ufffd", text)


def _detect(data: bytes) -> str | None:
    best = from_bytes(data[:200_000]).best()
    if best is None:
        return None
    try:
        return data.decode(best.encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def decode_bytes(data: bytes, label=None) -> str:
    """Text of ``data``, labelled ``label`` (or not): see the module docstring."""
    if not data:
        return ""
    name = clean_label(label)
    text = None
    if not name or name in ("us-ascii", "ascii", "ansi_x3.4-1968"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None and name:
            text = data.decode("cp1252", errors="libdesk-c1")
    elif name in _WINDOWS_1252_LABELS:
        text = data.decode("cp1252", errors="libdesk-c1")
    elif name not in _UNKNOWN_LABELS:
        try:
            codecs.lookup(name)
            text = data.decode(name)
        except (LookupError, UnicodeDecodeError, ValueError):
            text = None
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _detect(data)
    if text is None:
        text = data.decode("utf-8", errors="replace")
    return sanitise(text)


_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE
)


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document names in its first ``<meta>`` (as browsers read it)."""
    match = _META_CHARSET_RE.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
