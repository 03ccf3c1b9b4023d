"""A Daphne process dies (SIGKILL, as a crash or an OOM kill does): the patron's widget
and the librarian's dashboard reconnect through nginx to the other process, and every
message said meanwhile arrives, once."""

import json
import signal

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, send, unique


def test_killing_either_daphne_loses_nothing(
    operator_page, patron_page, new_page, live_desk, stack
):
    dashboard = operator_page("bob")
    opened = []
    page = new_page()
    page.on("websocket", lambda socket: opened.append(socket.url))
    page, widget = patron_page(page)
    patron = unique("Failover")
    ask(widget, "Can I renew a laptop loan?", name=patron)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    transcript = dashboard.get_by_role("log", name="Conversation")
    patron_log = widget.get_by_role("log")
    expect(widget.get_by_text("You are chatting with Bob.")).to_be_visible()

    said = []
    # Each process in turn: whichever carried the widget's socket, one of these kills did.
    for victim in ("web1", "web2"):
        stack.stop(victim, sig=signal.SIGKILL)
        from_staff = f"Librarian, {victim} down"
        from_patron = f"Patron, {victim} down"
        send(dashboard, from_staff)
        send(widget, from_patron)
        expect(patron_log).to_contain_text(from_staff, timeout=45_000)
        expect(transcript).to_contain_text(from_patron, timeout=45_000)
        expect(widget.get_by_role("log").locator("li").filter(has_text=from_staff)).to_have_count(1)
        expect(transcript.locator("li").filter(has_text=from_patron)).to_have_count(1)
        said += [from_staff, from_patron]
        stack.start_instance(victim)
        assert stack.health()[victim]

    assert len(opened) >= 2, "the widget's socket was never cut: no reconnect was tested"
    stored = json.loads(
        live_desk.shell(
            "import json; from chat.models import Chat;"
            f" chat = Chat.objects.get(patron_name={patron!r});"
            " print(json.dumps(list(chat.messages.values_list('body', flat=True))))"
        )
        .strip()
        .splitlines()[-1]
    )
    for text in said:
        assert stored.count(text) == 1, text
