"""Report ranges at the ends of the calendar (From 0001-01-01, To 9999-12-31: once a
500) are refused with a form error on the page and a 400 for the export; the widest
range the form takes still renders."""

import pytest
from django.test import Client

from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, record_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    reference = DepartmentFactory(slug="reference")
    alice = OperatorFactory(user=UserFactory(username="alice"), departments=[reference])
    record_interaction(alice.user, department=reference)
    client = Client()
    client.force_login(alice.user)
    return client


@pytest.mark.parametrize(
    "query",
    ["start=0001-01-01", "end=9999-12-31", "start=0001-01-01&end=9999-12-31", "start=1899-12-31"],
)
def test_dates_past_the_report_range_are_refused_with_a_form_error(staff, query):
    page = staff.get(f"/analytics/?{query}")
    assert page.status_code == 200
    assert "Choose a date from Jan. 1, 1900 to Dec. 31, 2999." in page.content.decode()

    export = staff.get(f"/analytics/export.csv?{query}")
    assert export.status_code == 400
    assert "Choose a date from Jan. 1, 1900" in export.content.decode()


def test_the_page_takes_ten_years_and_the_export_any_range_of_the_report_dates(staff):
    ten_years = staff.get("/analytics/?start=2016-01-01&end=2025-12-31")
    assert ten_years.status_code == 200
    assert "at most 10 years" not in ten_years.content.decode()
    assert "Choose a date" not in ten_years.content.decode()

    century = staff.get("/analytics/?start=1900-01-01&end=2025-12-31").content.decode()
    assert "A report shows at most 10 years at a time; the CSV export takes any range." in century

    export = staff.get("/analytics/export.csv?start=1900-01-01&end=2999-12-31")
    assert export.status_code == 200
    rows = b"".join(export.streaming_content).decode().splitlines()
    assert len(rows) == 2  # the header and the one entry
