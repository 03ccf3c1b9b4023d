"""The public real-world corpora in ``../shared/realworld/fixtures/`` (see its README):
read from there, never copied into this repository. CI lays ``shared/`` beside the clone;
``REALWORLD_FIXTURES`` points elsewhere. A missing corpus fails the test that wants it:
these inputs are the point of those tests, so they never skip silently."""

import json
import os
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(
    os.environ.get("REALWORLD_FIXTURES") or ROOT.parent / "shared" / "realworld" / "fixtures"
)


def corpus(*parts: str) -> Path:
    """The path of a corpus file or folder; an AssertionError says where it was looked for."""
    path = FIXTURES.joinpath(*parts)
    assert path.exists(), f"real-world corpus missing: {path} (set REALWORLD_FIXTURES)"
    return path


@cache
def naughty_strings() -> tuple[str, ...]:
    """The Big List of Naughty Strings (515 strings), as published."""
    return tuple(json.loads(corpus("blns", "blns.json").read_text(encoding="utf-8")))


# What the list leaves out and browsers and mail programs still send.
HOSTILE_EXTRAS: tuple[str, ...] = (
    "\ud800",  # a lone high surrogate: half an emoji
    "x\udfffy",  # a lone low surrogate inside text
    "nul\x00byte",  # NUL, which PostgreSQL text cannot hold
    "\u202eevil\u202c right-to-left override",
    "\u200f\u200e\u2066isolates\u2069",
    "a" * 100_000,  # over-long
    "[" * 5_000 + "]" * 5_000,  # deeply nested, as text
    "🏳️‍🌈👩‍👩‍👧‍👦" * 50,
)


def hostile_strings() -> tuple[str, ...]:
    """Every value a text input is tested with: the list and the extras, non-empty."""
    return tuple(s for s in naughty_strings() + HOSTILE_EXTRAS if s)


def files(*parts: str, pattern: str = "*") -> list[Path]:
    """Every file of a corpus folder matching ``pattern`` (recursively), sorted."""
    return sorted(p for p in corpus(*parts).rglob(pattern) if p.is_file())
