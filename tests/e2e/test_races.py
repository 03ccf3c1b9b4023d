"""Retries and limits as a patron and a librarian meet them (issue 15, failures 10, 11):
a chat start whose answer was lost, started again, is one chat; a Claim Chat over the
librarian's limit says so on the dashboard."""

from playwright.sync_api import expect

from tests.e2e.helpers import ask, chat_item, unique


def printed(output: str) -> str:
    """What a ``shell -c`` printed last (the shell first says what it imported)."""
    return output.strip().splitlines()[-1]


def chats_of(live_desk, patron_name) -> int:
    return int(
        printed(
            live_desk.shell(
                "from chat.models import Chat; "
                f"print(Chat.objects.filter(patron_name={patron_name!r}).count())"
            )
        )
    )


def test_a_start_whose_answer_was_lost_is_one_chat_when_sent_again(
    live_desk, operator_page, patron_page
):
    dashboard = operator_page("alice")
    page, widget = patron_page()
    patron = unique("Lost answer")
    lost = []

    def answer_lost(route):
        # The request reaches the desk (the chat is started), the answer never arrives.
        route.fetch()
        lost.append(route.request.post_data_json["client_id"])
        route.abort("connectionreset")

    page.route("**/widget/*/chats", answer_lost, times=1)
    ask(widget, "Do you hold the 1902 county atlas?", name=patron)
    expect(widget.get_by_text("The chat could not be reached. Please try again.")).to_be_visible()
    expect(chat_item(dashboard, patron)).to_have_count(1)  # it was started all the same
    assert lost and chats_of(live_desk, patron) == 1

    with page.expect_request("**/widget/*/chats") as retry:
        widget.get_by_role("button", name="Start chat").click()
    assert retry.value.post_data_json["client_id"] == lost[0]  # the same start again
    expect(widget.get_by_role("log")).to_contain_text("Do you hold the 1902 county atlas?")
    expect(widget.get_by_role("status").filter(has_text="Waiting for a librarian")).to_be_visible()
    assert chats_of(live_desk, patron) == 1
    expect(chat_item(dashboard, patron)).to_have_count(1)
    chat_item(dashboard, patron).get_by_role("button", name="Claim Chat").click()
    expect(widget.get_by_text("You are chatting with Alice.")).to_be_visible()


def set_limit(live_desk, username, headroom):
    """The librarian's limit: their active chats now + ``headroom`` (None: no limit)."""
    return printed(
        live_desk.shell(
            "from chat.models import Chat, Operator; "
            f"o = Operator.objects.get(user__username={username!r}); "
            "n = Chat.objects.filter(operator=o, status='active').count(); "
            f"limit = None if {headroom!r} is None else n + {headroom!r}; "
            "Operator.objects.filter(pk=o.pk).update(max_chats=limit); print(limit)"
        )
    )


def test_a_claim_over_the_librarians_limit_is_refused_with_a_visible_reason(
    live_desk, operator_page, patron_page
):
    dashboard = operator_page("bob")
    patrons = [unique("Limit"), unique("Limit")]
    for patron in patrons:
        _, widget = patron_page()
        ask(widget, f"A question from {patron}", name=patron)
        expect(chat_item(dashboard, patron)).to_have_count(1)
    limit = set_limit(live_desk, "bob", 1)
    try:
        chat_item(dashboard, patrons[0]).get_by_role("button", name="Claim Chat").click()
        expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text(
            f"A question from {patrons[0]}"
        )
        chat_item(dashboard, patrons[1]).get_by_role("button", name="Claim Chat").click()
        notice = dashboard.get_by_role("status").filter(has_text="your limit is")
        expect(notice).to_have_text(
            f"You have {limit} active chat{'s' if limit != '1' else ''} and your limit is "
            f"{limit}. End or transfer a chat before claiming another."
        )
        expect(chat_item(dashboard, patrons[1])).to_have_count(1)  # still waiting
        expect(dashboard.get_by_role("log", name="Conversation")).to_contain_text(
            f"A question from {patrons[0]}"
        )
    finally:
        set_limit(live_desk, "bob", None)
