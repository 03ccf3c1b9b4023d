"""WCAG 2.2 AA on the staff side: axe-core finds nothing on the dashboard in each of its
states, on /tickets/, /analytics/, /analytics/new/ and the canned-messages page; the
widget's offline form too; and both the widget and the dashboard reflow at 320 px."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import ask, chat_item, unique
from tests.e2e.test_tickets import staff_page

NO_HORIZONTAL_SCROLL = (
    "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


def test_dashboard_in_each_state_has_no_violations(operator_page, patron_page):
    dashboard = operator_page("alice")
    assert_accessible(dashboard, "dashboard, empty")

    _, widget = patron_page()
    patron = unique("AxeDesk")
    ask(widget, "Do you have the 1850 maps?", name=patron)
    expect(chat_item(dashboard, patron)).to_be_visible()
    assert_accessible(dashboard, "dashboard with a waiting chat")

    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text("1850 maps")
    assert_accessible(dashboard, "dashboard with an open chat")

    dashboard.get_by_role("button", name="Canned Messages").click()
    expect(dashboard.get_by_role("listbox", name="Canned Messages")).to_be_visible()
    assert_accessible(dashboard, "dashboard with the Canned Messages list open")
    dashboard.keyboard.press("Escape")
    expect(dashboard.get_by_role("listbox")).to_have_count(0)

    dashboard.get_by_role("button", name="Create a ticket").click()
    dialog = dashboard.get_by_role("dialog", name="Create a ticket")
    expect(dialog.get_by_label("Queue")).to_be_visible()
    assert_accessible(dashboard, "dashboard with the Create Ticket dialog open")
    dashboard.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    dashboard.get_by_role("button", name="End Chat").click()
    panel = dashboard.locator("#after-chat")
    expect(panel.get_by_role("heading", name="Reference Analytics")).to_be_visible()
    assert_accessible(dashboard, "dashboard with the Reference Analytics form after End Chat")
    panel.get_by_label("Location").select_option(label="Choose…")  # it starts at Virtual
    panel.get_by_role("button", name="Save", exact=True).click()  # errors shown
    expect(panel.get_by_label("Location")).to_have_attribute("aria-invalid", "true")
    assert_accessible(dashboard, "the Reference Analytics form with errors")


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/tickets/", "Tickets"),
        ("/analytics/", None),
        ("/analytics/new/", None),
        ("/dashboard/canned/manage/", None),
    ],
)
def test_staff_pages_have_no_violations(new_page, live_desk, path, heading):
    page = staff_page(new_page, live_desk, "alice", "/tickets/")
    if path != "/tickets/":
        page.goto(f"{live_desk.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, path)


def test_a_ticket_page_has_no_violations(new_page, live_desk):
    patron = new_page()
    patron.goto(f"{live_desk.url}/widget/special-collections/")
    assert_accessible(patron, "the widget's offline question form")
    patron.get_by_role("button", name="Send question").click()  # empty: errors shown
    assert_accessible(patron, "the offline form with errors")
    question = unique("Is the Sanborn atlas on microfilm?")
    patron.get_by_role("textbox", name="Name (optional)", exact=True).fill("Axe Pat")
    patron.get_by_role("textbox", name="Email address").fill("axe-pat@example.org")
    patron.get_by_role("textbox", name="Question", exact=True).fill(question)
    patron.get_by_role("button", name="Send question").click()
    sent = patron.get_by_role("status").filter(has_text="Your question was sent")
    expect(sent).to_be_visible()
    assert_accessible(patron, "the offline form, sent")
    reference = re.search(r"LD-\d+", sent.inner_text()).group(0)

    carmen = staff_page(new_page, live_desk, "carmen")
    carmen.get_by_role("link", name=reference).click()
    expect(carmen.get_by_role("heading", level=1)).to_contain_text(reference)
    assert_accessible(carmen, "a ticket page")


def test_the_widget_and_the_dashboard_reflow_at_320_px(new_page, live_desk, operator_page):
    dashboard = operator_page("bob")
    dashboard.set_viewport_size({"width": 320, "height": 640})
    expect(dashboard.get_by_role("heading", name="Patron Chats")).to_be_visible()
    assert dashboard.evaluate("document.documentElement.scrollWidth") <= 320
    assert dashboard.evaluate(NO_HORIZONTAL_SCROLL)

    for path in ("/widget/reference/", "/widget/special-collections/", "/demo/"):
        page = new_page(viewport={"width": 320, "height": 640})
        page.goto(f"{live_desk.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    # The widget opened on the library page fits too.
    page.get_by_role("button", name="Ask a librarian").click()
    frame = page.frame_locator('iframe[title="Chat with the library"]')
    expect(frame.get_by_role("button", name="Start chat")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = page.locator('iframe[title="Chat with the library"]').bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320

    for path in ("/tickets/", "/analytics/", "/analytics/new/", "/dashboard/canned/manage/"):
        dashboard.goto(f"{live_desk.url}{path}")
        assert dashboard.evaluate("document.documentElement.scrollWidth") <= 320, path
