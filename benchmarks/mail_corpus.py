"""Reply detection and decoding over the real-world mail corpora: per corpus, how many
messages, crashes, exact replies, replies kept (the expected reply is in what staff see
first) and replies lost. Reads ``../shared/realworld/fixtures`` (REALWORLD_FIXTURES).

    .venv/bin/python benchmarks/mail_corpus.py                  # the desk's own parsing
    .venv/bin/python benchmarks/mail_corpus.py --detector all   # and each library
    .venv/bin/python benchmarks/mail_corpus.py --show-failures

Detectors: ``desk`` (tickets.inbound, what the desk stores), ``quotequail``,
``mail-parser-reply``, ``email-reply-parser``, ``talon`` (each when installed; talon
is not a dependency of the desk: see docs/operations.md, "Reply detection"). A library
gets the text the desk decoded (HTML: the desk's text of the whole HTML, quotes
included, unless the library reads HTML itself), so only the detection differs.
"""

import argparse
import os
import sys
import time
import traceback
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")
    import django

    django.setup()


def desk_detector():
    from tickets import inbound

    def run(case):
        if case.kind == "eml":
            return inbound.parse_message(case.data).body
        if case.kind == "html":
            return inbound.split_reply(inbound.html_to_text(case.data)).reply
        return inbound.split_reply(case.data).reply

    return run


def _whole_text(case):
    """The decoded text of a case, quotes and all (for the libraries)."""
    from tickets import inbound

    if case.kind == "eml":
        return inbound.parse_message(case.data).full_text
    if case.kind == "html":
        return inbound.html_to_text(case.data)
    return case.data


def quotequail_detector():
    import quotequail

    def run(case):
        if case.kind == "html":
            parts = quotequail.quote_html(case.data)
            from tickets import inbound

            return inbound.html_to_text("".join(html for shown, html in parts if shown))
        parts = quotequail.quote(_whole_text(case))
        return "".join(text for shown, text in parts if shown)

    return run


def mail_parser_reply_detector():
    from mailparser_reply import EmailReplyParser

    # Every language it bundles (1.36: no Portuguese or Russian).
    languages = ["en", "de", "cs", "da", "es", "fr", "it", "ja", "ko", "nl", "pl", "sv", "zh"]

    def run(case):
        parser = EmailReplyParser(languages=languages)
        return parser.parse_reply(text=_whole_text(case)) or ""

    return run


def email_reply_parser_detector():
    from email_reply_parser import EmailReplyParser

    def run(case):
        return EmailReplyParser.parse_reply(_whole_text(case)) or ""

    return run


def talon_detector():
    import talon
    from talon import quotations

    talon.init()

    def run(case):
        if case.kind == "html":
            from tickets import inbound

            return inbound.html_to_text(quotations.extract_from_html(case.data))
        return quotations.extract_from_plain(_whole_text(case))

    return run


DETECTORS = {
    "desk": desk_detector,
    "quotequail": quotequail_detector,
    "mail-parser-reply": mail_parser_reply_detector,
    "email-reply-parser": email_reply_parser_detector,
    "talon": talon_detector,
}


def measure(run, cases, show_failures=False):
    from tests.tickets.mail_cases import is_exact, is_kept

    rows = defaultdict(lambda: defaultdict(int))
    failures = []
    started = time.perf_counter()
    for case in cases:
        row = rows[case.corpus]
        row["messages"] += 1
        try:
            visible = run(case)
        except Exception as error:  # a crash is a figure here, not the end of the run
            row["crashes"] += 1
            failures.append((case, "crash", f"{type(error).__name__}: {error}"))
            if show_failures == "trace":
                traceback.print_exc()
            continue
        if case.expected is None and not case.must_keep:
            continue
        row["with expected"] += 1
        if is_exact(case, visible):
            row["exact"] += 1
        if is_kept(case, visible):
            row["kept"] += 1
        else:
            row["lost"] += 1
            failures.append((case, "lost", visible))
        if case.expected is not None and not is_exact(case, visible) and show_failures:
            failures.append((case, "not exact", visible))
    return rows, failures, time.perf_counter() - started


COLUMNS = ("messages", "crashes", "with expected", "exact", "kept", "lost")


def print_table(name, rows, seconds):
    print(f"\n## {name}  ({seconds:.1f} s)")
    print(f"{'corpus':28}" + "".join(f"{c:>15}" for c in COLUMNS))
    total = defaultdict(int)
    for corpus_name in sorted(rows):
        row = rows[corpus_name]
        print(f"{corpus_name:28}" + "".join(f"{row[c]:>15}" for c in COLUMNS))
        for c in COLUMNS:
            total[c] += row[c]
    print(f"{'all':28}" + "".join(f"{total[c]:>15}" for c in COLUMNS))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default="desk", help="desk, a library's name, or all")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    _setup()
    from tests.tickets.mail_cases import all_cases

    cases = all_cases()
    names = list(DETECTORS) if args.detector == "all" else args.detector.split(",")
    for name in names:
        try:
            run = DETECTORS[name]()
        except ImportError as error:
            print(f"\n## {name}: not installed ({error})")
            continue
        rows, failures, seconds = measure(run, cases, args.show_failures)
        print_table(name, rows, seconds)
        if args.show_failures:
            for case, what, detail in failures:
                print(f"--- {what}: {case.corpus} {case.name}\n{str(detail)[:600]}")


if __name__ == "__main__":
    main()
