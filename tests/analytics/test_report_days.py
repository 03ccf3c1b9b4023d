"""The figures kept per day (analytics.rollups): an unfiltered report reads them for the
days that are kept and computes the others, and whatever is kept, built, changed or
rebuilt, the report is the one the entries and chats themselves give."""

import json
import threading
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import reports, rollups
from analytics import services as analytics_services
from analytics.models import (
    Interaction,
    Location,
    Mode,
    QuestionType,
    ReportDay,
    ReportDepartmentDay,
    ReportFigure,
    ReportMonth,
)
from chat import services as chat_services
from chat.models import Chat, Department
from tests.analytics.test_page_queries import add_entries
from tests.factories import OperatorFactory, record_interaction, start_chat

pytestmark = pytest.mark.django_db

START = date(2025, 1, 1)
YEAR = reports.ReportFilter(start=START, end=START + timedelta(days=364))
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _paris(settings):
    settings.TIME_ZONE = "Europe/Paris"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


def live(flt) -> dict:
    """The report from the one-figure functions, which read the entries and chats."""
    chats = reports.chat_stats(flt)
    return {
        "filter": flt,
        "total": reports.duration(flt)["count"],
        "per_day": reports.per_day(flt),
        "heatmap": reports.heatmap(flt),
        "by_mode": reports.by_mode(flt),
        "by_location": reports.by_location(flt),
        "by_question_type": reports.by_question_type(flt),
        "by_read_scale": reports.by_read_scale(flt),
        "by_referral": reports.by_referral(flt),
        "entry_languages": reports.entry_languages(flt),
        "duration": reports.duration(flt),
        "chats": chats,
    }


def assert_same(page: dict, expected: dict):
    for name in (
        "total",
        "per_day",
        "heatmap",
        "by_mode",
        "by_location",
        "by_question_type",
        "by_read_scale",
        "by_referral",
        "entry_languages",
    ):
        assert page[name] == expected[name], name
    assert page["chats"]["by_language"] == expected["chats"]["by_language"]
    assert page["duration"]["count"] == expected["duration"]["count"]
    assert page["duration"]["median"] == pytest.approx(expected["duration"]["median"])
    assert page["duration"]["mean"] == pytest.approx(expected["duration"]["mean"])
    for name in ("total", "claimed", "abandoned", "waiting_now", "without_entry"):
        assert page["chats"][name] == expected["chats"][name], name
    for name in ("mean_wait", "median_wait"):
        assert page["chats"][name] == pytest.approx(expected["chats"][name], abs=0.51), name


def assert_right(start: date, end: date):
    """The report of the library and of each department (the kept figures hold each
    department's share) is the one the entries and chats give."""
    for department in [None, *Department.objects.all()]:
        flt = reports.ReportFilter(start=start, end=end, department=department)
        assert_same(reports.report(flt), live(flt))


def chat_on(
    department, operator, day: date, minute: int, wait: int | None, *, end=True, language=""
):
    """A chat that entered the queue on ``day`` and waited ``wait`` seconds for a claim
    (None: never claimed), in ``language`` (empty: the library's default)."""
    chat, _ = start_chat(department, client_id=f"q-{day}-{minute}", language=language)
    if wait is not None:
        chat_services.chat_claim(chat_id=chat.pk, operator=operator)
    if end:
        chat_services.chat_end(chat_id=chat.pk, by="patron")
    created = at(day, 10, minute)
    Chat.objects.filter(pk=chat.pk).update(
        created_at=created,
        claimed_at=created + timedelta(seconds=wait) if wait is not None else None,
    )
    return Chat.objects.get(pk=chat.pk)


@pytest.fixture
def year(operator, department):
    """Entries over every dimension across 2025, and chats on three days of it."""
    add_entries(operator, 60, "a")
    day = START + timedelta(days=40)
    chats = [
        chat_on(department, operator, day, 0, 30, language="es"),
        chat_on(department, operator, day, 5, 95, language="ar"),
    ]
    chat_on(department, operator, day, 10, None, language="es")  # abandoned
    chat_on(department, operator, day + timedelta(days=1), 0, 61)
    record_interaction(operator.user, chat=chats[0], occurred_at=at(day, 11))
    return day


def kept_days() -> set[date]:
    return set(rollups.read._kept(date.min, date.max).values_list("day", flat=True))


