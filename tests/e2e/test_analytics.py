"""Steps 7–11 of the desk procedure in a real browser: Email transcript, End Chat, the
Reference Analytics form (refused without Location, then saved), Close Chat; the entry
in /analytics/ and its CSV; the skip path; the patron's "Email me this transcript"."""

import re
import time

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique


def send(page_or_frame, text):
    page_or_frame.get_by_label("Message").fill(text)
    page_or_frame.get_by_role("button", name="Send").click()


def wait_for_mail(live_desk, before, to, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in live_desk.mails()[before:]:
            if to in message["To"]:
                return message
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} within {timeout}s")


def parts(message):
    text = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode()
    return text, html


def test_transcript_end_chat_record_statistics_and_close(
    operator_page, patron_page, live_desk, mail_dir_snapshot
):
    dashboard = operator_page("alice")
    _, widget = patron_page()
    patron = unique("Stats")
    address = f"{patron.replace(' ', '-').lower()}@example.org"
    question = f"Where are the maps of 1850? ({patron})"

    ask(widget, question, name=patron, email=address)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    send(dashboard, "Try https://library.example.edu/maps please.")
    expect(widget.get_by_role("log")).to_contain_text("library.example.edu/maps")
    send(widget, "Thanks, found them!")
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text("found them")

    # Step 7: Email transcript.
    dashboard.get_by_role("button", name="Email transcript").click()
    expect(dashboard.locator("#desk-notice")).to_contain_text(f"on its way to {address}")

    # Step 8: End Chat; step 9: the Reference Analytics form opens for this chat.
    dashboard.get_by_role("button", name="End Chat").click()
    panel = dashboard.locator("#after-chat")
    expect(panel.get_by_role("heading", name="Reference Analytics")).to_be_visible()
    expect(panel.get_by_label("Mode")).to_have_value(re.compile(r"\d+"))
    expect(panel.get_by_label("Mode").locator("option:checked")).to_have_text("Chat")
    expect(panel.get_by_label("Duration (minutes)")).to_have_value(re.compile(r"^[1-9]\d*$"))
    expect(panel.get_by_role("textbox", name="Question", exact=True)).to_have_value(question)

    # Location starts at Virtual for a chat (issue 20); the referring fields show only
    # for the kind of referral chosen; Save stays in view at the bottom of the screen.
    location = panel.get_by_label("Location")
    expect(location.locator("option:checked")).to_have_text("Virtual (online)")
    expect(panel.get_by_label("Referring operator")).to_be_hidden()
    panel.get_by_role("radio", name="An operator").check()
    expect(panel.get_by_label("Referring operator")).to_be_visible()
    expect(panel.get_by_label("Referring department")).to_be_hidden()
    panel.get_by_role("radio", name="Nobody").check()
    expect(panel.get_by_label("Referring operator")).to_be_hidden()
    save_box = panel.get_by_role("button", name="Save", exact=True).bounding_box()
    assert save_box["y"] + save_box["height"] <= dashboard.viewport_size["height"], save_box

    # Save without Location: refused, with the error tied to the field.
    location.select_option(label="Choose…")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(location).to_have_attribute("aria-invalid", "true")
    expect(location).to_have_attribute("aria-describedby", "id_location_error")
    expect(panel.locator("#id_location_error")).to_have_text("This field is required.")
    expect(location).to_be_focused()

    # Fill it, Save (step 10), Close Chat (step 11).
    location.select_option(label="Reference Desk")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_role("status")).to_contain_text("Statistics saved.")
    dashboard.get_by_role("button", name="Close Chat").click()
    expect(dashboard.locator("#mine-list li").filter(has_text=patron)).to_have_count(0)

    # The entry is in the reports and in the CSV.
    dashboard.goto(f"{live_desk.url}/analytics/")
    expect(dashboard.get_by_role("heading", name="Reference Analytics", level=1)).to_be_visible()
    expect(dashboard.locator("#table-mode")).to_contain_text("Chat")
    expect(dashboard.locator("#stat-total")).not_to_have_text("0")
    csv_response = dashboard.request.get(f"{live_desk.url}/analytics/export.csv")
    assert csv_response.ok
    body = csv_response.text()
    assert body.lstrip("\ufeff").startswith(
        "id,occurred_at,recorded_at,staff,department,location,mode"
    )
    row = next(line for line in body.splitlines() if patron in line)
    assert ",alice,Reference Desk,Reference Desk,Chat," in row

    # The transcript email arrived with the whole conversation.
    mail = wait_for_mail(live_desk, mail_dir_snapshot, address)
    text, html = parts(mail)
    for line in (question, "Try https://library.example.edu/maps please.", "Thanks, found them!"):
        assert line in text
    assert '<a href="https://library.example.edu/maps"' in html


