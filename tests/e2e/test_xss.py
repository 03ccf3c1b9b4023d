"""Script and markup payloads typed by a patron and by librarians, in a real browser:
no script runs (no dialog opens), no element is made from a payload, and the payload
is shown as literal text — in the widget, on the dashboard (chat list, conversation,
Canned Messages, Create Ticket, internal chat, the Reference Analytics form) and on the
ticket desk. (The server side is tests/security/test_xss.py.)"""

import re

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique

# Every payload of the server-side battery in one text.
PAYLOAD = (
    '<script>alert(1)</script> <img src=x onerror=alert(1)> "><svg onload=alert(1)> '
    "javascript:alert(1) {{7*7}} </textarea><b>x</b>"
)
SHORT = "<img src=x onerror=alert(2)>"  # fits in a name field


def watch_dialogs(page, opened):
    """Every dialog (alert, confirm, prompt) any frame of ``page`` opens is recorded."""
    page.on("dialog", lambda dialog: (opened.append(dialog.message), dialog.dismiss()))


def assert_no_element_from_payload(page_or_frame, where):
    for selector in (
        "img[src='x']",
        "svg[onload]",
        "[onerror]",
        "[onload]",
        "a[href^='javascript']",
    ):
        assert page_or_frame.locator(selector).count() == 0, f"{where}: {selector}"
    assert page_or_frame.locator("b", has_text=re.compile(r"^x$")).count() == 0, where
    scripts = page_or_frame.locator("script:not([src])")
    assert scripts.count() == 0 or "alert" not in " ".join(scripts.all_text_contents()), where


def send(page_or_frame, text):
    page_or_frame.get_by_label("Message", exact=True).fill(text)
    page_or_frame.get_by_role("button", name="Send", exact=True).click()