def test_a_year_from_kept_days_is_the_year_from_the_entries(year):
    expected = live(YEAR)
    result = analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    assert result == {"built": 365, "open": 0, "months": 12}  # the first entry: Jan 1
    assert len(kept_days()) == 365
    assert ReportMonth.objects.count() == 12
    assert_same(reports.report(YEAR), expected)
    assert ReportDepartmentDay.objects.exists()
    assert_right(YEAR.start, YEAR.end)
    # …and a month, a week, a day, a range half kept and half not.
    for start, end in [
        (date(2025, 2, 1), date(2025, 2, 28)),
        (year, year),
        (date(2024, 12, 20), date(2025, 1, 10)),
        (date(2025, 12, 20), date(2026, 1, 10)),
    ]:
        assert_right(start, end)


def test_the_report_reads_the_kept_figures_not_the_entries(year):
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    before = reports.report(YEAR)
    # Behind the services' back (no service does this): the kept figures still count…
    Interaction.objects.filter(occurred_at__date__lt=year).update(duration_minutes=999)
    assert reports.report(YEAR)["duration"] == before["duration"]
    assert reports.report(YEAR)["duration"] != live(YEAR)["duration"]


def test_months_are_read_from_their_sums_less_the_days_outside_the_range(year, operator):
    modes = list(Mode.objects.all())
    for day, mode in ((1, modes[0]), (10, modes[1]), (25, modes[2])):
        record_interaction(operator.user, occurred_at=at(date(2025, 2, day), 9), mode=mode)
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    february = reports.ReportFilter(start=date(2025, 2, 1), end=date(2025, 2, 28))
    most = reports.ReportFilter(start=date(2025, 2, 2), end=date(2025, 3, 31))
    late = reports.ReportFilter(start=date(2025, 2, 20), end=date(2025, 3, 31))
    expected = live(february), live(most), live(late)
    # Behind the services' back: February's days but the 1st lose their own figures.
    ReportFigure.objects.filter(
        whole_month=False, day__gte=date(2025, 2, 2), day__lte=date(2025, 2, 28)
    ).delete()
    assert_same(reports.report(february), expected[0])
    # February 2–28: February's sums less the 1st's own figures (then March's sums).
    assert_same(reports.report(most), expected[1])
    # February 20–28: nine days, fewer rows than February less nineteen days: their own.
    assert reports.report(late)["by_mode"] != expected[2]["by_mode"]
    assert reports.report(late)["per_day"] == expected[2]["per_day"]  # the days' own rows
    # The 1st's figures gone too: February less the 1st takes away what is not there.
    ReportFigure.objects.filter(whole_month=False, day=date(2025, 2, 1)).delete()
    assert reports.report(most)["by_mode"] != expected[1]["by_mode"]


def test_the_month_in_progress_is_added_up_as_far_as_its_days_are_kept(operator):
    for day in (1, 2, 6, 9):
        record_interaction(operator.user, occurred_at=at(date(2025, 10, day), 9 + day))
    result = analytics_services.report_days_build(before=date(2025, 10, 3), limit=None)
    assert result == {"built": 2, "open": 0, "months": 1}
    assert ReportMonth.objects.get(month=date(2025, 10, 1)).through == date(2025, 10, 2)
    # Nothing new kept: nothing added up again.
    assert analytics_services.report_days_build(before=date(2025, 10, 3))["months"] == 0
    result = analytics_services.report_days_build(before=date(2025, 10, 10))
    assert result == {"built": 7, "open": 0, "months": 1}
    assert ReportMonth.objects.get(month=date(2025, 10, 1)).through == date(2025, 10, 9)
    first_days = reports.ReportFilter(start=date(2025, 10, 1), end=date(2025, 10, 9))
    with_today = reports.ReportFilter(start=date(2025, 10, 1), end=date(2025, 10, 10))
    record_interaction(operator.user, occurred_at=at(date(2025, 10, 10), 15))
    expected = live(first_days), live(with_today)
    # Behind the services' back: the days' own figures go, the month's sums stay.
    ReportFigure.objects.filter(whole_month=False).delete()
    assert_same(reports.report(first_days), expected[0])
    assert_same(reports.report(with_today), expected[1])  # the 10th computed
    assert reports.report(with_today)["total"] == 5


