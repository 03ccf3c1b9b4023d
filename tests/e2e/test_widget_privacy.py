"""The loader on a library's own site (another origin): no cookie, no storage, no
request to anyone but the desk — and the chat works in the cross-site iframe."""

import http.server
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique

LIBRARY_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Elsewhere Public Library</title></head><body><main><h1>Elsewhere Public Library</h1>
<p>Opening hours and news.</p></main>
<script src="{desk}/static/widget/loader.js" data-department="reference" async></script>
</body></html>"""


@pytest.fixture
def library_site(live_desk):
    """A library website on another site (localhost vs the desk's 127.0.0.1)."""
    page = LIBRARY_PAGE.format(desk=live_desk.url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_loader_sets_nothing_and_asks_no_one_until_opened(
    new_page, library_site, live_desk, operator_page
):
    dashboard = operator_page("bob")
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(library_site)
    launcher = page.get_by_role("button", name="Ask a librarian")
    expect(launcher).to_be_visible()
    page.wait_for_load_state("networkidle")

    desk_origin = live_desk.url
    assert requests == [library_site, f"{desk_origin}/static/widget/loader.js"]
    assert page.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.locator("iframe").count() == 0

    launcher.click()
    widget = page.frame_locator('iframe[title="Chat with the library"]')
    patron = unique("Cross-site")
    ask(widget, "Can I renew a loan?", name=patron)
    expect(widget.get_by_role("status").filter(has_text="Waiting for a librarian")).to_be_visible()
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text("You are chatting with Bob.")).to_be_visible()

    hosts = {urlsplit(url).netloc for url in requests}
    assert hosts == {urlsplit(library_site).netloc, urlsplit(desk_origin).netloc}
    # The host page still has no cookie and no localStorage; the patron's token lives in
    # the iframe's own (partitioned) storage, never in a cookie. This tab's sessionStorage
    # holds the launcher's one entry ("Chat in progress" after a reload): no token.
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length") == 0
    stored = page.evaluate(
        "Object.fromEntries(Object.keys(sessionStorage).map(k => [k, sessionStorage[k]]))"
    )
    assert stored == {f"libdesk:{desk_origin}:reference": '{"in_progress":true}'}, stored
    assert page.context.cookies() == []
    # The iframe's URL carries the host page's address without its query string, and
    # the page's language (<html lang="en">).
    frame_url = page.locator("iframe").get_attribute("src")
    assert "page=http%3A%2F%2Flocalhost" in frame_url and "%3F" not in frame_url
    assert frame_url.split("#")[0].endswith("/widget/reference/?lang=en")


def test_escape_closes_the_widget_and_returns_focus_to_the_launcher(new_page, library_site):
    page = new_page()
    page.goto(library_site)
    launcher = page.get_by_role("button", name="Ask a librarian")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    widget = page.frame_locator('iframe[title="Chat with the library"]')
    expect(widget.get_by_role("heading", level=1)).to_be_visible()
    widget.locator("body").press("Escape")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(launcher).to_be_focused()
    expect(page.locator("iframe")).to_be_hidden()
