"""WCAG 2.2 AA: axe-core finds nothing in any state of the widget or on the staff
pages, and the whole flows work from the keyboard alone."""

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.helpers import chat_item, unique


def widget_page(new_page, live_desk, slug="reference"):
    """The widget's iframe page opened on its own, so axe audits it as a document."""
    page = new_page()
    page.goto(f"{live_desk.url}/widget/{slug}/")
    return page


def test_widget_in_every_state_has_no_violations(new_page, live_desk, operator_page):
    dashboard = operator_page("alice")
    demo = new_page()
    demo.goto(f"{live_desk.url}/demo/")
    expect(demo.get_by_role("button", name="Ask a librarian")).to_be_visible()
    assert_accessible(demo, "closed (the library page with the launcher)")

    page = widget_page(new_page, live_desk)
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    assert_accessible(page, "pre-chat form")

    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("alert")).to_have_text("Please type your question.")
    assert_accessible(page, "error (empty question)")

    patron = unique("Axe")
    page.get_by_label("Your name").fill(patron)
    page.get_by_label("Your question").fill("Where are the maps?")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("status").filter(has_text="Waiting for a librarian")).to_be_visible()
    assert_accessible(page, "waiting")

    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(page.get_by_text("You are chatting with Alice.")).to_be_visible()
    dashboard.get_by_label("Message").fill("The maps are on floor 3.")
    dashboard.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log")).to_contain_text("The maps are on floor 3.")
    assert_accessible(page, "chatting")
    assert_accessible(dashboard, "dashboard with an open chat")

    dashboard.get_by_role("button", name="End Chat").click()
    expect(page.get_by_role("status").filter(has_text="This chat has ended")).to_be_visible()
    assert_accessible(page, "ended")
    assert_accessible(dashboard, "dashboard after End Chat")


def test_offline_widget_has_no_violations(new_page, live_desk):
    page = widget_page(new_page, live_desk, "special-collections")  # nobody online there
    expect(page.get_by_role("heading", name="Leave a question")).to_be_visible()
    assert_accessible(page, "offline")


@pytest.mark.parametrize("path", ["/accounts/login/"])
def test_public_staff_pages_have_no_violations(new_page, live_desk, path):
    page = new_page()
    page.goto(f"{live_desk.url}{path}")
    assert_accessible(page, path)


def test_patron_flow_by_keyboard_alone(new_page, live_desk, operator_page):
    dashboard = operator_page("bob")
    page = new_page()
    page.goto(f"{live_desk.url}/demo/")
    launcher = page.get_by_role("button", name="Ask a librarian")
    expect(launcher).to_be_visible()
    # Tab from the top of the page until the launcher has focus (it comes last).
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.dataset?.libdesk === 'launcher'"):
            break
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    widget = page.frame_locator('iframe[title="Chat with the library"]')
    question = widget.get_by_label("Your question")
    expect(question).to_be_focused()  # focus moves into the chat
    patron = unique("Keyboard")
    page.keyboard.type("Is the library open on Sunday?")
    page.keyboard.press("Shift+Tab")  # back to the optional email, then the name
    page.keyboard.press("Shift+Tab")
    page.keyboard.type(patron)
    for _ in range(3):  # name → email → question → Start chat
        page.keyboard.press("Tab")
    expect(widget.get_by_role("button", name="Start chat")).to_be_focused()
    page.keyboard.press("Enter")
    expect(widget.get_by_role("status").filter(has_text="Waiting for a librarian")).to_be_visible()
    expect(widget.get_by_label("Message")).to_be_focused()

    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text("You are chatting with Bob.")).to_be_visible()
    page.keyboard.type("Thanks for helping!")
    page.keyboard.press("Enter")
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text("Thanks for helping!")
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()


