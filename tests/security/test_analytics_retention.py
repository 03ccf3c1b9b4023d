"""Reference Analytics entries hold free text that may quote a patron (the question is
prefilled from their first message): retention blanks it after
RETENTION["ANALYTICS_TEXT_DAYS"], by moving the clock, and keeps every statistic."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics import reports, services
from analytics.models import Interaction
from chat.tasks import apply_retention
from tests.factories import OperatorFactory, record_interaction

pytestmark = pytest.mark.django_db
NOTHING = {"entries_scrubbed": 0}


@pytest.fixture
def entries(settings):
    settings.RETENTION = {"TRANSCRIPT_DAYS": 365, "PATRON_DAYS": 90, "ANALYTICS_TEXT_DAYS": 30}
    user = OperatorFactory().user
    now = timezone.now()
    old = record_interaction(
        user,
        occurred_at=now - timedelta(days=40),
        duration_minutes=12,
        read_scale=3,
        question="Pat Doe (pat@example.org, card 2901) wants the 1902 atlas",
        answer="Sent Pat the catalogue link",
        note="Patron sounded upset",
        referral_kind="other",
        referred_by_text="Circulation desk",
    )
    recent = record_interaction(
        user, occurred_at=now - timedelta(days=3), question="Where is the map room?", note="n"
    )
    bare = record_interaction(user, occurred_at=now - timedelta(days=50))
    return old, recent, bare


def test_old_entries_lose_their_free_text_and_keep_their_statistics(entries):
    old, recent, bare = entries
    today = timezone.localdate()
    flt = reports.ReportFilter(start=today - timedelta(days=60), end=today)
    before = {key: value for key, value in reports.report(flt).items() if key != "filter"}

    assert services.interactions_retention_apply() == {"entries_scrubbed": 1}
    old.refresh_from_db()
    assert (old.question, old.answer, old.note) == ("", "", "")
    # Everything a report counts stays: when, who, where, how, how long, READ, referral.
    assert (old.duration_minutes, old.read_scale, old.referral_kind) == (12, 3, "other")
    assert old.referred_by_text == "Circulation desk"
    assert old.location_id and old.mode_id and old.staff_id and old.occurred_at
    recent.refresh_from_db()
    assert (recent.question, recent.note) == ("Where is the map room?", "n")
    assert Interaction.objects.count() == 3
    after = {key: value for key, value in reports.report(flt).items() if key != "filter"}
    assert after == before and after["total"] == 3


def test_it_is_idempotent_and_waits_for_the_period(entries):
    old, recent, _ = entries
    assert services.interactions_retention_apply(now=timezone.now() - timedelta(days=15)) == NOTHING
    old.refresh_from_db()
    assert old.question.startswith("Pat Doe")
    assert services.interactions_retention_apply()["entries_scrubbed"] == 1
    assert services.interactions_retention_apply() == NOTHING
    later = timezone.now() + timedelta(days=28)
    assert services.interactions_retention_apply(now=later) == {"entries_scrubbed": 1}
    recent.refresh_from_db()
    assert recent.question == ""


def test_without_its_own_setting_it_follows_the_transcript_period(entries, settings):
    old, _, _ = entries
    settings.RETENTION = {"TRANSCRIPT_DAYS": 45, "PATRON_DAYS": 7}
    assert services.interactions_retention_apply() == NOTHING  # 40 days < 45
    assert services.interactions_retention_apply(now=timezone.now() + timedelta(days=6)) == {
        "entries_scrubbed": 1
    }
    old.refresh_from_db()
    assert old.question == ""


def test_the_desk_retention_job_and_command_run_it(entries, capsys):
    old, _, _ = entries
    report = apply_retention.apply().get()  # the beat task's own code, run here
    assert report["analytics"] == {"entries_scrubbed": 1}
    old.refresh_from_db()
    assert old.question == ""
    call_command("apply_retention")
    assert '"analytics": {"entries_scrubbed": 0}' in capsys.readouterr().out