def test_skip_the_form_and_the_patron_emails_themselves_the_transcript(
    operator_page, patron_page, live_desk, mail_dir_snapshot
):
    dashboard = operator_page("bob")
    _, widget = patron_page()
    patron = unique("Skip")
    address = f"{patron.replace(' ', '-').lower()}@example.org"
    ask(widget, "Can I renew online?", name=patron)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    send(dashboard, "Yes: https://library.example.edu/account")
    expect(widget.get_by_role("log")).to_contain_text("library.example.edu/account")

    widget.get_by_role("button", name="End Chat").click()
    panel = dashboard.locator("#after-chat")
    expect(panel.get_by_role("heading", name="Reference Analytics")).to_be_visible()
    panel.get_by_role("button", name="Skip for now").click()
    expect(panel.get_by_role("status")).to_have_text("No statistics recorded for this chat.")
    pending = dashboard.locator("#lists-extra")
    expect(pending.get_by_role("heading", name="Ended chats without statistics")).to_be_visible()
    expect(pending.get_by_role("link", name=f"Record statistics for {patron}")).to_be_visible()

    # The patron asks for a copy from the widget's ended state.
    widget.get_by_role("button", name="Email me this transcript").click()
    expect(widget.locator("#transcript-result")).to_have_text("Please type your email address.")
    widget.get_by_label("Send a copy of this chat to").fill(address)
    widget.get_by_role("button", name="Email me this transcript").click()
    expect(widget.locator("#transcript-result")).to_contain_text(f"on its way to {address}")
    text, _ = parts(wait_for_mail(live_desk, mail_dir_snapshot, address))
    assert "Can I renew online?" in text and "https://library.example.edu/account" in text

    # Filled later from the list.
    dashboard.get_by_role("button", name="Close Chat").click()
    pending.get_by_role("link", name=f"Record statistics for {patron}").click()
    dashboard.get_by_label("Location").select_option(label="Virtual (online)")
    dashboard.get_by_role("button", name="Save", exact=True).click()
    expect(dashboard.get_by_role("status").filter(has_text="Statistics recorded.")).to_be_visible()


def test_reference_analytics_in_spanish_for_an_operator_who_chose_it(new_page, live_desk):
    """The operator's chosen language (the dashboard's preference, a cookie): the report,
    its By language table and the entry form in Spanish, and axe finds nothing."""
    from tests.e2e.a11y import assert_accessible
    from tests.e2e.conftest import DEMO_PASSWORDS

    page = new_page()
    page.context.add_cookies([{"name": "libdesk_language", "value": "es", "url": live_desk.url}])
    page.goto(f"{live_desk.url}/analytics/")
    page.get_by_label("Usuario").fill("alice")
    page.get_by_label("Contraseña").fill(DEMO_PASSWORDS["alice"])
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1, name="Reference Analytics")).to_be_visible()
    expect(page.get_by_role("button", name="Aplicar filtros")).to_be_visible()
    expect(page.get_by_role("heading", name="Resumen")).to_be_visible()
    languages = page.get_by_role("table", name="Chats y entradas por idioma del usuario")
    expect(languages.get_by_role("columnheader", name="Idioma")).to_be_visible()
    assert_accessible(page, "the Spanish report")

    page.get_by_role("link", name="Registrar una interacción").first.click()
    expect(page.get_by_role("heading", level=1, name="Registrar una interacción")).to_be_visible()
    expect(page.get_by_label("Ubicación")).to_be_visible()
    expect(page.get_by_label("Duración (minutos)")).to_be_visible()
    page.get_by_role("button", name="Guardar", exact=True).click()  # empty: errors shown
    expect(page.get_by_role("alert")).to_contain_text("La entrada no se guardó")
    assert_accessible(page, "the Spanish entry form with errors")