def test_recording_correcting_and_deleting_entries_show_at_once(year, operator):
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    day = date(2025, 3, 3)
    other = OperatorFactory(user__username="dean-r", user__first_name="Dean")

    entry = record_interaction(
        operator.user,
        occurred_at=at(day, 9),
        duration_minutes=45,
        referral_kind="other",
        referred_by_text="Prof. Example",
    )
    assert day not in kept_days()
    assert not ReportMonth.objects.filter(month=date(2025, 3, 1)).exists()
    assert ReportMonth.objects.count() == 11
    assert_same(reports.report(YEAR), live(YEAR))
    assert any(r["label"] == "Prof. Example" for r in reports.report(YEAR)["by_referral"])

    # Back-dated to another day, with another referral: both days change.
    later = date(2025, 7, 14)
    data = {
        "occurred_at": at(later, 16),
        "location": entry.location,
        "mode": Mode.objects.last(),
        "duration_minutes": 3,
        "referral_kind": "operator",
        "referred_by_operator": other,
    }
    assert later in kept_days()
    analytics_services.interaction_update(interaction=entry, data=data, actor=operator.user)
    assert later not in kept_days()
    assert_same(reports.report(YEAR), live(YEAR))
    assert not any(r["label"] == "Prof. Example" for r in reports.report(YEAR)["by_referral"])

    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    assert {day, later} <= kept_days()
    assert ReportMonth.objects.count() == 12
    assert_same(reports.report(YEAR), live(YEAR))

    analytics_services.interaction_delete(interaction=entry)
    assert later not in kept_days()
    assert_right(YEAR.start, YEAR.end)
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    assert_right(YEAR.start, YEAR.end)


def test_an_entry_for_an_old_chat_changes_the_chats_day(year, operator, department):
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    chat_day = year + timedelta(days=1)
    chat = Chat.objects.get(created_at__date=chat_day)
    assert reports.report(YEAR)["chats"]["without_entry"] == 2
    # Recorded weeks later: the entry's day and the chat's day both change.
    record_interaction(operator.user, chat=chat, occurred_at=at(date(2025, 4, 1), 9))
    assert chat_day not in kept_days()
    assert reports.report(YEAR)["chats"]["without_entry"] == 1
    assert_right(YEAR.start, YEAR.end)
    by_department = reports.ReportFilter(start=YEAR.start, end=YEAR.end, department=department)
    assert reports.report(by_department)["chats"]["without_entry"] == 1


def test_deleting_an_entry_deletes_the_text_kept_from_it(operator):
    day = date(2025, 5, 5)
    entry = record_interaction(
        operator.user,
        occurred_at=at(day, 9),
        referral_kind="other",
        referred_by_text="Dr. Somebody",
    )
    analytics_services.report_days_build(before=date(2025, 6, 1), limit=None)
    kept = ReportFigure.objects.filter(referred_by_text="Dr. Somebody")
    assert kept.filter(share="").count() == 2  # the day, and May
    assert kept.filter(share=ReportFigure.Figure.MODE).count() == 2  # the entry's mode's share
    analytics_services.interaction_delete(interaction=entry)
    assert not ReportFigure.objects.filter(referred_by_text="Dr. Somebody").exists()


def test_a_day_with_open_chats_is_kept_without_them_and_counts_them_as_they_are_now(
    operator, department
):
    day = date(2025, 9, 12)
    record_interaction(operator.user, occurred_at=at(day, 9))
    waiting = chat_on(department, operator, day, 0, None, end=False)  # still in the queue
    active = chat_on(department, operator, day, 5, 20, end=False)  # claimed, not ended
    result = analytics_services.report_days_build(before=date(2025, 10, 3), limit=None)
    # September from the 1st (its first month whole) and October 1–2, the 12th without
    # its two open chats; both months added up.
    assert result == {"built": 32, "open": 1, "months": 2}
    assert day in kept_days()
    assert ReportDay.objects.get(day=day).open_chats == sorted([waiting.pk, active.pk])
    assert ReportMonth.objects.get(month=date(2025, 9, 1)).through == date(2025, 9, 30)
    the_day = reports.ReportFilter(start=day, end=day)
    september = reports.ReportFilter(start=date(2025, 9, 1), end=date(2025, 9, 30))
    for each in (the_day, september):
        assert_right(each.start, each.end)  # the library's, the department's
    chats = reports.report(september)["chats"]
    assert (chats["total"], chats["claimed"], chats["waiting_now"]) == (2, 1, 1)

    # The waiting chat is claimed, both end: the reports follow at once.
    chat_services.chat_claim(chat_id=waiting.pk, operator=operator)
    for chat in (waiting, active):
        chat_services.chat_end(chat_id=chat.pk, by="patron")
    for each in (the_day, september):
        assert_right(each.start, each.end)
    chats = reports.report(september)["chats"]
    assert (chats["claimed"], chats["waiting_now"], chats["without_entry"]) == (2, 0, 2)

    # The next build keeps the day again, with them, and September's sums with it.
    result = analytics_services.report_days_build(before=date(2025, 10, 3))
    assert result == {"built": 1, "open": 0, "months": 1}
    assert ReportDay.objects.get(day=day).open_chats == []
    expected = live(september)
    # Behind the services' back: the kept figures hold them now, not the chats.
    Chat.objects.filter(pk__in=[waiting.pk, active.pk]).update(claimed_at=None)
    assert_same(reports.report(september), expected)
    assert reports.report(september)["chats"]["claimed"] == 2


