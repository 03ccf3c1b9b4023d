"""The librarian's workspace (issue 20), as a librarian uses it: Chat History found from
the dashboard's header and searched by a word of the conversation; the patron's context
in the chat header; Block, refused on the patron's next try and lifted in /admin/; the
supervisor watching a chat as it happens. axe finds nothing on each new page."""

from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import DEMO_PASSWORDS
from tests.e2e.helpers import ask, chat_item, unique


def log_in(new_page, live_desk, username, path):
    page = new_page()
    page.goto(f"{live_desk.url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    return page


def claim(dashboard, patron):
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(dashboard.locator("#conversation-title")).to_have_text(patron)


def reply(dashboard, text):
    dashboard.get_by_label("Message", exact=True).fill(text)
    dashboard.get_by_role("button", name="Send", exact=True).click()
    expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text(text)


def test_chat_history_finds_a_past_chat_by_a_word_said_in_it(operator_page, patron_page):
    dashboard = operator_page("alice")
    _, widget = patron_page()
    patron = unique("Hist")
    word = f"zebraword{patron.split()[-1].replace('-', 'x')}"
    ask(widget, f"Looking for the <b>{word}</b> pamphlets & maps", name=patron)
    claim(dashboard, patron)
    reply(dashboard, "They are in the pamphlet files on floor 3.")
    dashboard.get_by_role("button", name="End Chat").click()
    expect(dashboard.locator("#conversation-state")).to_contain_text("This chat has ended")

    dashboard.get_by_role("navigation", name="Desk").get_by_role(
        "link", name="Chat History"
    ).click()
    expect(dashboard.get_by_role("heading", name="Chat History", level=1)).to_be_visible()
    assert_accessible(dashboard, "Chat History, before a search")
    dashboard.get_by_label("Words in the conversation").fill(word)
    dashboard.get_by_role("button", name="Search").click()
    results = dashboard.get_by_role("list", name="Chats found").get_by_role("listitem")
    expect(results).to_have_count(1)
    expect(results.first.get_by_role("heading")).to_have_text(patron)
    # The word is marked; the patron's markup is shown as the text it was.
    expect(results.first.locator("mark")).to_have_text(word)
    expect(results.first.locator(".history-snippet")).to_contain_text(
        f"<b>{word}</b> pamphlets & maps"
    )
    assert results.first.locator(".history-snippet b").count() == 0
    assert_accessible(dashboard, "Chat History with a result")

    results.first.get_by_role("link", name=patron).click()
    expect(dashboard.get_by_role("heading", name=f"Chat with {patron}")).to_be_visible()
    log = dashboard.get_by_role("log", name="Conversation")
    items = log.get_by_role("listitem")
    expect(items.nth(0)).to_contain_text(f"Looking for the <b>{word}</b> pamphlets")
    expect(log).to_contain_text("They are in the pamphlet files on floor 3.")
    expect(
        dashboard.get_by_role("region", name="Audit trail").or_(
            dashboard.locator("section", has_text="Audit trail")
        )
    ).to_contain_text("Claimed")
    expect(dashboard.get_by_role("button", name="Email transcript")).to_be_visible()
    expect(dashboard.get_by_role("button", name="Create Ticket")).to_be_visible()
    assert_accessible(dashboard, "a transcript in Chat History")


def test_the_chat_header_shows_where_the_patron_asked_and_their_earlier_chats(
    operator_page, patron_page, new_page
):
    dashboard = operator_page("alice")
    patron = unique("Ctx")
    email = f"{patron.replace(' ', '-').lower()}@example.org"
    # An earlier chat from the same address, ended.
    _, widget = patron_page()
    ask(widget, "First question, about renewals", name=patron, email=email)
    claim(dashboard, patron)
    dashboard.get_by_role("button", name="End Chat").click()
    expect(dashboard.locator("#conversation-state")).to_contain_text("This chat has ended")

    _, widget = patron_page(new_page())
    ask(widget, "Back again about the renewal", name=patron, email=email)
    expect(chat_item(dashboard, patron)).to_have_count(1)
    claim(dashboard, patron)
    context = dashboard.locator("#patron-context")
    asked_from = context.get_by_role("link", name="/demo/")
    expect(asked_from).to_have_attribute("rel", "noopener noreferrer")
    earlier = context.get_by_role("link", name="Earlier chats (1) and tickets (0)")
    expect(earlier).to_be_visible()
    earlier.click()
    expect(
        dashboard.get_by_role("heading", name=f"Earlier chats and tickets of {patron}")
    ).to_be_visible()
    expect(
        dashboard.get_by_role("region", name="Earlier chats")
        .or_(dashboard.locator("section", has_text="Earlier chats"))
        .get_by_role("listitem")
    ).to_have_count(1)
    assert_accessible(dashboard, "a patron's earlier chats and tickets")


def test_block_refuses_the_patrons_next_chat_until_an_admin_lifts_it(
    operator_page, patron_page, new_page, live_desk
):
    dashboard = operator_page("alice")
    _, widget = patron_page()
    patron = unique("Spam")
    ask(widget, "BUY CHEAP PILLS http://spam.example", name=patron)
    claim(dashboard, patron)
    try:
        dashboard.get_by_role("button", name="Block").click()
        dialog = dashboard.get_by_role("dialog", name="Block this patron")
        buttons = dialog.get_by_role("button")
        expect(buttons).to_have_text(["Cancel", "Block patron"])  # the dialogs' one order
        dialog.get_by_role("button", name="Block patron").click()
        expect(dialog.get_by_role("alert")).to_have_text("Say why this patron is blocked.")
        dialog.get_by_label("Reason").fill("Spam links, three times today")
        dialog.get_by_role("button", name="Block patron").click()
        expect(dialog).to_be_hidden()
        expect(dashboard.locator("#desk-notice")).to_contain_text(f"{patron} is blocked until")

        # The same address tries again: a neutral refusal, and no chat reaches the desk.
        _, again = patron_page(new_page())
        second = unique("Spam")
        ask(again, "Hello again", name=second)
        expect(again.get_by_text("Please contact the library another way.")).to_be_visible()
        expect(chat_item(dashboard, second)).to_have_count(0)

        # The admin finds the block in /admin/ and lifts it.
        admin = log_in(new_page, live_desk, "admin", "/admin/chat/patronblock/")
        row = admin.get_by_role("row").filter(has_text="Spam links, three times today")
        expect(row).to_contain_text("In force")
        row.get_by_role("checkbox").check()
        admin.get_by_label("Action:").select_option(label="Lift the selected blocks")
        admin.get_by_role("button", name="Go").click()
        expect(admin.get_by_text("1 block lifted.")).to_be_visible()
        expect(
            admin.get_by_role("row").filter(has_text="Spam links, three times today")
        ).to_contain_text("Lifted")
        _, third = patron_page(new_page())
        ask(third, "Now may I ask?", name=unique("Ok"))
        expect(third.get_by_role("log")).to_contain_text("Now may I ask?")
    finally:
        # Every browser test's patron is 127.0.0.1: never leave it blocked.
        live_desk.shell(
            "from chat.models import PatronBlock; from django.utils import timezone; "
            "PatronBlock.objects.filter(lifted_at__isnull=True).update(lifted_at=timezone.now())"
        )


def test_the_supervisor_watches_a_chat_as_it_happens(
    operator_page, patron_page, new_page, live_desk
):
    dashboard = operator_page("alice")
    supervisor = log_in(new_page, live_desk, "admin", "/dashboard/")
    supervisor.get_by_role("link", name="Supervisor").click()
    expect(supervisor.get_by_role("heading", name="Supervisor", level=1)).to_be_visible()
    expect(supervisor.locator("#supervisor-connection")).to_have_text("Live")
    staff = (
        supervisor.get_by_role("region", name="Who is on")
        .get_by_role("row")
        .filter(has_text="alice")
    )
    expect(staff).to_contain_text("Online")

    _, widget = patron_page()
    patron = unique("Sup")
    ask(widget, "Is the map room open on Sunday?", name=patron)
    live_row = (
        supervisor.get_by_role("region", name="Waiting and active chats")
        .get_by_role("row")
        .filter(has_text=patron)
    )
    expect(live_row).to_contain_text("Waiting")  # arrived without a reload
    assert_accessible(supervisor, "the supervisor's view with a waiting chat")
    live_row.get_by_role("link", name=patron).click()
    expect(supervisor.get_by_role("heading", name=f"Chat with {patron}")).to_be_visible()
    watched = supervisor.get_by_role("log", name="Conversation")
    expect(watched).to_contain_text("Is the map room open on Sunday?")
    expect(supervisor.locator("#supervisor-connection")).to_have_text("Live")

    claim(dashboard, patron)
    reply(dashboard, "Yes, from noon to 5.")
    expect(watched).to_contain_text("Yes, from noon to 5.")
    expect(supervisor.locator("#watch-status")).to_have_text("Active")
    expect(supervisor.locator("#watch-operator")).to_have_text("Alice")
    texts = watched.get_by_role("listitem").all_inner_texts()
    assert [i for i, t in enumerate(texts) if "map room" in t] < [
        i for i, t in enumerate(texts) if "noon to 5" in t
    ]
    assert_accessible(supervisor, "the supervisor watching a chat")


def test_an_internal_chat_opens_in_the_main_pane_beside_the_patron_chat(operator_page, patron_page):
    alice = operator_page("alice")
    alice.set_viewport_size({"width": 1400, "height": 900})
    carmen = operator_page("carmen")
    _, widget = patron_page()
    patron = unique("Pane")
    ask(widget, "Letters from 1790, please", name=patron)
    claim(alice, patron)
    alice.locator("#department-list li").filter(has_text="Special Collections").get_by_role(
        "button", name="Special Collections"
    ).click()
    pane = alice.get_by_role("region", name="Internal chat with Special Collections")
    expect(pane).to_be_visible()
    alice.get_by_label("Write to colleague").fill("Can you take a question about 1790 letters?")
    alice.get_by_role("button", name="Send to colleague").click()
    # In the main pane, beside the patron's chat: both in view at 900 px, no scrolling.
    conversation = alice.get_by_role("region", name=patron)
    for region in (conversation, alice.locator("#internal-panel")):
        box = region.bounding_box()
        assert box["y"] + 40 < 900 and box["x"] > 300, box
    lists = alice.locator(".dash-lists").bounding_box()
    assert alice.locator("#internal-panel").bounding_box()["x"] > lists["x"] + lists["width"]
    expect(alice.get_by_role("button", name="Transfer", exact=True)).to_be_visible()

    # Carmen: a compact list entry, the conversation in her main pane; she closes it.
    # (other tests' internal chats from Alice may still be listed: this one is about Pane)
    internal = carmen.locator("#internal-list li").filter(has_text=f"About {patron}'s chat")
    internal.get_by_role("button", name="Open").click()
    expect(carmen.get_by_role("log", name="Internal conversation")).to_contain_text("1790 letters")
    expect(carmen.locator("#no-conversation")).to_be_hidden()
    carmen.get_by_label("Write to colleague").fill("Yes, send it over.")
    carmen.get_by_role("button", name="Send to colleague").click()
    expect(alice.get_by_role("log", name="Internal conversation")).to_contain_text(
        "Yes, send it over."
    )
    alice.get_by_role("button", name="Close internal chat").click()
    # Closed, it stays in the list, read-only, until Alice archives it.
    expect(alice.locator("#internal-meta")).to_have_text("This internal chat is closed.")
    expect(alice.get_by_label("Write to colleague")).to_be_hidden()
    expect(
        alice.locator("#internal-list li").filter(has_text=f"About {patron}'s chat")
    ).to_contain_text("Closed")
    assert_accessible(carmen, "an internal chat in the main pane")


def test_internal_chats_are_archived_read_again_and_come_back(operator_page, patron_page):
    alice = operator_page("alice")
    alice.set_viewport_size({"width": 1280, "height": 900})
    carmen = operator_page("carmen")
    _, widget = patron_page()
    patron = unique("Archive")
    ask(widget, "Maps of the river, 1850?", name=patron)
    claim(alice, patron)
    alice.locator("#department-list li").filter(has_text="Special Collections").get_by_role(
        "button", name="Special Collections"
    ).click()
    alice.get_by_label("Write to colleague").fill("Do we hold the 1850 river survey?")
    alice.get_by_role("button", name="Send to colleague").click()

    def listed(page):
        return page.locator("#internal-list li").filter(has_text=f"About {patron}'s chat")

    expect(carmen.locator("#desk-notice")).to_have_text(
        "Internal chat from Alice to Special Collections"
    )
    listed(carmen).get_by_role("button", name="Open").click()
    expect(carmen.locator("#desk-notice")).to_have_text("")  # read now: not news any more
    carmen.get_by_label("Write to colleague").fill("We do: in the vault.")
    carmen.get_by_role("button", name="Send to colleague").click()
    expect(alice.get_by_role("log", name="Internal conversation")).to_contain_text("the vault")

    # Carmen archives it while it is open: it leaves her list, not Alice's; Alice's next
    # message brings it back to Carmen's.
    carmen.locator("#internal-panel").get_by_role("button", name="Archive", exact=True).click()
    expect(listed(carmen)).to_have_count(0)
    expect(carmen.locator("#internal-panel")).to_be_hidden()
    # The keyboard's place, once the pane has gone: the Archived button.
    expect(carmen.get_by_role("button", name="Archived", exact=True)).to_be_focused()
    expect(listed(alice)).to_have_count(1)
    alice.get_by_label("Write to colleague").fill("Could you scan sheet 4?")
    alice.get_by_role("button", name="Send to colleague").click()
    expect(listed(carmen)).to_contain_text("New messages")

    # Alice closes it, then archives it: gone from her list.
    alice.get_by_role("button", name="Close internal chat").click()
    expect(listed(alice)).to_contain_text("Closed")
    listed(alice).get_by_role("button", name="Archive").click()
    expect(listed(alice)).to_have_count(0)
    expect(listed(carmen)).to_contain_text("Closed")  # Carmen's list is hers

    # Archived: the newest first; read it, read-only, and Unarchive it.
    alice.get_by_role("button", name="Archived", exact=True).click()
    archive = alice.get_by_role("region", name="Archived internal chats")
    expect(archive).to_be_visible()
    entry = archive.get_by_role("listitem").filter(has_text=f"About {patron}'s chat")
    expect(archive.get_by_role("listitem").first).to_contain_text(f"About {patron}'s chat")
    expect(alice.locator("#internal-meta")).to_contain_text("archived internal chat")
    assert_accessible(alice, "the Archived internal chats")
    entry.get_by_role("button", name="Read").click()
    conversation = alice.get_by_role("log", name="Internal conversation")
    expect(conversation).to_contain_text("Could you scan sheet 4?")
    expect(conversation).to_contain_text("We do: in the vault.")
    expect(alice.locator("#internal-meta")).to_have_text("Archived and closed. You can read it.")
    expect(alice.get_by_label("Write to colleague")).to_be_hidden()
    assert_accessible(alice, "an archived internal chat, read-only")
    alice.get_by_role("button", name="Unarchive").focus()
    alice.keyboard.press("Enter")
    expect(listed(alice)).to_have_count(1)
    panel = alice.locator("#internal-panel")
    expect(panel.get_by_role("button", name="Archive", exact=True)).to_be_focused()
    expect(alice.locator("#internal-meta")).to_have_text("This internal chat is closed.")


def test_a_new_message_notice_goes_when_its_chat_is_opened(operator_page, patron_page, new_page):
    dashboard = operator_page("alice")
    first, second = unique("NoteA"), unique("NoteB")
    _, widget_a = patron_page()
    ask(widget_a, "First patron here", name=first)
    notice = dashboard.locator("#desk-notice")
    expect(notice).to_have_text(f"New chat from {first} in Reference Desk")
    claim(dashboard, first)
    expect(notice).to_have_text("")  # claimed: not news any more (walk-through, issue 20)
    _, widget_b = patron_page(new_page())
    ask(widget_b, "Second patron here", name=second)
    claim(dashboard, second)
    widget_a.get_by_label("Message").fill("Are you still there?")
    widget_a.get_by_role("button", name="Send").click()
    expect(notice).to_have_text(f"New message from {first}")
    dashboard.locator("#mine-list li").filter(has_text=first).get_by_role("button").first.click()
    expect(dashboard.locator("#conversation-title")).to_have_text(first)
    expect(notice).to_have_text("")
    # Opened again, its entry under My chats keeps the question (walk-through, issue 20).
    expect(dashboard.locator("#mine-list li").filter(has_text=first)).to_contain_text(
        "First patron here"
    )
    # The Ctrl+/ hint is part of the Canned Messages button, not a word between buttons.
    canned = dashboard.get_by_role("button", name="Canned Messages", exact=True)
    expect(canned.locator(".canned-hint")).to_have_text("Ctrl+/")
    # The buttons below the chat box stand apart, not border to border.
    attach = dashboard.get_by_role("button", name="Attach a file").bounding_box()
    assert attach["x"] - sum(canned.bounding_box()[k] for k in ("x", "width")) >= 6


def test_the_dashboards_live_parts_speak_the_librarians_language(operator_page, patron_page):
    """What the dashboard's modules write (a chat's status, who is online, the Internal
    Chat controls) in Spanish, as the page around them is (walk-through, issue 20)."""
    dashboard = operator_page("alice")
    dashboard.get_by_label("Language").select_option("es")
    dashboard.get_by_role("button", name="Change language").click()
    expect(dashboard.get_by_role("heading", name="Chats de usuarios")).to_be_visible()
    expect(dashboard.locator("#connection")).to_have_text("Conectado")
    # (a dashboard of an earlier test closing meanwhile may have set Alice Offline)
    dashboard.get_by_role("radio", name="En línea").check()
    reference = dashboard.locator("#department-list li").filter(has_text="Reference Desk")
    expect(reference).to_contain_text("en línea:")
    # Each name with its comma ("Alice (tú),"), not a comma set apart by the row's gap.
    expect(reference.locator("span").filter(has_text="Alice (tú)")).to_have_count(1)
    expect(dashboard.get_by_role("button", name="Archivados")).to_be_visible()
    _, widget = patron_page()
    patron = unique("Lupe")
    ask(widget, "¿Hay microfilms?", name=patron)
    chat_item(dashboard, patron).get_by_role("button", name="Atender chat").click()
    expect(dashboard.locator("#conversation-meta")).to_contain_text("Reference Desk · activo")
    dashboard.get_by_label("Idioma").select_option("en")  # the account's language, back
    dashboard.get_by_role("button", name="Cambiar idioma").click()
    expect(dashboard.get_by_role("heading", name="Patron Chats")).to_be_visible()


def test_after_the_patron_ends_the_chat_the_transcript_stays_above_the_forms(
    operator_page, patron_page
):
    """The widget at 1280×900 after End Chat: the conversation no longer spills over
    "This chat has ended" and the transcript form, and the rating scale's five choices
    are radios of one size (walk-through, issue 20)."""
    dashboard = operator_page("alice")
    page, widget = patron_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    patron = unique("Ends")
    ask(widget, "How do I renew a book?", name=patron)
    claim(dashboard, patron)
    reply(dashboard, "Hi: My Account, then Renew.")
    expect(widget.get_by_role("log", name="Conversation")).to_contain_text("then Renew")
    widget.get_by_role("button", name="End Chat").click()
    thanks = widget.get_by_text("This chat has ended. Thank you for asking!")
    expect(thanks).to_be_visible()
    log = widget.get_by_role("log", name="Conversation").bounding_box()
    messages = widget.locator("#transcript").bounding_box()
    assert messages["y"] + messages["height"] <= log["y"] + log["height"] + 1, (messages, log)
    assert log["y"] + log["height"] <= thanks.bounding_box()["y"], (log, thanks.bounding_box())
    sizes = {
        round(widget.get_by_role("radio", name=name).bounding_box()["width"])
        for name in ("1 – not helpful", "2", "3", "4", "5 – very helpful")
    }
    assert len(sizes) == 1 and sizes.pop() <= 24, sizes
