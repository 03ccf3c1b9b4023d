"""Chat History's search, through the one selector, on whichever engine this run has
(SQLite FTS5 on the embedded default, PostgreSQL full-text search with DATABASE_URL)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.services import retention
from history.selectors import HistoryFilters, history_page
from tests.factories import record_interaction
from tests.history.conftest import answered_chat
from tests.realworld import hostile_strings
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db


def found(operator, **filters):
    page = history_page(operator, HistoryFilters(**filters))
    return [chat.patron_name for chat in page.object_list], page


def test_words_find_the_chat_they_were_said_in_and_only_it(desk):
    answered_chat(
        desk["reference"],
        desk["alice"],
        ["Where are the atlases?", "Second floor, by the maps."],
        name="Ann",
    )
    answered_chat(
        desk["reference"],
        desk["alice"],
        ["Can I renew a book?", "Yes, online."],
        name="Ben",
        client="b",
    )
    names, _ = found(desk["alice"], words="maps")
    assert names == ["Ann"]
    # A word's other forms match (English stemming on both engines).
    names, _ = found(desk["alice"], words="map")
    assert names == ["Ann"]
    names, _ = found(desk["alice"], words="renewing")
    assert names == ["Ben"]
    assert found(desk["alice"], words="microfiche")[0] == []


def test_all_the_words_must_be_in_one_message(desk):
    answered_chat(
        desk["reference"], desk["alice"], ["Do you have old maps of Ohio?", "Yes."], name="Ann"
    )
    assert found(desk["alice"], words="maps Ohio")[0] == ["Ann"]
    assert found(desk["alice"], words="maps Texas")[0] == []


def test_the_snippet_marks_the_words_and_keeps_patron_text_as_text(desk):
    answered_chat(
        desk["reference"],
        desk["alice"],
        ['<img src=x onerror="alert(1)"> I need the atlas of 1902 & the <b>maps</b>'],
        name="Ann",
    )
    _, page = found(desk["alice"], words="atlas")
    snippet = str(page.object_list[0].snippet)
    assert "<mark>atlas</mark>" in snippet
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in snippet
    assert "<img" not in snippet and "<b>" not in snippet
    assert "&amp;" in snippet


def test_any_text_searches_without_error_and_finds_what_was_said(desk, settings):
    """Every hostile string, as a message and as a search: no engine error (FTS5 syntax,
    tsquery parsing), and a string with words finds its own chat."""
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 10000}
    strings = [s for s in hostile_strings() if s.strip() and len(s) < 4000]
    # What the message path stores today (lone surrogates and NUL are refused below us).
    storable = [
        s for s in strings if s == s.encode("utf-8", "ignore").decode("utf-8") and "\x00" not in s
    ]
    answered_chat(desk["reference"], desk["alice"], ["hostile corpus", *storable], end=False)
    with_words, found_own = 0, 0
    for text in strings:
        names, page = found(desk["alice"], words=text)
        for result in page.object_list:
            assert "<script" not in str(result.snippet).lower()
        if any(ch.isalnum() for ch in text) and text in storable:
            with_words += 1
            found_own += names == ["Pat"]
    # Stop words ("the", "and") match nothing on PostgreSQL; nearly all the rest do.
    assert found_own >= with_words * 0.6, (found_own, with_words)


def test_history_is_department_scoped(desk):
    answered_chat(desk["special"], desk["carmen"], ["A rare manuscript please"], name="Rae")
    assert found(desk["alice"], words="manuscript")[0] == []
    assert found(desk["carmen"], words="manuscript")[0] == ["Rae"]


def test_filters_patron_status_ticket_and_entry(desk):
    ann = answered_chat(
        desk["reference"], desk["alice"], ["Question one"], name="Ann", email="ann@example.org"
    )
    ben = answered_chat(desk["reference"], desk["alice"], ["Question two"], name="Ben", client="b")
    answered_chat(
        desk["reference"], desk["alice"], ["Question three"], name="Cy", end=False, client="c3"
    )
    ticket_services.ticket_create_from_chat(
        chat_id=ann.pk, department=desk["reference"], actor=desk["alice"], notes=""
    )
    record_interaction(desk["alice"].user, chat=ben)
    assert found(desk["alice"], patron="ANN@example")[0] == ["Ann"]
    assert found(desk["alice"], status="active")[0] == ["Cy"]
    assert found(desk["alice"], has_ticket="yes")[0] == ["Ann"]
    assert sorted(found(desk["alice"], has_ticket="no")[0]) == ["Ben", "Cy"]
    assert found(desk["alice"], has_entry="yes")[0] == ["Ben"]
    today = timezone.localdate()
    assert len(found(desk["alice"], date_from=today, date_to=today)[0]) == 3
    assert found(desk["alice"], date_to=today - timedelta(days=1))[0] == []


def test_a_scrubbed_chat_is_found_by_its_facts_and_says_it_was_scrubbed(desk, settings):
    chat = answered_chat(
        desk["reference"], desk["alice"], ["Old question about atlases"], name="Ann"
    )
    later = timezone.now() + timedelta(days=max(settings.RETENTION.values()) + 1)
    retention.retention_apply(now=later)
    chat.refresh_from_db()
    assert chat.transcript_deleted_at is not None and chat.patron_scrubbed_at is not None
    assert found(desk["alice"], words="atlases")[0] == []  # its words went with it
    names, page = found(desk["alice"], status="ended")
    assert names == [""] and page.object_list[0].patron_scrubbed_at is not None
