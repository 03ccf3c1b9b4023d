"""Ticket answers are recorded in Reference Analytics from the ticket page."""

import pytest

from tests.factories import DepartmentFactory, OperatorFactory, offline_ticket

pytestmark = pytest.mark.django_db


def test_the_ticket_page_links_to_a_prefilled_reference_analytics_entry(client):
    department = DepartmentFactory(slug="reference")
    operator = OperatorFactory(departments=[department])
    ticket = offline_ticket(department, question="Do you have the 1902 atlas & gazetteer?")
    client.force_login(operator.user)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    expected = (
        f"/analytics/new/?ticket={ticket.reference}"
        "&amp;question=Do%20you%20have%20the%201902%20atlas%20%26%20gazetteer%3F"
    )
    assert "Record in Reference Analytics" in page and expected in page
    form = client.get(
        f"/analytics/new/?ticket={ticket.reference}&question=Do+you+have+the+1902+atlas"
    ).content.decode()
    assert f'value="{ticket.reference}"' in form  # the entry is linked to the ticket
    assert "Do you have the 1902 atlas" in form
