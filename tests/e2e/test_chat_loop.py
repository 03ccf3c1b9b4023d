"""The core loop, as a patron and a librarian do it, in two browser contexts."""

import re

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique


def send(page_or_frame, text):
    page_or_frame.get_by_label("Message").fill(text)
    page_or_frame.get_by_role("button", name="Send").click()


def test_question_claim_messages_end_and_close(operator_page, patron_page):
    dashboard = operator_page("alice")
    page, widget = patron_page()
    patron = unique("Pat")

    ask(widget, "Do you have 19th-century atlases?", name=patron)
    expect(widget.get_by_role("status").filter(has_text="Waiting for a librarian")).to_be_visible()
    expect(widget.get_by_role("log")).to_contain_text("Do you have 19th-century atlases?")

    item = chat_item(dashboard, patron)
    expect(item).to_contain_text("Do you have 19th-century atlases?")
    expect(dashboard).to_have_title(re.compile(r"^\(\d+\) Chat Dashboard"))
    item.get_by_role("button", name="Claim Chat").click()

    transcript = dashboard.get_by_role("log", name="Conversation")
    expect(transcript).to_contain_text("Do you have 19th-century atlases?")
    expect(chat_item(dashboard, patron)).to_have_count(0)
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()

    send(dashboard, "Yes! They are on floor 2.")
    expect(widget.get_by_role("log")).to_contain_text("Yes! They are on floor 2.")
    send(widget, "Thank you, <b>great</b>")
    expect(transcript).to_contain_text("Thank you, <b>great</b>")  # text, not markup

    dashboard.get_by_role("button", name="End Chat").click()
    expect(widget.get_by_text("This chat has ended. Thank you for asking!")).to_be_visible()
    expect(dashboard.get_by_role("button", name="Close Chat")).to_be_visible()
    dashboard.get_by_role("button", name="Close Chat").click()
    expect(dashboard.locator("#mine-list li").filter(has_text=patron)).to_have_count(0)
    expect(dashboard.get_by_text("Choose a chat, or claim one from Patron Chats.")).to_be_visible()


def test_reloading_the_patron_page_mid_chat_loses_nothing(operator_page, patron_page):
    dashboard = operator_page("bob")
    page, widget = patron_page()
    patron = unique("Reload")
    ask(widget, "Where can I print?", name=patron)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    send(dashboard, "Printers are by the entrance.")
    expect(widget.get_by_role("log")).to_contain_text("Printers are by the entrance.")
    send(widget, "Is colour printing available?")
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text(
        "Is colour printing available?"
    )

    page.reload()
    send(dashboard, "Yes, at the service desk.")  # said while the patron's page is away
    page, widget = patron_page(page)
    log = widget.get_by_role("log")
    for text in (
        "Where can I print?",
        "Printers are by the entrance.",
        "Is colour printing available?",
        "Yes, at the service desk.",
    ):
        expect(log).to_contain_text(text)
    expect(log.locator("li").filter(has_text="Is colour printing available?")).to_have_count(1)

    send(widget, "Thanks, bye!")
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text("Thanks, bye!")
    widget.get_by_role("button", name="End Chat").click()
    expect(dashboard.get_by_role("status").filter(has_text="This chat has ended")).to_be_visible()
    expect(widget.get_by_text("This chat has ended. Thank you for asking!")).to_be_visible()


def test_the_widget_shows_its_offline_state_when_nobody_is_online(patron_page, live_desk):
    # Special Collections: only Carmen works there, and she has not opened a dashboard.
    # Offline, the widget offers the ticket form instead of a chat (tests/e2e/test_tickets.py).
    page, _ = patron_page()
    page.goto(f"{live_desk.url}/widget/special-collections/")
    expect(page.get_by_role("heading", name="Leave a question")).to_be_visible()
    expect(page.get_by_role("button", name="Start chat")).to_be_hidden()
    expect(page.get_by_role("button", name="Send question")).to_be_visible()
