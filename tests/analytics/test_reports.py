"""Report correctness on a fixture of known entries, the CSV, and query-count guards."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import export, reports
from analytics.models import Location, Mode
from chat import services as chat_services
from tests.factories import OperatorFactory, record_interaction, start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"


def at(day, hour, minute=0, second=0):
    return timezone.make_aware(datetime(2025, 3, day, hour, minute, second))


def mode(slug):
    return Mode.objects.get(slug=slug)


@pytest.fixture
def entries(operator):
    """Monday 3 March 2025 … Sunday 9 March 2025. Durations 1, 4, 6, 10, 20."""
    user = operator.user
    other = OperatorFactory(user__username="bob-r", user__first_name="Bob")
    rows = [
        (at(3, 9, 15), "chat", 4, {}),
        (at(3, 9, 45), "phone", 10, {"referral_kind": "operator", "referred_by_operator": other}),
        (at(3, 14, 0), "chat", 6, {"read_scale": 2}),
        (at(5, 9, 30), "in-person", 20, {"referral_kind": "other", "referred_by_text": "Dean"}),
        (at(9, 23, 59), "email", 1, {"read_scale": 2}),
        (at(10, 0, 0), "email", 30, {}),  # the day after the range
    ]
    for when, slug, minutes, extra in rows:
        record_interaction(
            user, occurred_at=when, mode=mode(slug), duration_minutes=minutes, **extra
        )


def flt(**kw):
    return reports.ReportFilter(start=date(2025, 3, 3), end=date(2025, 3, 9), **kw)


def test_counts_per_day_include_empty_days(entries):
    assert [(row["day"].day, row["count"]) for row in reports.per_day(flt())] == [
        (3, 3),
        (4, 0),
        (5, 1),
        (6, 0),
        (7, 0),
        (8, 0),
        (9, 1),
    ]


def test_heatmap_cells(entries):
    grid = {row["weekday"]: row["cells"] for row in reports.heatmap(flt())["rows"]}
    assert grid["Monday"][9] == 2 and grid["Monday"][14] == 1
    assert grid["Wednesday"][9] == 1 and grid["Sunday"][23] == 1
    assert sum(sum(cells) for cells in grid.values()) == 5
    assert reports.heatmap(flt())["max"] == 2


def test_counts_by_mode_read_scale_and_referral(entries):
    assert reports.by_mode(flt()) == [
        {"label": "Chat", "count": 2},
        {"label": "Email", "count": 1},
        {"label": "In person", "count": 1},
        {"label": "Phone", "count": 1},
    ]
    read = {row["label"]: row["count"] for row in reports.by_read_scale(flt())}
    assert read["2"] == 2 and read["1"] == 0 and read["(not recorded)"] == 3
    assert reports.by_referral(flt()) == [
        {"kind": "An operator", "label": "Bob", "count": 1},
        {"kind": "Someone else", "label": "Dean", "count": 1},
    ]
    assert reports.by_location(flt()) == [{"label": "Reference Desk", "count": 5}]


def test_median_and_mean_duration(entries):
    stats = reports.duration(flt())
    assert stats["count"] == 5
    assert stats["median"] == 6
    assert stats["mean"] == pytest.approx(8.2)
    # An even count: the mean of the two middle values (4 and 6).
    assert reports.duration(flt(mode=mode("chat")))["median"] == 5


def test_filters(entries, operator):
    assert reports.duration(flt(mode=mode("phone")))["count"] == 1
    assert reports.duration(flt(staff=operator.user))["count"] == 5
    assert reports.duration(flt(location=Location.objects.get(slug="roaming")))["count"] == 0
    assert reports.duration(flt(location=Location.objects.get(slug="roaming")))["median"] is None


def test_chat_wait_times_abandoned_and_without_entry(department, operator):
    from chat.models import Chat

    def chat_at(minute, wait_seconds=None, *, end=True):
        chat, _ = start_chat(department, client_id=f"q-{minute}")
        created = timezone.make_aware(datetime(2025, 4, 1, 10, minute))
        if wait_seconds is not None:
            chat_services.chat_claim(chat_id=chat.pk, operator=operator)
        if end:
            chat_services.chat_end(chat_id=chat.pk, by="patron")
        claimed = created + timedelta(seconds=wait_seconds) if wait_seconds is not None else None
        Chat.objects.filter(pk=chat.pk).update(created_at=created, claimed_at=claimed)
        return Chat.objects.get(pk=chat.pk)

    a = chat_at(0, 30)
    chat_at(5, 90)
    chat_at(10, 120)
    chat_at(20)  # ended while waiting: abandoned
    chat_at(30, end=False)  # still waiting
    record_interaction(operator.user, chat=a, occurred_at=a.created_at)

    stats = reports.chat_stats(reports.ReportFilter(start=date(2025, 4, 1), end=date(2025, 4, 1)))
    assert stats["total"] == 5
    assert stats["claimed"] == 3
    assert stats["abandoned"] == 1
    assert stats["waiting_now"] == 1
    assert stats["median_wait"] == pytest.approx(90, abs=0.01)
    assert stats["mean_wait"] == pytest.approx(80, abs=0.01)
    assert stats["without_entry"] == 2
    elsewhere = reports.chat_stats(
        reports.ReportFilter(start=date(2025, 4, 2), end=date(2025, 4, 2))
    )
    assert elsewhere["total"] == 0 and elsewhere["median_wait"] is None


def test_report_page_shows_the_numbers_with_tables(staff_client, entries):
    response = staff_client.get("/analytics/?start=2025-03-03&end=2025-03-09")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="stat-total">5<' in html
    assert 'id="stat-median-duration">6 min<' in html
    assert "<svg" in html and 'id="table-per-day"' in html and 'id="table-heatmap"' in html
    assert 'id="table-mode"' in html and '<th scope="row">Phone</th><td>1</td>' in html
    assert "http://" not in html.split("<main", 1)[1].split("</main>")[0]  # nothing external


def test_report_page_query_count_does_not_grow_with_entries(
    staff_client, entries, operator, django_assert_max_num_queries
):
    url = "/analytics/?start=2025-03-01&end=2025-03-31"
    with CaptureQueriesContext(connection) as first:
        staff_client.get(url)
    for day in range(11, 31):
        record_interaction(operator.user, occurred_at=at(day, 12), duration_minutes=day)
    with CaptureQueriesContext(connection) as second:
        staff_client.get(url)
    assert len(second) == len(first)
    with django_assert_max_num_queries(30):
        staff_client.get(url)


def test_csv_export(staff_client, entries):
    response = staff_client.get("/analytics/export.csv?start=2025-03-03&end=2025-03-09")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "reference-analytics-20250303-20250309.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == export.HEADER
    assert len(rows) == 5
    assert [row["mode"] for row in rows] == ["Chat", "Phone", "Chat", "In person", "Email"]
    assert rows[0]["occurred_at"] == "2025-03-03T09:15:00+00:00"
    assert rows[1]["referral_kind"] == "operator" and rows[1]["referred_by"] == "Bob"
    assert rows[3]["referred_by"] == "Dean" and rows[3]["duration_minutes"] == "20"
    assert rows[0]["staff"] == "alice-t" and rows[0]["location"] == "Reference Desk"


def test_csv_neutralises_formulas(staff_client, operator):
    record_interaction(operator.user, question='=HYPERLINK("http://evil")')
    response = staff_client.get("/analytics/export.csv")
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    assert rows[0]["question"].startswith("'=")


def test_csv_has_no_date_cap(staff_client, operator):
    record_interaction(operator.user, occurred_at=timezone.now() - timedelta(days=800))
    record_interaction(operator.user)
    response = staff_client.get(
        f"/analytics/export.csv?start={(timezone.localdate() - timedelta(days=900)).isoformat()}"
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(body)))) == 2


@pytest.mark.django_db(transaction=True)
async def test_csv_streams_asynchronously_under_asgi(async_client, operator):
    from asgiref.sync import sync_to_async

    await sync_to_async(record_interaction)(operator.user, question="async row")
    await async_client.aforce_login(operator.user)
    response = await async_client.get("/analytics/export.csv")
    assert response.status_code == 200
    assert response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    assert len(chunks) == 2  # the header, then the row: line by line, not one blob
    assert b"async row" in chunks[1]
    from django.db import connections

    await sync_to_async(connections.close_all)()
