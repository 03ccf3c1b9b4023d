"""The patron's side in the browser (issue 7): a file sent, seen unopened and opened on a
click; typing both ways; the place in line moving; the outbox across a dropped
connection; rating and deleting from the widget."""

import re

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)

# Lets a test drop the widget's socket and keep it down: every WebSocket is recorded, and
# while window.__blockSockets is true new ones go to a closed port.
SOCKET_HOOK = """
(() => {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.__blockSockets = false;
  window.WebSocket = function (url, protocols) {
    const ws = new Real(window.__blockSockets ? "ws://127.0.0.1:9/" : url, protocols);
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""


def claimed(operator_page, patron_page, question, name, operator="alice"):
    dashboard = operator_page(operator)
    page, widget = patron_page()
    ask(widget, question, name=name)
    chat_item(dashboard, name).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text(re.compile("You are chatting with"))).to_be_visible()
    return dashboard, page, widget


def test_patron_sends_a_file_operator_sees_it_unopened_and_opens_it(operator_page, patron_page):
    name = unique("Filer")
    dashboard, page, widget = claimed(operator_page, patron_page, "Is this the right map?", name)

    with page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(files=[{"name": "map.png", "mimeType": "image/png", "buffer": PNG}])
    expect(widget.get_by_role("status").filter(has_text="map.png was sent.")).to_be_visible()
    expect(widget.get_by_role("log")).to_contain_text("map.png")

    log = dashboard.get_by_role("log")
    expect(log).to_contain_text("map.png")
    expect(log).to_contain_text("PNG image")
    expect(log).to_contain_text("unopened")
    expect(log).to_contain_text(
        "Make sure the patron is really asking a question before opening attachments"
    )
    preview = dashboard.get_by_role("img", name="Preview of map.png")
    expect(preview).to_have_count(0)  # nothing is fetched before the click
    dashboard.get_by_role("button", name="Open attachment").click()
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.naturalWidth") == 1
    assert preview.get_attribute("src").startswith("blob:")

    # An HTML file named .png is refused with a clear message, whatever its name.
    with page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach a file").click()
    chooser.value.set_files(
        files=[
            {
                "name": "photo.png",
                "mimeType": "image/png",
                "buffer": b"<html><script>alert(1)</script></html>",
            }
        ]
    )
    expect(widget.get_by_role("status").filter(has_text="can't be sent")).to_be_visible()


def test_typing_indicators_both_ways(operator_page, patron_page):
    name = unique("Typist")
    dashboard, page, widget = claimed(operator_page, patron_page, "Typing?", name)
    widget.get_by_label("Message").press_sequentially("Hello the")
    expect(dashboard.get_by_text(f"{name} is typing…")).to_be_visible()
    dashboard.get_by_label("Message").press_sequentially("Let me ch")
    expect(widget.get_by_text("Alice is typing…")).to_be_visible()
    dashboard.get_by_role("button", name="Send").click()
    expect(widget.get_by_role("log")).to_contain_text("Let me ch")
    expect(widget.get_by_text("Alice is typing…")).to_have_count(0)


def test_place_in_line_moves_when_another_chat_is_claimed(operator_page, patron_page, new_page):
    dashboard = operator_page("bob")
    first = unique("Early")
    _, first_widget = patron_page()
    ask(first_widget, "First question", name=first)
    expect(first_widget.get_by_role("status").filter(has_text="in line")).to_be_visible()
    second = unique("Later")
    _, widget = patron_page(new_page())
    ask(widget, "Second question", name=second)
    status = widget.get_by_role("status").filter(has_text="in line")
    expect(status).to_be_visible()
    before = int(re.search(r"number (\d+) in line", status.inner_text()).group(1))
    assert before >= 2
    chat_item(dashboard, first).get_by_role("button", name="Claim Chat").click()
    expect(
        widget.get_by_role("status").filter(has_text=f"number {before - 1} in line")
    ).to_be_visible()


def test_outbox_sends_once_when_the_connection_returns(
    operator_page, patron_page, new_page, live_desk
):
    dashboard = operator_page("alice")
    page = new_page()
    page.add_init_script(SOCKET_HOOK)
    name = unique("Offline")
    page, widget = patron_page(page)
    ask(widget, "Will this arrive?", name=name)
    chat_item(dashboard, name).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()

    frame = page.frame_locator('iframe[title="Chat with the library"]')
    iframe = page.frames[-1]
    iframe.evaluate(
        "() => { window.__blockSockets = true; window.__sockets.forEach((ws) => ws.close()); }"
    )
    expect(frame.get_by_text("Reconnecting…")).to_be_visible()
    frame.get_by_label("Message").fill("typed while offline")
    frame.get_by_role("button", name="Send").click()
    expect(frame.locator(".msg-pending")).to_contain_text("typed while offline")
    iframe.evaluate("() => { window.__blockSockets = false; }")
    expect(frame.get_by_text("Back online.")).to_be_visible(timeout=20_000)
    expect(dashboard.get_by_role("log")).to_contain_text("typed while offline")
    expect(frame.locator(".msg-pending")).to_have_count(0)
    count = live_desk.shell(
        "from chat.models import Message; "
        "print(Message.objects.filter(body='typed while offline',"
        f" chat__patron_name={name!r}).count())"
    )
    assert count.strip().splitlines()[-1] == "1"


def test_rating_is_stored_and_the_patron_deletes_the_conversation(
    operator_page, patron_page, live_desk
):
    name = unique("Rater")
    dashboard, page, widget = claimed(operator_page, patron_page, "Rate me", name)
    dashboard.get_by_role("button", name="End Chat").click()
    expect(widget.get_by_role("status").filter(has_text="This chat has ended")).to_be_visible()
    widget.get_by_role("radio", name="4").check()
    widget.get_by_label("Comment").fill("Quick and kind")
    widget.get_by_role("button", name="Send rating").click()
    expect(widget.get_by_text("Thank you for your rating!")).to_be_visible()

    widget.get_by_role("button", name="Delete this conversation").click()
    widget.get_by_role("button", name="Yes, delete it").click()
    expect(widget.get_by_text("Your conversation was deleted.")).to_be_visible()
    expect(widget.get_by_role("button", name="Start chat")).to_be_visible()
    assert (
        page.frames[-1].evaluate(
            "() => Object.keys(localStorage).filter((k) => k.startsWith('libdesk:chat'))"
        )
        == []
    )
    # The score stays (statistics); the conversation, the comment and the patron's details go.
    stored = live_desk.shell(
        "from chat.models import ChatAudit, ChatRating, Message; "
        "a = ChatAudit.objects.filter(action='deleted_by_patron').latest('at'); "
        "r = ChatRating.objects.get(chat=a.chat); "
        "print(r.score, r.comment, Message.objects.filter(chat=a.chat).count(),"
        " repr(a.chat.patron_name))"
    )
    assert stored.strip().splitlines()[-1] == "4  0 ''"  # the comment went with the chat
