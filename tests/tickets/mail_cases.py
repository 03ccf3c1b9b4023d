"""The real-world mail corpora as cases for reply detection (read from
``../shared/realworld/fixtures`` through ``tests/realworld.py``, never copied here).

Each case says what the published project's own tests expect of it:

- talon (mailgun/talon @ 71d9b6eb78e9): 51 text cases with their expected reply
  (``text_quotations_cases.json``), 13 ``standard_replies`` (the reply is the
  ``*_reply_text`` file beside it, else "Hello", as talon's ``test_standard_replies``
  says), 9 ``html_replies`` ("Hi. I am fine. Thanks, Alex", compared without white
  space as talon's ``test_html_replies`` does) and two HTML fixtures of talon's
  ``html_quotations_test`` ("Reply"; "Hi there Bob"): 75 cases with an exact reply.
- email_reply_parser (github's and zapier's bodies): the phrases zapier's
  ``test/test_email_reply_parser.py`` says are in the reply (``must_keep``), and the
  exact reply where that test gives one.
- Every .eml of every corpus (flanker, the Ruby mail gem's, talon's): nothing to
  expect but that it is stored without a crash.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.realworld import corpus, files


@dataclass(frozen=True)
class ReplyCase:
    corpus: str
    name: str
    kind: str  # "text", "html" or "eml"
    data: str | bytes
    expected: str | None = None  # the exact reply, when the source gives one
    must_keep: tuple[str, ...] = field(default=())  # phrases the reply must contain
    compare_without_space: bool = False  # talon compares HTML replies so


_WHITESPACE_RE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lines without trailing space, at most one blank line between, no edges."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def squeeze(text: str) -> str:
    return _WHITESPACE_RE.sub("", text)


def is_exact(case: ReplyCase, visible: str) -> bool:
    if case.expected is None:
        return False
    if case.compare_without_space:
        return squeeze(visible) == squeeze(case.expected)
    return normalise(visible) == normalise(case.expected)


def is_kept(case: ReplyCase, visible: str) -> bool:
    """The expected reply (or every phrase the source names) is in what staff see
    first, white space aside."""
    seen = squeeze(visible)
    wanted = ([case.expected] if case.expected is not None else []) + list(case.must_keep)
    return all(squeeze(phrase) in seen for phrase in wanted)


def talon_cases() -> list[ReplyCase]:
    data = json.loads(corpus("talon", "text_quotations_cases.json").read_text("utf-8"))
    cases = [
        ReplyCase("talon", f"{case['test']}#{index}", "text", case["input"], case["expected"])
        for index, case in enumerate(data["cases"])
    ]
    for path in files("talon", "standard_replies", pattern="*.eml"):
        expected_file = path.with_name(path.stem + "_reply_text")
        expected = expected_file.read_text("utf-8").strip() if expected_file.exists() else "Hello"
        cases.append(
            ReplyCase("talon", f"standard_replies/{path.name}", "eml", path.read_bytes(), expected)
        )
    for path in files("talon", "html_replies", pattern="*.html"):
        cases.append(
            ReplyCase(
                "talon",
                f"html_replies/{path.name}",
                "html",
                path.read_text("utf-8", errors="replace"),
                "Hi. I am fine.\n\nThanks,\nAlex",
                compare_without_space=True,
            )
        )
    for name, expected in (
        ("OLK_SRC_BODY_SECTION.html", "Reply"),
        ("reply-separated-by-hr.html", "Hi there Bob"),
    ):
        cases.append(
            ReplyCase(
                "talon",
                name,
                "html",
                corpus("talon", name).read_text("utf-8"),
                expected,
                compare_without_space=True,
            )
        )
    return cases


# zapier/email-reply-parser test/test_email_reply_parser.py: what its tests say the
# reply holds (file → exact reply or None, phrases).
_ERP_EXPECTATIONS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "email_1_1": (None, ("folks",)),
    "email_1_2": (None, ("Hi,", "You can list the keys for the bucket")),
    # Inline answers between the quoted lines (test_reads_inline_replies: fragments 1
    # and 3 are the patron's, not quoted).
    "email_1_8": (None, ("I will reply under this one", "and under this.")),
    "email_1_6": (None, ("I get",)),
    "email_1_4": (None, ("Awesome",)),
    "email_1_7": (None, (":+1:",)),
    "email_2_1": ("Outlook with a reply", ()),
    "email_2_2": ("Outlook with a reply directly above line", ()),
    "email_partial_quote_header": (
        None,
        (
            "On your remote host you can run:",
            "telnet 127.0.0.1 52698",
            "This should connect to TextMate",
        ),
    ),
    "email_headers_no_delimiter": ("And another reply!", ()),
    "greedy_on": (None, ("On your remote host",)),
}


def email_reply_parser_cases() -> list[ReplyCase]:
    cases = []
    for source in ("github", "zapier"):
        for path in files("email_reply_parser", source, pattern="*.txt"):
            expected, keep = _ERP_EXPECTATIONS.get(path.stem, (None, ()))
            cases.append(
                ReplyCase(
                    f"email_reply_parser/{source}",
                    path.name,
                    "text",
                    path.read_bytes().decode("utf-8", errors="replace"),
                    expected,
                    keep,
                )
            )
    return cases


def eml_cases() -> list[ReplyCase]:
    """Every real message file of every corpus (no reply expected: stored, no crash)."""
    found = []
    for name in ("flanker", "mikel_mail", "talon"):
        for path in files(name):
            if (
                path.name == "LICENSE"
                or path.suffix in (".json", ".html")
                or "_reply_text" in path.name
            ):
                continue
            if name == "talon" and "standard_replies" in path.parts:
                continue  # those are reply cases already
            found.append(
                ReplyCase(name, str(path.relative_to(corpus(name))), "eml", path.read_bytes())
            )
    return found


def reply_cases() -> list[ReplyCase]:
    return talon_cases() + email_reply_parser_cases()


def all_cases() -> list[ReplyCase]:
    return reply_cases() + eml_cases()


def own_mail(name: str) -> bytes:
    return (Path(__file__).parent / "mail" / name).read_bytes()
