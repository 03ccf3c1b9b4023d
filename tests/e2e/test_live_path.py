"""The live path as a librarian and a patron see it (issue 15): whose name stands above
a message that arrived live (and after a reload), which actions sound the alert, and a
presence chosen before the dashboard's socket is connected."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORDS
from tests.e2e.helpers import ask, ask_and_claim, chat_item, unique


def send(page_or_frame, text):
    page_or_frame.get_by_label("Message", exact=True).fill(text)
    page_or_frame.get_by_role("button", name="Send", exact=True).click()


def author_of(log, text):
    """The name shown above the message whose text is ``text`` in a message log."""
    item = log.locator("li").filter(has_text=text)
    expect(item).to_have_count(1)
    return item.locator(".msg-author")


def test_names_above_live_messages_before_and_after_reload(operator_page, patron_page):
    dashboard = operator_page("alice")
    page, widget = patron_page()
    patron = unique("Zoë Ng")
    ask_and_claim(dashboard, widget, "Is the map room open on Sundays?", patron)
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()

    transcript = dashboard.get_by_role("log", name="Conversation", exact=True)
    send(widget, "It is for a school project.")  # live, while both pages are open
    expect(author_of(transcript, "It is for a school project.")).to_have_text(patron)
    send(dashboard, "Yes, from noon to five.")
    expect(author_of(widget.get_by_role("log"), "Yes, from noon to five.")).to_have_text("Alice")
    expect(author_of(widget.get_by_role("log"), "It is for a school project.")).to_have_text(patron)

    dashboard.reload()
    chat = dashboard.locator("#mine-list li").filter(has_text=patron)
    chat.get_by_role("button").first.click()
    transcript = dashboard.get_by_role("log", name="Conversation", exact=True)
    expect(author_of(transcript, "It is for a school project.")).to_have_text(patron)
    expect(author_of(transcript, "Yes, from noon to five.")).to_have_text("Alice")
    page, widget = patron_page(page.reload() and page)
    expect(author_of(widget.get_by_role("log"), "Yes, from noon to five.")).to_have_text("Alice")
    expect(author_of(widget.get_by_role("log"), "It is for a school project.")).to_have_text(patron)


COUNT_ALERTS = """() => {
  window.alertPlays = 0;
  const sound = document.getElementById("alert-sound");
  sound.addEventListener("play", () => { window.alertPlays += 1; });
}"""


def alert_plays(page):
    return page.evaluate("window.alertPlays")


def listen_for_alerts(page):
    page.get_by_role("button", name="Turn on sound and notifications").click()
    expect(page.get_by_role("button", name="Sound and notifications on")).to_be_visible()
    page.evaluate(COUNT_ALERTS)  # counted from here: the button's own silent play is not


def test_claiming_plays_no_alert_while_a_new_chat_and_an_offer_do(operator_page, patron_page):
    alice = operator_page("alice")
    carmen = operator_page("carmen")
    for dashboard in (alice, carmen):
        listen_for_alerts(dashboard)
    page, widget = patron_page()
    patron = unique("Alert")
    notice = alice.locator("#desk-notice")

    ask(widget, "Do you have the 1902 atlas?", name=patron)
    expect(notice).to_have_text(re.compile(f"New chat from {patron}"))
    _wait_for(lambda: alert_plays(alice) == 1)

    chat_item(alice, patron).get_by_role("button", name="Claim Chat").click()
    transcript = alice.get_by_role("log", name="Conversation", exact=True)
    expect(transcript).to_contain_text("Do you have the 1902 atlas?")
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()
    alice.wait_for_timeout(1000)  # what the claim's frames would set off, if anything
    assert alert_plays(alice) == 1, "Claim Chat played the alert"
    expect(notice).not_to_have_text(re.compile("New message from"))

    # A transfer offer sounds for its receiver; accepting it (Claim Chat) does not.
    alice.get_by_role("button", name="Transfer", exact=True).click()
    alice.get_by_label("Transfer to").select_option(label="Special Collections")
    alice.get_by_role("button", name="Transfer chat").click()
    offer = carmen.locator("#transfer-list li").filter(has_text=patron)
    expect(offer).to_be_visible()
    _wait_for(lambda: alert_plays(carmen) == 1)
    before = alert_plays(carmen)
    offer.get_by_role("button", name="Claim Chat").click()
    expect(carmen.get_by_role("log", name="Conversation", exact=True)).to_contain_text(
        "Do you have the 1902 atlas?"
    )
    expect(widget.get_by_text("You are chatting with Carmen.")).to_be_visible()
    carmen.wait_for_timeout(1000)
    assert alert_plays(carmen) == before, "accepting a transfer played the alert"
    expect(carmen.locator("#desk-notice")).not_to_have_text(re.compile("New message from"))


def _wait_for(condition, seconds=15.0):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# The page's websockets connect 1.5 s late (what a slow network or a busy desk does):
# the toolbar says "Connecting…" meanwhile. The server is the real one.
DELAY_SOCKETS = """(() => {
  const Real = window.WebSocket;
  class LateSocket extends EventTarget {
    constructor(url, protocols) {
      super();
      this.readyState = Real.CONNECTING;
      this.closedEarly = null;
      setTimeout(() => {
        if (this.closedEarly) return;
        const ws = (this.real = new Real(url, protocols));
        const copy = (event) => {
          this.readyState = ws.readyState;
          if (event.type === "message") return new MessageEvent("message", { data: event.data });
          if (event.type === "close") {
            return new CloseEvent("close", { code: event.code, reason: event.reason });
          }
          return new Event(event.type);
        };
        for (const kind of ["open", "message", "close", "error"]) {
          ws.addEventListener(kind, (event) => this.dispatchEvent(copy(event)));
        }
      }, 1500);
    }
    send(data) {
      if (!this.real || this.real.readyState !== Real.OPEN) {
        throw new DOMException("not open", "InvalidStateError");
      }
      this.real.send(data);
    }
    close(code, reason) {
      if (this.real) this.real.close(code, reason);
      else this.closedEarly = true;
    }
  }
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) LateSocket[name] = Real[name];
  window.WebSocket = LateSocket;
})();"""


def stored_status(live_desk, username):
    return live_desk.shell(
        "from chat.models import Operator;"
        f"print(Operator.objects.get(user__username={username!r}).status)"
    ).split()[-1]  # after what `shell` says it imported


def test_online_chosen_while_connecting_takes_effect_once_connected(new_page, live_desk):
    live_desk.shell(  # bob starts Offline, whatever an earlier test left
        "from chat import services; from chat.models import Operator;"
        "services.presence_set(operator=Operator.objects.get(user__username='bob'),"
        " status='offline')"
    )
    page = new_page()
    page.add_init_script(DELAY_SOCKETS)
    page.goto(f"{live_desk.url}/dashboard/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(DEMO_PASSWORDS["bob"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Patron Chats")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Connecting…")
    page.get_by_role("radio", name="Online").check()
    expect(page.locator("#desk-notice")).to_have_text(
        "You will be Online as soon as the desk is connected."
    )

    expect(page.locator("#connection")).to_have_text("Connected")
    expect(page.get_by_role("radio", name="Online")).to_be_checked()
    reference = page.locator("#department-list li").filter(has_text="Reference")
    expect(reference).to_contain_text("Bob")  # the desk has bob Online: he is listed there
    page.wait_for_timeout(500)
    expect(page.get_by_role("radio", name="Online")).to_be_checked()
    assert stored_status(live_desk, "bob") == "online"

    page.reload()  # the choice was stored, not only drawn
    expect(page.locator("#connection")).to_have_text("Connected")
    expect(page.get_by_role("radio", name="Online")).to_be_checked()
    page.get_by_role("radio", name="Offline").check()
    expect(reference).not_to_contain_text("Bob")