def test_operator_flow_by_keyboard_alone(new_page, live_desk, patron_page, operator_page):
    dashboard = operator_page("alice")
    _, widget = patron_page()
    patron = unique("KeyOp")
    widget.get_by_label("Your name").fill(patron)
    widget.get_by_label("Your question").fill("Do you lend laptops?")
    widget.get_by_role("button", name="Start chat").click()

    claim = chat_item(dashboard, patron).get_by_role("button", name="Claim Chat")
    expect(claim).to_be_visible()
    claim.focus()
    dashboard.keyboard.press("Enter")
    message = dashboard.get_by_label("Message")
    expect(message).to_be_focused()
    dashboard.keyboard.type("Yes, for 4 hours at a time.")
    dashboard.keyboard.press("Enter")
    expect(widget.get_by_role("log")).to_contain_text("Yes, for 4 hours at a time.")
    end = dashboard.get_by_role("button", name="End Chat")
    for _ in range(40):
        dashboard.keyboard.press("Shift+Tab")
        if dashboard.evaluate("document.activeElement?.id === 'end-chat'"):
            break
    expect(end).to_be_focused()
    dashboard.keyboard.press("Enter")
    # After End Chat the Reference Analytics form opens and takes the focus (it arrives
    # asynchronously); the operator skips it from the keyboard, then closes the chat.
    panel = dashboard.locator("#after-chat")
    skip = panel.get_by_role("button", name="Skip for now")
    expect(skip).to_be_visible()
    dashboard.wait_for_function(
        "document.getElementById('after-chat').contains(document.activeElement)"
    )
    skip.focus()
    dashboard.keyboard.press("Enter")
    expect(panel.get_by_role("status")).to_have_text("No statistics recorded for this chat.")
    close = dashboard.get_by_role("button", name="Close Chat")
    expect(close).to_be_visible()
    close.focus()
    dashboard.keyboard.press("Enter")
    expect(dashboard.locator("#mine-list li").filter(has_text=patron)).to_have_count(0)


def test_patron_side_states_have_no_violations(new_page, live_desk, operator_page):
    """Issue 7's states: a file in the transcript (widget and dashboard), the screenshare
    question, a refused file, and the rating form after the chat."""
    from tests.e2e.test_patron_side import PNG

    dashboard = operator_page("alice")
    page = widget_page(new_page, live_desk)
    patron = unique("AxeFiles")
    page.get_by_label("Your name").fill(patron)
    page.get_by_label("Your question").fill("Here is my screenshot")
    page.get_by_role("button", name="Start chat").click()
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(page.get_by_text("You are chatting with Alice.")).to_be_visible()

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(files=[{"name": "shot.png", "mimeType": "image/png", "buffer": PNG}])
    expect(page.get_by_role("button", name="Download shot.png")).to_be_visible()
    assert_accessible(page, "an attachment in the transcript")
    expect(dashboard.get_by_role("button", name="Open attachment")).to_be_visible()
    assert_accessible(dashboard, "dashboard with an unopened attachment")
    dashboard.get_by_role("button", name="Open attachment").click()
    expect(dashboard.get_by_role("img", name="Preview of shot.png")).to_be_visible()
    assert_accessible(dashboard, "dashboard with an opened attachment")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(
        files=[{"name": "x.svg", "mimeType": "image/svg+xml", "buffer": b"<svg></svg>"}]
    )
    expect(page.get_by_role("status").filter(has_text="can't be sent")).to_be_visible()
    assert_accessible(page, "a refused file")

    dashboard.get_by_role("button", name="Request Screenshare").click()
    expect(page.get_by_role("button", name="Share my screen")).to_be_visible()
    assert_accessible(page, "asked to share the screen")
    page.get_by_role("button", name="No, thanks").click()

    dashboard.get_by_role("button", name="End Chat").click()
    expect(page.get_by_role("button", name="Send rating")).to_be_visible()
    assert_accessible(page, "the rating form")
    page.get_by_role("button", name="Delete this conversation").click()
    expect(page.get_by_role("button", name="Yes, delete it")).to_be_visible()
    assert_accessible(page, "confirming deletion")
