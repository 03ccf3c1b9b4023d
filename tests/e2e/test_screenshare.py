"""Built-in screenshare in the browser: Request Screenshare on the dashboard, the patron
shares (Chromium's fake capture), the operator sees a live video; either side stops."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORDS
from tests.e2e.helpers import ask, chat_item, unique

FAKE_MEDIA_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
    "--auto-accept-this-tab-capture",
    "--auto-select-tab-capture-source-by-title=Library",
    "--enable-usermedia-screen-capturing",
]


@pytest.fixture
def media_browser(browser):
    """A second Chromium like the session's (same executable and arguments) with fake
    capture devices and an auto-accepted screen picker."""
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MEDIA_ARGS, headless=True
    )
    yield launched
    launched.close()


def test_patron_shares_screen_and_operator_sees_live_video(media_browser, live_desk):
    staff = media_browser.new_context()
    dashboard = staff.new_page()
    dashboard.goto(f"{live_desk.url}/dashboard/")
    dashboard.get_by_label("Username").fill("alice")
    dashboard.get_by_label("Password").fill(DEMO_PASSWORDS["alice"])
    dashboard.get_by_role("button", name="Log in").click()
    expect(dashboard.locator("#connection")).to_have_text("Connected")
    expect(dashboard.locator("#department-list li").first).to_be_visible()
    dashboard.get_by_role("radio", name="Online").check()
    expect(dashboard.locator("#department-list")).to_contain_text("online")

    page = media_browser.new_context().new_page()
    page.goto(f"{live_desk.url}/demo/")
    page.get_by_role("button", name="Ask a librarian").click()
    widget = page.frame_locator('iframe[title="Chat with the library"]')
    name = unique("Sharer")
    ask(widget, "Can you see what I see?", name=name)
    chat_item(dashboard, name).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()

    # Declined first: both sides hear it, and it is in the transcript.
    dashboard.get_by_role("button", name="Request Screenshare").click()
    widget.get_by_role("button", name="No, thanks").click()
    expect(dashboard.get_by_role("log")).to_contain_text("The patron declined screen sharing.")

    dashboard.get_by_role("button", name="Request Screenshare").click()
    expect(widget.get_by_text("The librarian asks to see your screen.")).to_be_visible()
    widget.get_by_role("button", name="Share my screen").click()
    expect(widget.get_by_text("You are sharing your screen with the librarian.")).to_be_visible()
    expect(dashboard.get_by_text("You are seeing the patron's screen.")).to_be_visible()
    video = dashboard.get_by_label("The patron's screen")
    expect(video).to_be_visible()
    dashboard.wait_for_function(
        "() => { const v = document.querySelector('.screenshare-video');"
        " return v && v.videoWidth > 0; }",
        timeout=15_000,
    )
    start = video.evaluate("v => v.currentTime")
    dashboard.wait_for_timeout(700)
    assert video.evaluate("v => v.currentTime") > start  # live, not a still

    widget.get_by_role("button", name="Stop sharing").click()
    expect(dashboard.get_by_role("log")).to_contain_text("The patron stopped screen sharing.")
    expect(video).to_be_hidden()
    expect(widget.get_by_text("You are sharing your screen")).to_have_count(0)
    staff.close()
