"""The desk's core loop through nginx over https, in Chromium: the websockets are
upgraded by the proxy and reach the two Daphne processes; a ticket reply leaves through
the real Celery worker to the library's mail relay."""

import json

from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORDS
from tests.e2e.helpers import ask, chat_item, send, unique
from tests.e2e.stack.conftest import StaffSession, fetch


def test_ask_claim_talk_end_record_and_close_through_the_proxy(
    operator_page, patron_page, new_page, live_desk, stack
):
    dashboard = operator_page("alice")
    assert dashboard.url.startswith(f"https://127.0.0.1:{stack.https_port}/")
    sockets = []
    page = new_page()
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page, widget = patron_page(page)
    patron = unique("Proxied")
    question = f"Do you keep the 1910 city directories? ({patron})"

    ask(widget, question, name=patron)
    expect(widget.get_by_role("log")).to_contain_text(question)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    transcript = dashboard.get_by_role("log", name="Conversation")
    expect(transcript).to_contain_text(question)
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()

    send(dashboard, "Yes, on microfilm in the basement.")
    expect(widget.get_by_role("log")).to_contain_text("Yes, on microfilm in the basement.")
    send(widget, "Thanks! <i>Which</i> drawer?")
    expect(transcript).to_contain_text("Thanks! <i>Which</i> drawer?")

    dashboard.get_by_role("button", name="End Chat").click()
    expect(widget.get_by_text("This chat has ended. Thank you for asking!")).to_be_visible()
    panel = dashboard.locator("#after-chat")
    expect(panel.get_by_role("heading", name="Reference Analytics")).to_be_visible()
    panel.get_by_label("Location").select_option(label="Reference Desk")
    panel.get_by_role("button", name="Save", exact=True).click()
    expect(panel.get_by_role("status")).to_contain_text("Statistics saved.")
    dashboard.get_by_role("button", name="Close Chat").click()
    expect(dashboard.locator("#mine-list li").filter(has_text=patron)).to_have_count(0)

    stored = json.loads(
        live_desk.shell(
            "import json; from chat.models import Chat; from analytics.models import Interaction;"
            f" chat = Chat.objects.get(patron_name={patron!r});"
            " print(json.dumps({'status': chat.status,"
            " 'messages': list(chat.messages.order_by('seq').values_list('body', flat=True)),"
            " 'entries': Interaction.objects.filter(chat=chat).count()}))"
        )
        .strip()
        .splitlines()[-1]
    )
    assert stored["status"] == "closed" and stored["entries"] == 1
    said = stored["messages"]
    assert said[0] == question
    assert said.index("Yes, on microfilm in the basement.") < said.index(
        "Thanks! <i>Which</i> drawer?"
    )
    # The widget's socket was wss:// to nginx's port (Daphne listens only on its own).
    assert sockets and all(
        url.startswith(f"wss://127.0.0.1:{stack.https_port}/ws/patron/") for url in sockets
    )


def test_a_ticket_reply_is_sent_by_the_worker_to_the_mail_relay(stack, stack_url, smtp):
    address = f"{unique('reader').replace(' ', '-')}@example.org"
    status, _, body = fetch(
        f"{stack_url}/tickets/widget/special-collections/question",
        data=json.dumps(
            {"name": "Ruth Reader", "email": address, "question": "Do you hold Brontë letters?"}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 201, body
    reference = json.loads(body)["ticket"]

    carmen = StaffSession(stack_url).log_in("carmen", DEMO_PASSWORDS["carmen"])
    status, headers, _ = carmen.request(
        f"/tickets/{reference}/reply", {"body": "Yes: three, in the Shelley collection."}
    )
    assert status == 302, status

    reply = smtp.wait_for(lambda m: address in (m["To"] or ""))
    assert reference in reply["Subject"]
    text = next(
        part.get_payload(decode=True).decode()
        for part in reply.walk()
        if part.get_content_type() == "text/plain"
    )
    assert "Yes: three, in the Shelley collection." in text
    # Sent by the worker (not eagerly by the page): its log has the task.
    assert "tickets.tasks" in (stack.logs / "worker.log").read_text()
