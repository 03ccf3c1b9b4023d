import itertools
import os

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test (or earlier run against the same server) has used."""
    return f"{prefix} {os.getpid() % 1000}-{next(_counter)}"


def chat_item(dashboard, patron_name):
    """The Patron Chats list item of one patron's chat."""
    return dashboard.locator("#waiting-list li").filter(has_text=patron_name)


def ask(widget, question, name="", email=""):
    """Fill the widget's pre-chat form and start the chat."""
    if name:
        widget.get_by_label("Your name").fill(name)
    if email:
        widget.get_by_label("Email").fill(email)
    widget.get_by_label("Your question").fill(question)
    widget.get_by_role("button", name="Start chat").click()


def ask_and_claim(dashboard, widget, question, name):
    """A patron asks ``question`` as ``name``; the dashboard's librarian claims it."""
    ask(widget, question, name=name)
    chat_item(dashboard, name).get_by_role("button", name="Claim Chat").click()


def send(page_or_frame, text):
    """Type a message into the widget's or the dashboard's composer and Send it."""
    page_or_frame.get_by_label("Message").fill(text)
    page_or_frame.get_by_role("button", name="Send").click()
