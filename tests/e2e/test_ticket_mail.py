"""A patron's emailed reply on the ticket page, as a librarian reads it: the new words
first, the quoted history folded behind "Show quoted text" until asked for."""

import urllib.request

from playwright.sync_api import expect

from tests.e2e.helpers import unique
from tests.e2e.test_tickets import staff_page


def test_show_quoted_text_reveals_the_folded_history(new_page, live_desk):
    patron = unique("Mail")
    reference = (
        live_desk.shell(
            "from chat.models import Department; from tickets import services; "
            "t = services.ticket_create_from_offline_form(department=Department.objects.get("
            f"slug='special-collections'), name='{patron}', email='mail-pat@example.org', "
            "question='Do you have the 1910 town plans?', remote_addr='127.0.0.9'); "
            "print(t.reference)"
        )
        .strip()
        .splitlines()[-1]
    )
    assert reference.startswith("LD-"), reference
    raw = (
        f"From: {patron} <mail-pat@example.org>\r\nTo: desk+{reference}@library.example\r\n"
        f"Subject: Re: [{reference}] town plans\r\nMessage-ID: <{reference}-e2e@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Thank you! I will come on Thursday.\r\n\r\n"
        "Am Mo., 7. Dez. 2026 um 10:00 Uhr schrieb Special Collections <desk@library.example>:\r\n"
        "> We hold the 1910 plans in the map room.\r\n> Carmen\r\n"
    ).encode()
    request = urllib.request.Request(
        f"{live_desk.url}/tickets/inbound/email",
        data=raw,
        headers={
            "Content-Type": "message/rfc822",
            "X-LibDesk-Secret": live_desk.env["TICKETS_INBOUND_SECRET"],
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201

    page = staff_page(new_page, live_desk, "carmen")
    page.goto(f"{live_desk.url}/tickets/{reference}/")
    thread = page.locator(".ticket-thread")
    expect(thread).to_contain_text("Thank you! I will come on Thursday.")
    quoted = page.get_by_text("We hold the 1910 plans in the map room.")
    expect(quoted).to_be_hidden()  # folded, not deleted
    toggle = page.get_by_text("Show quoted text")
    toggle.focus()
    page.keyboard.press("Enter")  # a keyboard-only librarian opens it too
    expect(quoted).to_be_visible()
    expect(page.locator("details.ticket-msg-quoted")).to_have_attribute("open", "")
    expect(page.get_by_role("link", name="Original email")).to_have_attribute("download", "")