def test_days_kept_in_another_time_zone_do_not_count(year, settings):
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    settings.TIME_ZONE = "America/Los_Angeles"
    assert kept_days() == set()
    with timezone.override("America/Los_Angeles"):
        assert_same(reports.report(YEAR), live(YEAR))
        analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
        assert len(kept_days()) >= 364
        assert_same(reports.report(YEAR), live(YEAR))


def test_a_report_of_kept_days_runs_the_same_queries_with_six_times_the_entries(
    operator, department, django_assert_num_queries
):
    by_department = reports.ReportFilter(start=YEAR.start, end=YEAR.end, department=department)
    add_entries(operator, 4, "a")
    analytics_services.report_days_build(limit=None)
    with CaptureQueriesContext(connection) as few:
        reports.report(YEAR)
    with CaptureQueriesContext(connection) as few_by_department:
        reports.report(by_department)
    add_entries(operator, 24, "b")
    analytics_services.report_days_build(limit=None)
    with django_assert_num_queries(len(few)):
        reports.report(YEAR)
    with django_assert_num_queries(len(few_by_department)):
        reports.report(by_department)


def test_a_department_report_reads_its_kept_share(year, department):
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    by_department = reports.ReportFilter(start=YEAR.start, end=YEAR.end, department=department)
    expected = live(by_department)
    assert expected["chats"]["total"] == 4  # the fixture's chats are this department's
    # Behind the services' back: the entries change, the kept share does not.
    Interaction.objects.filter(department=department).update(duration_minutes=999)
    assert_same(reports.report(by_department), expected)
    # Another filter besides the department reads the entries themselves.
    narrower = reports.ReportFilter(
        start=YEAR.start, end=YEAR.end, department=department, mode=Mode.objects.first()
    )
    assert_same(reports.report(narrower), live(narrower))


def test_a_report_by_one_mode_location_or_question_type_reads_its_kept_share(year):
    analytics_services.report_days_build(before=START + timedelta(days=365), limit=None)
    choices = {
        "mode": list(Mode.objects.all()),
        "location": list(Location.objects.all()),
        "question_type": list(QuestionType.objects.all()),
    }
    filters = [
        reports.ReportFilter(start=start, end=end, **{name: choice})
        for name, some in choices.items()
        for choice in some
        # A year of whole months, a month and a few days, and a range half not kept.
        for start, end in [
            (YEAR.start, YEAR.end),
            (date(2025, 2, 3), date(2025, 3, 9)),
            (date(2025, 12, 20), date(2026, 1, 10)),
        ]
    ]
    expected = [live(flt) for flt in filters]
    assert any(e["total"] for e in expected) and any(not e["total"] for e in expected)
    # Behind the services' back: the entries change, their kept shares do not.
    Interaction.objects.filter(occurred_at__date__lt=date(2025, 12, 1)).update(
        duration_minutes=999, read_scale=6
    )
    for flt, before in zip(filters, expected, strict=True):
        assert_same(reports.report(flt), before)


