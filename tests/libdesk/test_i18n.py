"""Every string people read is marked for translation, the catalogs hold them all, and
the shipped languages are complete where they say they are (issue 19)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.libdesk import i18n_check

ROOT = i18n_check.ROOT
LOCALE = ROOT / "locale"

# What the check reads. The sample library page (templates/demo/) stands for a library's
# own site, not the desk.
PYTHON_DIRS = ["chat", "tickets", "analytics", "history", "supervisor", "libdesk"]
# provider_inbound.py answers mail providers' webhooks (machines), never a person.
PYTHON_SKIPPED = (
    "admin_scope.py",
    "settings.py",
    "provider_inbound.py",
)
PYTHON_SKIPPED_DIRS = ("migrations", "management", "rollups")
TEMPLATES_SKIPPED = ("templates/demo/",)

# Arabic is complete for what patrons meet: these sources' strings must all be translated.
PATRON_SOURCES = (
    "templates/widget/",
    "templates/chat/email/",
    "templates/tickets/email/reply",
    "static/widget/",
    "static/common/",
    "chat/consumers/patron.py",
    "chat/consumers/base.py",
    "chat/consumers/sends.py",
    "chat/socket_limits.py",
    "chat/text.py",
    "chat/blocks.py",
    "chat/consumers/media.py",
    "chat/exceptions.py",
    "chat/views/desk.py",
    "chat/views/attachments.py",
    "chat/filetypes.py",
    "chat/transcripts.py",
    "chat/services/_common.py",
    "chat/services/chats.py",
    "chat/services/starts.py",
    "chat/services/attachments.py",
    "chat/services/ratings.py",
    "chat/services/retention.py",
    "chat/services/screenshare.py",
    "chat/services/transfers.py",
    "tickets/exceptions.py",
    "tickets/services/_common.py",
    "tickets/services/create.py",
    "libdesk/request_limits.py",
)
# Which shipped language claims which part complete.
COMPLETE = {"es": None, "ar": PATRON_SOURCES}  # None: everything


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _sources():
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.suffix in (".html", ".txt") and not _relative(path).startswith(TEMPLATES_SKIPPED):
            yield "template", path
    for path in sorted((ROOT / "static").rglob("*.js")):
        yield "javascript", path
    for directory in PYTHON_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            if path.name in PYTHON_SKIPPED or set(path.parts) & set(PYTHON_SKIPPED_DIRS):
                continue
            yield "python", path


def test_every_string_people_read_is_marked_for_translation():
    readers = {
        "template": i18n_check.template_findings,
        "javascript": i18n_check.javascript_findings,
        "python": i18n_check.python_findings,
    }
    found = [hit for kind, path in _sources() for hit in readers[kind](path)]
    assert not found, "Not marked for translation:\n" + "\n".join(
        f"  {path}:{line}: {text!r}" for path, line, text in found
    )


def test_the_check_finds_unmarked_strings_of_each_kind(tmp_path):
    """The finder itself: an unmarked string of each kind is found, a marked one is not."""
    template = ROOT / "templates" / "widget" / "_check_example.html"
    script = ROOT / "static" / "widget" / "_check_example.js"
    module = ROOT / "chat" / "_check_example.py"
    try:
        template.write_text(
            '{% load i18n %}<p>{% translate "Fine" %}</p><p>Left in English</p>'
            '<button aria-label="Close it">x</button>'
        )
        script.write_text(
            'el.textContent = gettext("Marked text.");\nel.textContent = "Not marked, though.";\n'
            # Built around a value, lower case and without a full stop: still words.
            "el.textContent = `${count} ended chats without statistics`;\n"
            'el.textContent = count + " waiting for a librarian";\n'
            'el.textContent = format(gettext("%(count)s chats waiting"), { count });\n'
            'el.className = "msg msg-" + kind;\n'
        )
        module.write_text(
            "from django.utils.translation import gettext as _\n"
            'A = _("Marked message.")\nraise Conflict("Plain message here.")\n'
        )
        assert [t for _p, _l, t in i18n_check.template_findings(template)] == [
            "aria-label='Close it'",
            "Left in English",
        ]
        assert [t for _p, _l, t in i18n_check.javascript_findings(script)] == [
            "Not marked, though.",
            " ended chats without statistics",
            " waiting for a librarian",
        ]
        assert [t for _p, _l, t in i18n_check.python_findings(module)] == ["Plain message here."]
    finally:
        for path in (template, script, module):
            path.unlink(missing_ok=True)


def _entries(po) -> set:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in po if not e.obsolete}


@pytest.mark.skipif(
    not shutil.which("xgettext") and not os.environ.get("CI"),
    reason="GNU gettext (xgettext) is not installed: apt-get install gettext",
)
def test_the_committed_catalogs_hold_exactly_the_marked_strings(tmp_path):
    """makemessages finds nothing the committed catalogs lack and nothing they keep that
    the code no longer says. It writes into the locale/ beside the sources it reads (a
    locale/ folder in the working directory wins over LOCALE_PATHS), so the committed
    catalogs are kept aside, compared with what it wrote, and put back whatever happens."""
    committed_copy = tmp_path / "locale"
    shutil.copytree(LOCALE, committed_copy)
    code = (
        "import django, sys; django.setup();"
        "from django.core.management import call_command;"
        "common = dict(locale=['es', 'ar'], ignore_patterns=['.venv', 'staticfiles', 'tests',"
        " 'benchmarks', 'var', 'docker', 'templates/demo'], add_location='file',"
        " no_obsolete=True, verbosity=0);"
        "call_command('makemessages', **common);"
        "call_command('makemessages', domain='djangojs', **common)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "libdesk.settings"}
    try:
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=300)
        for po_path in sorted(committed_copy.glob("*/LC_MESSAGES/*.po")):
            fresh = polib.pofile(str(LOCALE / po_path.relative_to(committed_copy)))
            committed = polib.pofile(str(po_path))
            missing = _entries(fresh) - _entries(committed)
            stale = _entries(committed) - _entries(fresh)
            assert not missing and not stale, (
                f"{po_path.relative_to(committed_copy)} is not up to date (run makemessages as "
                f"docs/operations.md says, then translate): new "
                f"{sorted(m[1] for m in missing)[:20]}, gone {sorted(s[1] for s in stale)[:20]}"
            )
    finally:
        shutil.rmtree(LOCALE)
        shutil.copytree(committed_copy, LOCALE)


PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{\w+\}")


@pytest.mark.parametrize("language", sorted(COMPLETE))
def test_shipped_catalogs_are_complete_where_they_claim(language):
    claimed = COMPLETE[language]
    problems = []
    for po_path in sorted((LOCALE / language / "LC_MESSAGES").glob("*.po")):
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete:
                continue
            sources = [path for path, _line in entry.occurrences]
            if claimed is not None and not any(s.startswith(claimed) for s in sources):
                continue
            where = f"{po_path.name}: {entry.msgid[:60]!r} ({', '.join(sources)})"
            if "fuzzy" in entry.flags:
                problems.append(f"fuzzy {where}")
            elif not entry.translated():
                problems.append(f"untranslated {where}")
            else:
                wanted = set(PLACEHOLDER.findall(entry.msgid))
                translations = (
                    entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
                )
                for text in translations:
                    # A plural form may leave the number out ("دقيقتين": two minutes).
                    got = set(PLACEHOLDER.findall(text))
                    if got - wanted or (not entry.msgid_plural and got != wanted):
                        problems.append(f"placeholders {sorted(got)} in {where}")
    assert not problems, f"{language}:\n" + "\n".join(problems)


def test_no_catalog_keeps_a_guess():
    """makemessages (msgmerge) fills a new string with the translation of a similar old one
    and marks it fuzzy: a guess ("name" became "your name"), never shown (compile_catalogs
    leaves fuzzy entries out, as msgfmt does) but easily taken for a translation. Where a
    language is not complete, a string is translated or left empty, never guessed."""
    guesses = [
        f"{po_path.relative_to(LOCALE)}: {entry.msgid[:60]!r}"
        for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
        for entry in polib.pofile(str(po_path)).fuzzy_entries()
    ]
    assert not guesses, "Fuzzy (guessed) entries: translate them or empty them:\n" + "\n".join(
        guesses[:40]
    )


def test_the_loaders_own_words_are_the_catalogs():
    """static/widget/loader.js carries its launcher's few words (it asks the desk for
    nothing before the patron opens the chat): they must equal the djangojs catalogs."""
    loader = (ROOT / "static" / "widget" / "loader.js").read_text()
    table = loader[
        loader.index("var STRINGS = {") : loader.index("};", loader.index("var STRINGS"))
    ]
    found = {}
    for block in re.finditer(r"(\w+): \{(.*?)\}", table, re.S):
        pairs = re.findall(r'"([^"]+)": "([^"]+)"', block.group(2))
        found[block.group(1)] = dict(pairs)
    assert set(found) == {"es", "ar"}
    for language, pairs in found.items():
        catalog = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "djangojs.po"))
        translated = {e.msgid: e.msgstr for e in catalog}
        asked = set(re.findall(r'gettext\("([^"]+)"\)', loader))
        assert set(pairs) == asked
        assert pairs == {msgid: translated[msgid] for msgid in pairs}, language


def test_compiled_catalogs_translate(tmp_path):
    """compile_catalogs (polib, no GNU gettext) writes .mo files Django reads."""
    from django.utils import translation

    from libdesk.i18n import compile_catalogs

    shutil.copytree(LOCALE, tmp_path / "locale")
    written = compile_catalogs(tmp_path / "locale", force=True)
    assert {p.relative_to(tmp_path / "locale").as_posix() for p in written} == {
        "ar/LC_MESSAGES/django.mo",
        "ar/LC_MESSAGES/djangojs.mo",
        "es/LC_MESSAGES/django.mo",
        "es/LC_MESSAGES/djangojs.mo",
    }
    with translation.override("es"):
        assert translation.gettext("Start chat") == "Iniciar chat"
    with translation.override("ar"):
        assert translation.gettext("Start chat") == "ابدأ المحادثة"
