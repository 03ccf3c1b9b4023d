"""Canned message bodies: which placeholders they may hold, and filling them for a chat.

A body is plain text with ``str.format``-style placeholders: ``{patron_name}``,
``{operator_name}``, ``{department}``, ``{library}``; ``{{`` and ``}}`` are literal
braces. Bodies are parsed with ``string.Formatter().parse`` and filled by plain
substitution: never ``str.format`` on stored text, so no attribute access, indexing or
format specs can run, and a template can never raise while filling.

The result is text: the dashboard puts it in the message box and the widget shows it
with ``textContent``, so a body holding HTML arrives as the characters it holds.
"""

import re
from string import Formatter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from libdesk.i18n import alternatives

# Each name's meaning, shown beside the Canned Messages form.
PLACEHOLDERS = {
    "patron_name": gettext_lazy("the patron's name (or “there” when they gave none)"),
    "operator_name": gettext_lazy("the name patrons see for the librarian"),
    "department": gettext_lazy("the chat's department"),
    "library": gettext_lazy("the library's name"),
}
PATRON_NAME_FALLBACK = "there"
SHORTCUT_RE = re.compile(r"^/\S+$")
SHORTCUT_MAX = 40

_formatter = Formatter()
_LENIENT_FIELD = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def _placeholder_list() -> str:
    return alternatives(f"{{{name}}}" for name in PLACEHOLDERS)


def template_problems(body: str) -> list[str]:
    """Every reason ``body`` cannot be saved (empty list: it is fine)."""
    try:
        parsed = list(_formatter.parse(body))
    except ValueError:
        return [
            _(
                "A brace is not closed or not opened. Placeholders look like {patron_name}; "
                "to show a brace itself, write it twice: {{ or }}."
            )
        ]
    unknown, bad = [], []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        shown = (
            "{"
            + field
            + ("!" + conversion if conversion else "")
            + (":" + spec if spec else "")
            + "}"
        )
        if field == "":
            bad.append(shown)
        elif field not in PLACEHOLDERS:
            # Covers {x.y} and {x[0]}: no attribute or index lookups, ever.
            unknown.append(shown)
        elif spec or conversion:
            bad.append(shown)
    problems = []
    if unknown:
        names = ", ".join(dict.fromkeys(unknown))
        problems.append(
            ngettext(
                "Unknown placeholder: %(names)s. Use %(known)s; to show a brace itself, "
                "write it twice: {{ or }}.",
                "Unknown placeholders: %(names)s. Use %(known)s; to show a brace itself, "
                "write it twice: {{ or }}.",
                len(dict.fromkeys(unknown)),
            )
            % {"names": names, "known": _placeholder_list()}
        )
    if bad:
        problems.append(
            _(
                "Placeholders take no format or conversion: %(names)s. "
                "Write them plainly, like {patron_name}."
            )
            % {"names": ", ".join(dict.fromkeys(bad))}
        )
    return problems


def validate_body(body: str) -> None:
    """Raise ValidationError (for forms and the admin) when ``body`` cannot be saved."""
    problems = template_problems(body or "")
    if problems:
        raise ValidationError(problems, code="bad_placeholder")


def validate_shortcut(shortcut: str) -> None:
    if shortcut and not SHORTCUT_RE.match(shortcut):
        raise ValidationError(
            _("A shortcut starts with “/” and has no spaces, like /welcome."), code="bad_shortcut"
        )


def context_for(*, chat=None, operator=None) -> dict[str, str]:
    """The values of the placeholders for ``chat`` as written by ``operator``."""
    patron_name = (chat.patron_name or "").strip() if chat is not None else ""
    return {
        "patron_name": patron_name or PATRON_NAME_FALLBACK,
        "operator_name": operator.public_name if operator is not None else "",
        "department": chat.department.name if chat is not None else "",
        "library": settings.LIBRARY_NAME,
    }


def fill(body: str, context: dict[str, str]) -> str:
    """``body`` with its placeholders replaced. Never raises: an unknown placeholder or a
    stray brace (only possible in text saved before validation) is left as written."""
    try:
        parsed = list(_formatter.parse(body))
    except ValueError:
        return _LENIENT_FIELD.sub(lambda m: context.get(m.group(1), m.group(0)), body)
    out = []
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        if field in context and not spec and not conversion:
            out.append(context[field] or "")
        else:
            out.append(
                "{"
                + field
                + ("!" + conversion if conversion else "")
                + (":" + spec if spec else "")
                + "}"
            )
    return "".join(out)
