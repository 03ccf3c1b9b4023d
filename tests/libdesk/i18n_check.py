"""Finds user-facing strings that are not marked for translation (tests/libdesk/test_i18n.py).

What counts as user-facing, by kind of file:
- templates: text between tags, and the attributes people read (aria-label, title,
  placeholder, alt, label) — outside {% translate %}/{% blocktranslate %} and variables;
- JavaScript modules: string and template literals that read as prose (a capital letter
  then a space, or ending in . ! ? …), or that hold two words and are built around a
  value (``${n} chats waiting``, ``n + " chats waiting"``), outside
  gettext()/ngettext()/pgettext();
- Python: string constants (and f-strings) that read as prose, outside gettext & co.,
  except docstrings, log calls and exceptions meant for developers; and, however short,
  labels (a form field's, a model field's verbose name and help text, a model's or
  inline's verbose_name, a choice's label, an admin column's or action's description,
  a fieldset's title, a message_user text).

A line may say why it is not user-facing with ``i18n: not user-facing`` (or
``{# i18n: not user-facing #}`` in a template) and is then skipped.
"""

import ast
import re
from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent.parent
PRAGMA = "i18n: not user-facing"
PRODUCT = "LibDesk"  # the product's name is the same in every language

# Prose: a capitalised word then another word, or two words ending like a sentence.
PROSE = re.compile(r"^\s*[A-Z][a-z'’]*[ ,]+[A-Za-z(%{]|\w\s+\S*\w[.!?…]\s*$")
LETTERS = re.compile(r"[A-Za-z]{2,}")

TRANSLATORS = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "gettext_noop",
}
DEVELOPER_EXCEPTIONS = {
    "ImproperlyConfigured",
    "ValueError",
    "TypeError",
    "RuntimeError",
    "AssertionError",
    "NotImplementedError",
    "KeyError",
    "LookupError",
    "CommandError",
    "OSError",
}
# Keyword arguments whose words people read, however short (a form field's "Status").
LABELS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}
# Models and the admin: where else a word people read is written, however short.
# Class attributes (a Meta's or an inline's ``verbose_name``) …
LABEL_ATTRIBUTES = {"verbose_name", "verbose_name_plural", "short_description"}
# … ``@admin.display(description=…)`` and ``@admin.action(description=…)`` …
DESCRIBED = {"display", "action"}
# … and a model field's first positional argument, its verbose name
# (``models.BooleanField("active")``), but for relations, whose first is the model.
RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _call_name(node) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def python_findings(path: Path) -> list[tuple[str, int, str]]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    parents = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(body[0].value)

    def excused(node) -> bool:
        current = node
        while current in parents:
            current = parents[current]
            if isinstance(current, ast.Call):
                name = _call_name(current)
                if name in TRANSLATORS or name in DEVELOPER_EXCEPTIONS:
                    return True
                func = current.func
                if name in LOG_METHODS and isinstance(func, ast.Attribute):
                    return True
            if isinstance(current, (ast.Compare, ast.Subscript)):
                return True
            if isinstance(current, ast.Dict) and node in current.keys:
                return True
        return False

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node in docstrings or isinstance(parents.get(node), ast.JoinedStr):
                continue
            text = node.value
        else:
            continue
        labelled = _labelled(node, parents)
        if not (PROSE.search(text) or (labelled and LETTERS.search(text))) or excused(node):
            continue
        line = lines[node.lineno - 1]
        if PRAGMA in line:
            continue
        found.append((str(path.relative_to(ROOT)), node.lineno, text.strip()[:80]))
    return found


def _labelled(node, parents) -> bool:
    """Whether ``node`` (a string) sits where its words are a label people read, however
    short: a label's keyword, a model field's verbose name, a Meta's or an inline's
    ``verbose_name``, an admin display's or action's description, a fieldset's title, a
    choice's label (``choices=[(value, label)]``, ``NONE = "", "Nobody"`` in a
    TextChoices), a message to the admin's user."""
    parent = parents.get(node)
    if isinstance(parent, ast.keyword):
        if parent.arg in LABELS:
            return True
        call = parents.get(parent)
        return parent.arg == "description" and _call_name(call) in DESCRIBED
    if isinstance(parent, ast.Call):
        name = _call_name(parent)
        if name == "message_user":
            return True
        if name.endswith("Field") and name not in RELATIONS | {"Field"}:  # crispy's Field
            return bool(parent.args) and parent.args[0] is node
        return False
    if isinstance(parent, ast.Assign):
        names = {t.id for t in parent.targets if isinstance(t, ast.Name)}
        return bool(names & LABEL_ATTRIBUTES)
    if isinstance(parent, ast.Tuple) and parent.elts and len(parent.elts) >= 2:
        holder = parents.get(parent)
        # A TextChoices member: NAME = value, label.
        if isinstance(holder, ast.Assign) and parent.elts[-1] is node:
            klass = parents.get(holder)
            return isinstance(klass, ast.ClassDef) and any(
                (getattr(base, "id", "") or getattr(base, "attr", "")).endswith("Choices")
                for base in klass.bases
            )
        listing = holder
        assignment = parents.get(listing) if isinstance(listing, (ast.List, ast.Tuple)) else None
        # choices=[(value, label), …]: the label.
        if isinstance(assignment, ast.keyword) and assignment.arg == "choices":
            return parent.elts[1] is node
        # fieldsets = [(title, {...}), …]: the title.
        if isinstance(assignment, ast.Assign) and parent.elts[0] is node:
            names = {t.id for t in assignment.targets if isinstance(t, ast.Name)}
            return "fieldsets" in names
    return False


