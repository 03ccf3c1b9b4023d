"""What the reports page prints, to the character, for a small known week: the day
labels and titles (as the |date filter wrote them), the SVG bars' attributes, the heat
classes; and staff-entered labels still escaped. The page prints these from strings that
analytics.charts prepares, so a formatting change there shows here."""

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation

from analytics import charts
from analytics.models import Mode
from tests.factories import record_interaction

pytestmark = pytest.mark.django_db

URL = "/analytics/?start=2025-03-03&end=2025-03-09"  # Monday … Sunday


@pytest.fixture(autouse=True)
def _utc(settings):
    settings.TIME_ZONE = "UTC"


def at(day, hour, minute=0):
    return timezone.make_aware(datetime(2025, 3, day, hour, minute))


@pytest.fixture
def week(operator):
    """Mon 3 March: two chats at 9 h, a phone call at 14 h referred by "<b>Dean & co</b>";
    Wed 5 March: one in person at 9 h. Nothing the other days."""
    chat, phone = Mode.objects.get(slug="chat"), Mode.objects.get(slug="phone")
    user = operator.user
    record_interaction(user, occurred_at=at(3, 9, 15), mode=chat)
    record_interaction(user, occurred_at=at(3, 9, 45), mode=chat)
    record_interaction(
        user,
        occurred_at=at(3, 14),
        mode=phone,
        referral_kind="other",
        referred_by_text="<b>Dean & co</b>",
    )
    record_interaction(user, occurred_at=at(5, 9, 30), mode=Mode.objects.get(slug="in-person"))


def page(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def test_the_days_read_as_before_in_the_chart_and_the_table(staff_client, week):
    html = page(staff_client)
    # One column per day: 640 / 7 wide slots, bars 80 % of a slot, the busiest 180 high.
    assert (
        '<rect class="ra-bar" x="9.14" y="20" width="73.14" height="180">'
        "<title>Mon Mar 3: 3</title></rect>"
        '<rect class="ra-bar" x="100.57" y="200" width="73.14" height="0">'
        "<title>Tue Mar 4: 0</title></rect>"
        '<rect class="ra-bar" x="192" y="140" width="73.14" height="60">'
        "<title>Wed Mar 5: 1</title></rect>"
    ) in html
    assert "<title>Sun Mar 9: 0</title>" in html
    assert (
        '<tr><th scope="row"><time datetime="2025-03-03">Mon Mar 3, 2025</time></th>'
        "<td>3</td></tr>"
        '<tr><th scope="row"><time datetime="2025-03-04">Tue Mar 4, 2025</time></th>'
        "<td>0</td></tr>"
    ) in html
    assert '<time datetime="2025-03-09">Sun Mar 9, 2025</time></th><td>0</td>' in html
    assert html.count("<time datetime=") == 7


def test_the_bars_by_mode_and_the_heat_classes(staff_client, week):
    html = page(staff_client)
    # 400 units of room for the longest bar, its count 6 units past its end.
    assert (
        '<g><text class="ra-bar-label" x="172" y="15.4" text-anchor="end">Chat</text>'
        '<rect class="ra-bar" x="180" y="0" width="400" height="22"><title>Chat: 2</title>'
        '</rect><text class="ra-bar-value" x="586" y="15.4">2</text></g>'
    ) in html
    assert re.search(
        r'<rect class="ra-bar" x="180" y="(28|56)" width="200" height="22">'
        r'<title>Phone: 1</title></rect><text class="ra-bar-value" x="386" y="(43|71)\.4">1'
        r"</text>",
        html,
    )
    monday = "".join(
        {9: '<td class="heat-5">2</td>', 14: '<td class="heat-3">1</td>'}.get(
            hour, '<td class="heat-0">0</td>'
        )
        for hour in range(24)
    )
    assert f'<tr><th scope="row">Monday</th>{monday}</tr>' in html
    assert '<th scope="col" abbr="23:00">23</th>' in html
    for svg in re.findall(r"<svg.*?</svg>", html, re.S):
        ET.fromstring(svg)  # well-formed


def test_staff_entered_labels_stay_escaped(staff_client, week):
    html = page(staff_client)
    assert "<b>Dean" not in html
    escaped = "&lt;b&gt;Dean &amp; co&lt;/b&gt; (someone else)"
    assert f"<title>{escaped}: 1</title>" in html
    assert f'<th scope="row">{escaped}</th><td>1</td>' in html


@pytest.mark.parametrize("language", ["en-us", "fr", "de"])
def test_day_labels_are_those_of_the_date_filter(language):
    days = [{"day": date(2024, 1, 1) + timedelta(days=i), "count": i} for i in range(366)]
    with translation.override(language):
        rows = charts.day_rows(days)
        for row, day in zip(rows, days, strict=True):
            assert row["iso"] == date_filter(day["day"], "Y-m-d")
            assert row["title"] == date_filter(day["day"], "D M j")
            assert row["label"] == date_filter(day["day"], "D M j, Y")
            assert row["count"] == str(day["count"])


def test_svg_numbers():
    assert [charts.svg_number(v) for v in (20.0, 15.399999999999999, 0.125, -0.001, 586)] == [
        "20",
        "15.4",
        "0.12",
        "0",
        "586",
    ]
