"""Which text the desk stores: one rule for every JSON field (HTTP bodies and socket
frames) and every form field, so that bad input is refused where it arrives, with the
field it came in, instead of failing later in the database.

Refused, never altered (docs/protocol.md, "Text the desk refuses"):

- NUL (U+0000): PostgreSQL text cannot hold it;
- lone UTF-16 surrogates (U+D800-U+DFFF), what a browser's JSON.stringify sends for half
  an emoji: they have no UTF-8 form, so neither database can store them.

Everything else (right-to-left overrides, zero-width joiners, markup, SQL, emoji) is
ordinary text: stored as given and escaped where shown. JSON is also refused when nested
deeper than ``MAX_JSON_DEPTH`` (no desk frame needs more than a few levels, and Python's
parser would otherwise run out of stack on a hostile one).
"""

import json
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from chat.exceptions import InvalidInput

_REFUSED = re.compile("[\x00\ud800-\udfff]")

# No frame or body of the desk nests deeper than 3; the parser's own limit is ~1,000.
MAX_JSON_DEPTH = 32


def refused_character(value: str) -> str | None:
    """What is wrong with ``value`` in words, or None when the desk can store it."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "a NUL character (U+0000)"
    return f"a lone surrogate (U+{ord(found.group()):04X}, half of a character)"


class RefusedText(InvalidInput):
    """Text holding characters the desk refuses (see the module's docstring)."""

    code = "bad_characters"

    def __init__(self, field: str, reason: str):
        self.field = field
        super().__init__(
            _(
                "'%(field)s' contains %(reason)s, which the desk cannot store. "
                "Remove it and send again."
            )
            % {"field": field, "reason": reason}
        )

    def as_frame(self, **extra):
        return super().as_frame(field=self.field, **extra)


def check_text(value, field: str):
    """``value`` itself when it is not text or is storable text; RefusedText if not."""
    if isinstance(value, str):
        reason = refused_character(value)
        if reason is not None:
            raise RefusedText(field, reason)
    return value


def check_json_value(data) -> None:
    """Every string in a parsed JSON value (object keys too) is storable, and it is
    nested at most ``MAX_JSON_DEPTH`` deep; RefusedText (naming the top-level field) or
    InvalidInput ``too_deep`` if not. Walked without recursion."""
    pending = [(data, "", 0)]
    while pending:
        value, field, depth = pending.pop()
        if isinstance(value, str):
            check_text(value, field or "value")
            continue
        if isinstance(value, (dict, list)) and depth >= MAX_JSON_DEPTH:
            raise InvalidInput(
                _("That JSON is nested too deeply (limit %(limit)s levels).")
                % {"limit": MAX_JSON_DEPTH},
                code="too_deep",
            )
        if isinstance(value, dict):
            for key, item in value.items():
                name = field or key
                check_text(key, name)
                pending.append((item, name, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, field, depth + 1) for item in value)


def _nesting_depth_over(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (checked before the
    parser, which recurses)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def load_json(text: str | bytes):
    """Parsed JSON whose text the desk can store: InvalidInput ``bad_json`` when it is not
    JSON, ``too_deep`` when nested too deeply, RefusedText for NUL or lone surrogates."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(_("Send JSON as UTF-8."), code="bad_json") from None
    if _nesting_depth_over(text, MAX_JSON_DEPTH):
        raise InvalidInput(
            _("That JSON is nested too deeply (limit %(limit)s levels).")
            % {"limit": MAX_JSON_DEPTH},
            code="too_deep",
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidInput(_("That is not valid JSON."), code="bad_json") from None
    # JSON text can carry NUL or a surrogate only as a \u escape (the parser refuses raw
    # control characters; UTF-8 has no surrogates), and browsers escape nothing else
    # that way: most frames need no walk at all.
    if "\\u" in text or not _is_utf8(text):
        check_json_value(data)
    return data


def _is_utf8(text: str) -> bool:
    """No raw surrogate in ``text`` (what a test client, not a browser, could send)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_storable_text(value) -> None:
    """The same rule as a form field validator (Django's CharField refuses NUL by itself;
    this also names surrogates, which reach a form only through code, not a browser)."""
    if isinstance(value, str):
        reason = refused_character(value)
        if reason is not None:
            raise ValidationError(
                _("This contains %(reason)s, which the desk cannot store.") % {"reason": reason},
                code="bad_characters",
            )


def check_length(value: str, field: str, limit: int) -> str:
    """``value`` when at most ``limit`` characters; InvalidInput ``too_long`` naming the
    field otherwise (refused, never cut: a cut name or address is a wrong one)."""
    if len(value) > limit:
        error = InvalidInput(
            f"'{field}' is too long ({len(value)} characters; the limit is {limit}).",
            code="too_long",
        )
        error.field = field
        raise error
    return value