JS_LITERAL = re.compile(r"""(?P<q>["'`])(?P<body>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
JS_TRANSLATED = re.compile(r"\b(?:gettext|ngettext|pgettext)\(\s*$")
# Words around a value: "${count} ended chats without statistics" or
# `count + " ended chats"`. PROSE wants a capital first or a sentence's end, which the
# piece of a built string often lacks; two words in it are enough (not class names:
# "msg msg-${kind}").
JS_WORDS = re.compile(
    r"(?<![-\w])(?:[A-Za-z]{2,}[ ,]+[A-Za-z]+|[A-Za-z]+[ ,]+[A-Za-z]{2,})(?![-\w])"
)


def javascript_findings(path: Path) -> list[tuple[str, int, str]]:
    found = []
    text = path.read_text()
    # Drop comments (line and block) so that their prose is not read as strings.
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    in_table = False
    continued = False  # the previous line's literal was a translation's, and goes on
    for number, line in enumerate(text.splitlines(), 1):
        # A table of translations kept beside the catalogs (the loader's), which a test
        # compares with them: from "i18n: table" to its closing "};".
        if "i18n: table" in line:
            in_table = True
        if in_table:
            in_table = not line.strip().startswith("};")
            continue
        if PRAGMA in line:
            continue
        code = re.sub(r"(^|\s)//.*$", "", line)
        was_continued, continued = continued, False
        for match in JS_LITERAL.finditer(code):
            body = match.group("body")
            before = code[: match.start()]
            after = code[match.end() :]
            # A string built around a value: a template literal with ${…}, or a literal
            # joined to one with +.
            built = (match.group("q") == "`" and "${" in body) or bool(
                re.search(r"\+\s*$", before) or re.match(r"\s*\+(?!\+)", after)
            )
            if match.group("q") == "`":
                body = re.sub(r"\$\{[^}]*\}", "", body)
            # One capitalised word put where people read it: "Cancel", "Open", "You".
            word = re.fullmatch(r"[A-Z][a-z]{2,}…?", body) and re.search(
                r"(textContent\s*=|innerText\s*=|[?:,]|aria-label\",)\s*$", before
            )
            if not (PROSE.search(body) or word or (built and JS_WORDS.search(body))):
                continue
            # Inside gettext( … ): the literal opens a translation call, possibly on the
            # call's own line or the line before (long strings are wrapped).
            previous = text.splitlines()[number - 2] if number > 1 else ""
            if JS_TRANSLATED.search(before) or (
                not before.strip() and (JS_TRANSLATED.search(previous) or was_continued)
            ):
                continued = code.rstrip().endswith(",")
                continue
            found.append((str(path.relative_to(ROOT)), number, body[:80]))
    return found


READ_ATTRIBUTES = re.compile(
    r"""\b(aria-label|title|placeholder|alt|label)\s*=\s*(["'])(?P<value>[^"']*)\2"""
)
TAG = re.compile(r"<[^>]*>", re.S)
# Blocks that fill an attribute nobody reads (a CSS class).
ATTRIBUTE_BLOCKS = ("block body_class",)


def template_findings(path: Path) -> list[tuple[str, int, str]]:
    """The template's text with every tag, variable and translation replaced by a mark,
    then what is left outside tags (and in read attributes) that has letters."""
    source = path.read_text()
    pieces = []  # the template as text, non-text tokens as "\x00"
    in_translation = skip = False
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name in ("blocktranslate", "blocktrans"):
                in_translation = True
            elif name in ("endblocktranslate", "endblocktrans"):
                in_translation = False
            elif name in ("comment", "verbatim") or token.contents.startswith(ATTRIBUTE_BLOCKS):
                skip = True
            elif name in ("endcomment", "endverbatim") or (skip and name == "endblock"):
                skip = False
            pieces.append("\x00")
        elif token.token_type == TokenType.TEXT and not in_translation and not skip:
            pieces.append(token.contents)
        else:
            pieces.append("\x00" + "\n" * token.contents.count("\n"))
    text = "".join(pieces)
    text = re.sub(
        r"<(script|style)\b.*?</\1>",
        lambda m: "\n" * m.group(0).count("\n"),
        text,
        flags=re.S | re.I,
    )
    lines = source.splitlines()

    def line_of(offset):
        return text.count("\n", 0, offset) + 1

    found = []
    for tag in TAG.finditer(text):
        for match in READ_ATTRIBUTES.finditer(tag.group(0)):
            value = match.group("value").replace("\x00", "")
            if LETTERS.search(value):
                found.append((line_of(tag.start()), f"{match.group(1)}={value!r}"))
    position = 0
    for piece in TAG.split(text):
        offset = text.find(piece, position)
        position = max(offset, position)
        words = piece.replace("\x00", " ").strip()
        if LETTERS.search(words.replace(PRODUCT, "")) and not words.startswith("&"):
            found.append((line_of(offset + len(piece) - len(piece.lstrip())), words[:80]))
    relative = str(path.relative_to(ROOT))
    return [
        (relative, line, what)
        for line, what in found
        if not (0 < line <= len(lines) and PRAGMA in lines[line - 1])
    ]
