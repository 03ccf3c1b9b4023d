"""The reports page runs the same number of queries whatever the entries (every
dimension the page groups by, a month or a whole year), and its one-pass figures on
PostgreSQL are exactly those of the one-figure functions."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import reports
from analytics.models import Location, Mode, QuestionType
from chat import services as chat_services
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    analytics_choice,
    record_interaction,
    start_chat,
)

pytestmark = pytest.mark.django_db

START = date(2025, 1, 1)


@pytest.fixture(autouse=True)
def _paris(settings):
    settings.TIME_ZONE = "Europe/Paris"  # days and hours are the desk's, not UTC's


def when(day, hour):
    return timezone.make_aware(
        datetime.combine(START + timedelta(days=day), datetime.min.time()) + timedelta(hours=hour)
    )


def add_entries(operator, n, tag):
    """``n`` entries spread over every dimension of the page: modes, locations, question
    types, READ levels (and none), durations, staff, departments, the three referral
    kinds, entries of chats, hours and days of the year; and chats claimed, abandoned
    and waiting, in Spanish, English and Arabic."""
    modes = list(Mode.objects.all())
    locations = list(Location.objects.all())
    types = [*QuestionType.objects.all(), None]
    department = DepartmentFactory(slug=f"dept-{tag}")
    colleague = OperatorFactory(
        user__username=f"colleague-{tag}", user__first_name="Sam", departments=[department]
    )
    for i in range(n):
        referral = [
            {},
            {"referral_kind": "operator", "referred_by_operator": colleague},
            {"referral_kind": "department", "referred_by_department": department},
            {"referral_kind": "other", "referred_by_text": f"Dean {i % 2}"},
        ][i % 4]
        staff = operator.user if i % 2 else colleague.user
        record_interaction(
            staff,
            occurred_at=when((i * 37) % 365, (i * 5) % 24),
            mode=modes[i % len(modes)],
            location=locations[i % len(locations)],
            question_type=types[i % len(types)],
            read_scale=[None, 1, 3, 6][i % 4],
            duration_minutes=1 + (i * 7) % 50,
            department=department if i % 3 else None,
            **referral,
        )
    for i in range(n // 2):
        chat, _ = start_chat(
            department,
            question=f"Q {tag} {i}",
            client_id=f"c-{tag}-{i}",
            language=("es", "en", "ar", "es", "ar")[i % 5],
        )
        if i % 3 == 0:
            continue  # still waiting
        chat_services.chat_claim(chat_id=chat.pk, operator=colleague)
        chat_services.chat_end(chat_id=chat.pk, by="operator", operator=colleague)
        if i % 3 == 1:
            record_interaction(colleague.user, chat=chat, occurred_at=timezone.now())


@pytest.mark.parametrize(
    "url",
    ["/analytics/", f"/analytics/?start={START}&end={START + timedelta(days=364)}"],
    ids=["default range", "a whole year"],
)
def test_report_page_runs_the_same_queries_with_six_times_the_entries(
    staff_client, operator, url, django_assert_num_queries
):
    add_entries(operator, 4, "a")
    staff_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    add_entries(operator, 24, "b")
    with django_assert_num_queries(len(few)):
        assert staff_client.get(url).status_code == 200


def test_the_page_figures_are_those_of_the_one_figure_functions(operator):
    add_entries(operator, 40, "a")
    # Two referring operators with one name: one row, as the by-name grouping gives.
    twin = OperatorFactory(user__username="twin", user__first_name="Sam")
    record_interaction(
        operator.user,
        occurred_at=when(3, 10),
        referral_kind="operator",
        referred_by_operator=twin,
        location=analytics_choice(Location, "Reference Desk"),
    )
    for flt in (
        reports.ReportFilter(start=START, end=START + timedelta(days=364)),
        reports.ReportFilter(start=START + timedelta(days=30), end=START + timedelta(days=60)),
        reports.ReportFilter(
            start=START, end=START + timedelta(days=364), mode=Mode.objects.first()
        ),
        reports.ReportFilter(start=date(2030, 1, 1), end=date(2030, 1, 31)),  # nothing
        reports.ReportFilter(
            start=timezone.localdate() - timedelta(days=29), end=timezone.localdate()
        ),  # the chats and their entries
    ):
        page = reports.report(flt)
        assert page["per_day"] == reports.per_day(flt)
        assert page["heatmap"] == reports.heatmap(flt)
        assert page["by_mode"] == reports.by_mode(flt)
        assert page["by_location"] == reports.by_location(flt)
        assert page["by_question_type"] == reports.by_question_type(flt)
        assert page["by_read_scale"] == reports.by_read_scale(flt)
        assert page["by_referral"] == reports.by_referral(flt)
        expected = reports.duration(flt)
        assert page["total"] == expected["count"]
        assert page["duration"]["count"] == expected["count"]
        assert page["duration"]["median"] == expected["median"]
        assert page["duration"]["mean"] == pytest.approx(expected["mean"])
    month = reports.report(
        reports.ReportFilter(
            start=timezone.localdate() - timedelta(days=29), end=timezone.localdate()
        )
    )
    assert month["chats"]["total"] == 20 and month["chats"]["waiting_now"] == 7
    assert month["chats"]["claimed"] == 13 and month["chats"]["without_entry"] == 6