def test_a_choices_share_is_read_in_the_same_queries_with_six_times_the_entries(
    operator, django_assert_num_queries
):
    # Enough entries that the mode's have every kind they will have: the names of what
    # they count are looked up only when there is one.
    add_entries(operator, 24, "a")
    analytics_services.report_days_build(limit=None)
    by_mode = reports.ReportFilter(start=YEAR.start, end=YEAR.end, mode=Mode.objects.first())
    with CaptureQueriesContext(connection) as few:
        reports.report(by_mode)
    add_entries(operator, 144, "b")
    analytics_services.report_days_build(limit=None)
    expected = live(by_mode)
    with django_assert_num_queries(len(few)):
        page = reports.report(by_mode)
    assert page["total"] > 0
    assert_same(page, expected)


def test_filters_that_describe_entries_take_the_chat_figures_kept(year, department, operator):
    """Location, mode and question type narrow the entries, not the chats: the chat
    figures of such a report are the library's or the department's, read from what is
    kept (and computed for the days that are not); a staff filter narrows the chats."""
    analytics_services.report_days_build(before=START + timedelta(days=200), limit=None)
    mode = Mode.objects.first()
    location = Interaction.objects.exclude(location=None).first().location
    narrowed = [
        {"mode": mode},
        {"department": department, "mode": mode},
        {"location": location},
        {"staff": operator.user},
    ]
    for start, end in [(YEAR.start, YEAR.end), (year, year), (date(2025, 6, 1), date(2025, 9, 1))]:
        for narrowing in narrowed:
            flt = reports.ReportFilter(start=start, end=end, **narrowing)
            assert_same(reports.report(flt), live(flt))
    by_mode = reports.ReportFilter(start=YEAR.start, end=YEAR.end, mode=mode)
    assert reports.report(by_mode)["chats"]["total"] == 4  # every chat of the year
    # Behind the services' back: the chats change, the kept figures do not.
    Chat.objects.filter(created_at__date=year).update(claimed_at=None)
    assert reports.report(by_mode)["chats"] == reports.report(YEAR)["chats"]
    assert reports.report(by_mode)["chats"] != reports.chat_stats(by_mode)
    by_staff = reports.ReportFilter(start=YEAR.start, end=YEAR.end, staff=operator.user)
    assert reports.report(by_staff)["chats"] == reports.chat_stats(by_staff)


def test_the_command_and_the_hourly_task(operator, settings):
    today = timezone.localdate()
    first = today - timedelta(days=3)
    record_interaction(operator.user, occurred_at=timezone.now() - timedelta(days=3))
    out = StringIO()
    call_command("build_report_days", stdout=out)
    # Every day from the first of that month to yesterday; each of their months added up.
    days = [
        first.replace(day=1) + timedelta(days=i) for i in range((today - first.replace(day=1)).days)
    ]
    assert json.loads(out.getvalue()) == {
        "built": len(days),
        "open": 0,
        "months": len({day.replace(day=1) for day in days}),
    }
    call_command("build_report_days", stdout=(again := StringIO()))
    assert json.loads(again.getvalue()) == {"built": 0, "open": 0, "months": 0}
    with pytest.raises(CommandError, match="1 or more"):
        call_command("build_report_days", "--limit", "0")
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "analytics.tasks.build_report_days" in schedule
    from analytics.tasks import build_report_days

    record_interaction(operator.user, occurred_at=timezone.now() - timedelta(days=2))
    assert build_report_days.apply().get()["built"] == 1
    assert today - timedelta(days=2) in kept_days()


@pytest.mark.django_db(transaction=True)
def test_an_entry_recorded_while_its_day_is_built_is_never_missed(operator):
    """The build holds the days' rows; an entry recorded at the same moment either
    finishes first (and the build counts it) or waits and marks the day changed."""
    day = date(2025, 10, 6)
    record_interaction(operator.user, occurred_at=at(day, 9))
    flt = reports.ReportFilter(start=day, end=day)
    inside, release = threading.Event(), threading.Event()
    errors = []

    def record_slowly():
        try:
            with transaction.atomic():
                record_interaction(operator.user, occurred_at=at(day, 15))
                inside.set()
                release.wait(5)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=record_slowly)
    writer.start()
    assert inside.wait(5)
    builder = threading.Thread(
        target=lambda: (
            analytics_services.report_days_build(before=date(2025, 10, 7)),
            connection.close(),
        )
    )
    builder.start()
    builder.join(0.5)  # the build waits for the entry's transaction (its lock on the day)
    release.set()
    writer.join(10)
    builder.join(10)
    assert not errors
    assert reports.report(flt)["total"] == 2
    assert_same(reports.report(flt), live(flt))