def test_payloads_in_a_whole_chat_stay_text(operator_page, patron_page, new_page, live_desk):
    opened = []
    alice = operator_page("alice")
    carmen = operator_page("carmen")
    watch_dialogs(alice, opened)
    watch_dialogs(carmen, opened)

    # Alice's own canned message, with the payload as title and body.
    manage = alice.context.new_page()
    watch_dialogs(manage, opened)
    manage.goto(f"{live_desk.url}/dashboard/canned/manage/")
    title = unique("XSS canned")
    manage.get_by_label("Title").fill(f"{title} {SHORT}")
    manage.get_by_label("Body").fill(PAYLOAD)
    manage.get_by_role("button", name="Save canned message").click()
    expect(manage.get_by_role("heading", name=f"{title} {SHORT}")).to_be_visible()
    assert_no_element_from_payload(manage, "canned manage page")

    page, widget = patron_page()
    watch_dialogs(page, opened)
    patron = f"{unique('Xss')} {SHORT}"
    ask(widget, PAYLOAD, name=patron, email="xss-chat@example.org")
    log = widget.get_by_role("log")
    expect(log).to_contain_text(PAYLOAD)

    item = chat_item(alice, patron)
    expect(item).to_contain_text(patron)  # the name and preview, as text
    item.get_by_role("button", name="Claim Chat").click()
    conversation = alice.get_by_role("log", name="Conversation", exact=True)
    expect(conversation).to_contain_text(PAYLOAD)

    send(alice, f"Librarian: {PAYLOAD}")
    expect(log).to_contain_text(f"Librarian: {PAYLOAD}")
    send(widget, f"Patron: {PAYLOAD}")
    expect(conversation).to_contain_text(f"Patron: {PAYLOAD}")

    # Canned Messages: the list shows the title as text; the body goes in as text.
    alice.get_by_role("button", name="Canned Messages").click()
    alice.get_by_role("combobox", name="Search canned messages").fill(title)
    option = alice.get_by_role("listbox", name="Canned Messages").get_by_role("option").first
    expect(option).to_contain_text(f"{title} {SHORT}")
    assert_no_element_from_payload(alice, "the Canned Messages list")
    alice.keyboard.press("ArrowDown")
    alice.keyboard.press("Enter")
    canned_text = PAYLOAD.replace("{{", "{").replace("}}", "}")  # {{ }}: literal braces
    message_box = alice.get_by_label("Message", exact=True)
    expect(message_box).to_have_value(re.compile(re.escape(canned_text)))
    alice.get_by_role("button", name="Send", exact=True).click()
    expect(log.locator("li").filter(has_text=canned_text)).to_have_count(1)

    # Internal chat to Special Collections with the payload; Carmen reads it as text.
    special = alice.locator("#department-list li").filter(has_text="Special Collections")
    expect(special).to_contain_text("online")
    special.get_by_role("button", name="Special Collections").click()
    alice.get_by_label("Write to colleague").fill(f"Internal: {PAYLOAD}")
    alice.get_by_role("button", name="Send to colleague").click()
    # Earlier tests may have left internal chats from Alice: this one is about this chat.
    internal = (
        carmen.locator("#internal-list li")
        .filter(has_text="From Alice")
        .filter(has_text=f"About {patron}'s chat")
    )
    expect(internal).to_be_visible()
    internal.get_by_role("button", name="Open").click()
    expect(carmen.get_by_role("log", name="Internal conversation")).to_contain_text(
        f"Internal: {PAYLOAD}"
    )
    carmen.get_by_role("button", name="Read the patron chat").click()
    expect(carmen.get_by_role("log", name=re.compile("^Patron chat with"))).to_contain_text(PAYLOAD)
    assert_no_element_from_payload(carmen, "Carmen's dashboard (internal chat)")

    # Create a ticket with the payload as notes.
    alice.get_by_role("button", name="Create a ticket").click()
    dialog = alice.get_by_role("dialog", name="Create a ticket")
    dialog.get_by_label("Queue").select_option(label="Reference Desk")
    dialog.get_by_label("Notes").fill(f"Notes: {PAYLOAD}")
    dialog.get_by_role("button", name="Create Ticket").click()
    notice = alice.get_by_role("status").filter(has_text="created for Reference Desk")
    expect(notice).to_be_visible()
    reference = re.search(r"LD-\d+", notice.inner_text()).group(0)

    # End Chat: the Reference Analytics form has the question, as text, in its textarea.
    alice.get_by_role("button", name="End Chat").click()
    panel = alice.locator("#after-chat")
    expect(panel.get_by_role("textbox", name="Question", exact=True)).to_have_value(PAYLOAD)
    assert_no_element_from_payload(alice, "the dashboard after End Chat")
    assert_no_element_from_payload(widget, "the widget")

    # The ticket page: question, patron name, notes, and a staff reply and note.
    desk = alice.context.new_page()
    watch_dialogs(desk, opened)
    desk.goto(f"{live_desk.url}/tickets/{reference}/")
    expect(desk.get_by_text(f"Notes: {PAYLOAD}")).to_be_visible()
    desk.get_by_label("Reply to the patron (emailed)").fill(f"Reply: {PAYLOAD}")
    desk.get_by_role("button", name="Send reply").click()
    expect(desk.get_by_text(f"Reply: {PAYLOAD}")).to_be_visible()
    expect(desk.locator("body")).to_contain_text(patron)
    assert_no_element_from_payload(desk, "the ticket page")
    desk.goto(f"{live_desk.url}/tickets/")
    assert_no_element_from_payload(desk, "the ticket list")

    assert opened == [], f"a payload opened dialogs: {opened}"


def test_payloads_in_the_offline_form_stay_text(new_page, live_desk):
    opened = []
    patron = new_page()
    watch_dialogs(patron, opened)
    patron.goto(f"{live_desk.url}/widget/special-collections/")
    question = f"{unique('Offline')} {PAYLOAD}"
    patron.get_by_role("textbox", name="Name (optional)", exact=True).fill(SHORT)
    patron.get_by_role("textbox", name="Email address").fill("xss-pat@example.org")
    patron.get_by_role("textbox", name="Question", exact=True).fill(question)
    patron.get_by_role("button", name="Send question").click()
    sent = patron.get_by_role("status").filter(has_text="Your question was sent")
    expect(sent).to_be_visible()
    reference = re.search(r"LD-\d+", sent.inner_text()).group(0)
    assert_no_element_from_payload(patron, "the offline form")

    from tests.e2e.test_tickets import staff_page

    carmen = staff_page(new_page, live_desk, "carmen")
    watch_dialogs(carmen, opened)
    row = carmen.get_by_role("row").filter(has_text=reference)
    expect(row).to_be_visible()
    assert_no_element_from_payload(carmen, "the ticket list")
    carmen.get_by_role("link", name=reference).click()
    expect(carmen.locator("body")).to_contain_text(question)
    expect(carmen.locator("body")).to_contain_text(SHORT)
    assert_no_element_from_payload(carmen, "the ticket page")
    assert opened == [], f"a payload opened dialogs: {opened}"
