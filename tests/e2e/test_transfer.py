"""Issue 4 in three browser contexts: Alice asks Special Collections in an internal chat,
Carmen answers (after reading the patron's chat), Alice transfers the chat to Special
Collections, Carmen claims it, and the patron keeps chatting with Carmen, no reload."""

import re

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique


def send(page_or_frame, text):
    page_or_frame.get_by_label("Message", exact=True).fill(text)
    page_or_frame.get_by_role("button", name="Send", exact=True).click()


def test_internal_chat_then_transfer_to_a_department(operator_page, patron_page):
    alice = operator_page("alice")
    carmen = operator_page("carmen")
    page, widget = patron_page()
    patron = unique("Letters")

    ask(widget, "Do you have letters from 1790?", name=patron)
    chat_item(alice, patron).get_by_role("button", name="Claim Chat").click()
    alice_log = alice.get_by_role("log", name="Conversation", exact=True)
    expect(alice_log).to_contain_text("Do you have letters from 1790?")
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()

    # Departments: Special Collections is online (text, not only the green circle).
    special = alice.locator("#department-list li").filter(has_text="Special Collections")
    expect(special).to_contain_text("online")
    expect(special).to_contain_text("Carmen")
    special.get_by_role("button", name="Special Collections").click()
    alice.get_by_label("Write to colleague").fill(
        "Can you take a question about letters from 1790?"
    )
    alice.get_by_role("button", name="Send to colleague").click()

    # Carmen hears the alert, sees the title count and the Internal Chat.
    # (closed internal chats of other tests stay listed until archived: this one is about
    # this patron's chat)
    internal = carmen.locator("#internal-list li").filter(has_text=f"About {patron}'s chat")
    expect(internal).to_be_visible()
    expect(carmen).to_have_title(re.compile(r"^\(\d+\) Chat Dashboard"))
    internal.get_by_role("button", name="Open").click()
    expect(carmen.get_by_role("log", name="Internal conversation")).to_contain_text(
        "letters from 1790"
    )
    carmen.get_by_role("button", name="Read the patron chat").click()  # about this chat
    expect(carmen.get_by_role("log", name=re.compile("^Patron chat with"))).to_contain_text(
        "Do you have letters from 1790?"
    )
    carmen.get_by_label("Write to colleague").fill("Yes, transfer it to me.")
    carmen.get_by_role("button", name="Send to colleague").click()
    expect(alice.get_by_role("log", name="Internal conversation")).to_contain_text(
        "Yes, transfer it to me."
    )
    expect(alice.locator("#internal-list")).to_contain_text("Answered by Carmen")

    # Alice transfers the patron's chat to Special Collections.
    alice.get_by_role("button", name="Transfer", exact=True).click()
    alice.get_by_label("Transfer to").select_option(label="Special Collections")
    alice.get_by_label("Note for your colleague (optional)").fill("1790 letters")
    alice.get_by_role("button", name="Transfer chat").click()
    expect(widget.get_by_role("log")).to_contain_text(
        "You're being transferred to Special Collections; your conversation stays here."
    )

    offer = carmen.locator("#transfer-list li").filter(has_text=patron)
    expect(offer).to_contain_text("Transferred from Alice: 1790 letters")
    offer.get_by_role("button", name="Claim Chat").click()
    carmen_log = carmen.get_by_role("log", name="Conversation", exact=True)
    expect(carmen_log).to_contain_text("Do you have letters from 1790?")  # the history travels
    expect(widget.get_by_text("You are chatting with Carmen.")).to_be_visible()

    # The patron keeps chatting, now with Carmen, without a reload.
    send(carmen, "Hello, this is Carmen from Special Collections.")
    expect(widget.get_by_role("log")).to_contain_text(
        "Hello, this is Carmen from Special Collections."
    )
    send(widget, "Thanks, Carmen!")
    expect(carmen_log).to_contain_text("Thanks, Carmen!")

    # Alice can read along but no longer write.
    expect(
        alice.get_by_text(
            "Transferred to Carmen: you can read this chat but no longer write in it."
        )
    ).to_be_visible()
    expect(alice_log).to_contain_text("Thanks, Carmen!")
    expect(alice.get_by_label("Message", exact=True)).to_be_hidden()
    expect(alice.get_by_role("button", name="Transfer", exact=True)).to_be_hidden()


NOBODY = "Nobody else is online to transfer to: create a ticket instead."


def test_nobody_to_transfer_to_goes_when_a_colleague_is_online_or_after_a_while(
    operator_page, patron_page
):
    """The notice line says "Nobody else is online to transfer to" only while it is so:
    it goes when a colleague comes online, and, if nothing changes, after a while (like
    "New chat from …", which goes when the chat is opened or claimed)."""
    alice = operator_page("alice")
    page, widget = patron_page()
    patron = unique("Alone")
    ask(widget, "Can someone else take this?", name=patron)
    chat_item(alice, patron).get_by_role("button", name="Claim Chat").click()
    expect(alice.get_by_role("log", name="Conversation", exact=True)).to_contain_text(
        "Can someone else take this?"
    )
    # Earlier tests' colleagues go Offline once their dashboards have closed (grace period).
    departments = alice.locator("#department-list")
    expect(departments).not_to_contain_text(re.compile("Bob|Carmen"), timeout=30_000)
    notice = alice.locator("#desk-notice")

    alice.get_by_role("button", name="Transfer", exact=True).click()
    expect(notice).to_have_text(NOBODY)
    expect(alice.get_by_role("dialog")).to_have_count(0)  # nothing to choose from
    bob = operator_page("bob")  # Bob comes online: the notice is not true any more
    expect(departments).to_contain_text("Bob")
    expect(notice).to_have_text("")

    bob.get_by_role("radio", name="Offline").check()
    expect(departments).not_to_contain_text("Bob")
    alice.clock.install()  # the page's timers from now on: a while passes at once
    alice.get_by_role("button", name="Transfer", exact=True).click()
    expect(notice).to_have_text(NOBODY)
    alice.clock.fast_forward(10_000)
    expect(notice).to_have_text(NOBODY)  # not gone at once
    alice.clock.fast_forward(25_000)
    expect(notice).to_have_text("")
