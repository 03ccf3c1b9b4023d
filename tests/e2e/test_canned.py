"""Canned Messages on the dashboard, by keyboard, as the desk procedure's step 5 asks:
"Start each chat by sending the canned message OUX welcome"."""

import itertools

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique

_serial = itertools.count(1)


def test_the_oux_welcome_is_sent_first_using_only_the_keyboard(operator_page, patron_page):
    dashboard = operator_page("alice")
    page, widget = patron_page()
    patron = unique("Kim")
    ask(widget, "Can I renew a book online?", name=patron)

    claim = chat_item(dashboard, patron).get_by_role("button", name="Claim Chat")
    claim.focus()
    dashboard.keyboard.press("Enter")
    message_box = dashboard.get_by_role("textbox", name="Message", exact=True)
    expect(message_box).to_be_focused()
    expect(dashboard.get_by_role("button", name="Canned Messages")).to_be_visible()

    # Alt+C opens the list too; Escape closes it and gives the focus back, losing nothing.
    dashboard.keyboard.type("Let me")
    dashboard.keyboard.press("Alt+C")
    expect(dashboard.get_by_role("combobox", name="Search canned messages")).to_be_focused()
    dashboard.keyboard.press("Escape")
    expect(dashboard.get_by_role("listbox")).to_have_count(0)
    expect(message_box).to_be_focused()
    expect(message_box).to_have_value("Let me")

    dashboard.keyboard.press("Control+/")
    search = dashboard.get_by_role("combobox", name="Search canned messages")
    expect(search).to_be_focused()
    listbox = dashboard.get_by_role("listbox", name="Canned Messages")
    dashboard.keyboard.type("welcome")
    # Filtered as you type: the OUX welcome in English and in Spanish (issue 19), the
    # chat's own language (English) first.
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    welcome = listbox.get_by_role("option", name="OUX welcome /welcome")
    expect(welcome).to_be_visible()
    expect(options.first).to_contain_text("/welcome (en)")
    expect(options.nth(1)).to_contain_text("/bienvenida (es)")
    dashboard.keyboard.press("ArrowDown")
    expect(welcome).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-activedescendant", welcome.get_attribute("id"))
    dashboard.keyboard.press("Enter")

    text = f"Hi {patron}, thanks for your question — I'm reading it over now."
    expect(listbox).to_have_count(0)
    expect(message_box).to_be_focused()
    expect(message_box).to_have_value(text)
    dashboard.keyboard.press("Enter")

    log = widget.get_by_role("log")
    expect(log).to_contain_text(text)
    # The first thing the librarian said (after the desk's "Alice has joined" line).
    expect(log.locator("li.msg-operator").first).to_contain_text(text)
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text(text)
    expect(message_box).to_have_value("")


def test_a_personal_shortcut_with_html_reaches_the_patron_as_text(operator_page, patron_page):
    dashboard = operator_page("bob")
    shortcut = f"/risky{next(_serial)}"
    body = "<b>Bold?</b> <img src=x onerror=\"document.title='pwned'\"> Bye {patron_name}!"

    manage = dashboard.context.new_page()
    manage.goto(dashboard.url.replace("/dashboard/", "/dashboard/canned/manage/"))
    expect(manage.get_by_role("heading", name="My canned messages")).to_be_visible()
    manage.get_by_label("Title").fill("Risky")
    manage.get_by_label("Shortcut").fill(shortcut)
    manage.get_by_label("Body").fill(body)
    manage.get_by_role("button", name="Save canned message").click()
    expect(manage.get_by_role("status")).to_contain_text("Saved “Risky”.")
    expect(manage.get_by_role("heading", name=f"Risky {shortcut}")).to_be_visible()
    manage.close()

    page, widget = patron_page()
    patron = unique("Lee")
    ask(widget, "Can you format text?", name=patron)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    message_box = dashboard.get_by_role("textbox", name="Message", exact=True)
    expect(message_box).to_be_focused()
    dashboard.keyboard.type(shortcut)
    offered = dashboard.get_by_role("listbox", name="Canned Messages").get_by_role(
        "option", name="Risky"
    )
    expect(offered).to_have_attribute("aria-selected", "true")
    dashboard.keyboard.press("Enter")  # picks the offered one instead of sending "/risky"
    sent = f"<b>Bold?</b> <img src=x onerror=\"document.title='pwned'\"> Bye {patron}!"
    expect(message_box).to_have_value(sent)
    dashboard.keyboard.press("Enter")

    log = widget.get_by_role("log")
    expect(log).to_contain_text(sent)
    expect(log.locator("b, img")).to_have_count(0)
