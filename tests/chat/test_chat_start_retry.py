"""A chat start is as retry-safe as a message (issue 15, failure 10): the same start sent
again (a double click, a request retried on a flaky network) returns the chat already
started and the same token; the same client id with other content is refused clearly."""

import uuid

import pytest

from chat import selectors, services
from chat.exceptions import Conflict, InvalidInput
from chat.models import Chat, Message
from tests import realworld
from tests.chat.staffing import bring_online, event_types
from tests.factories import DepartmentFactory, OperatorFactory
from tests.racing import at_once

pytestmark = pytest.mark.django_db

URL = "/widget/reference/chats"


@pytest.fixture
def reference():
    return DepartmentFactory(name="Reference Desk", slug="reference")


@pytest.fixture
def librarian(reference):
    return bring_online(OperatorFactory(departments=[reference]))


def start(department, client_id, question="Do you hold the 1902 atlas?", **fields):
    return services.chat_start(
        department=department, question=question, client_id=client_id, **fields
    )


def post(client, body, address="198.51.100.20"):
    return client.post(URL, body, content_type="application/json", REMOTE_ADDR=address)


# --- The service ----------------------------------------------------------------------


def test_the_same_start_twice_is_one_chat_with_one_token(
    reference, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first, first_token = start(
            reference, "c-start-1", patron_name="Pat", patron_email="pat@example.org"
        )
    announced = event_types(captured_events)
    with django_capture_on_commit_callbacks(execute=True):
        again, again_token = start(
            reference, "c-start-1", patron_name="Pat", patron_email="pat@example.org"
        )
    assert (again.pk, again_token) == (first.pk, first_token)
    assert Chat.objects.count() == 1
    assert list(first.messages.values_list("seq", "body")) == [(1, "Do you hold the 1902 atlas?")]
    assert selectors.chat_for_token(again_token).pk == first.pk  # the token opens the chat
    # The retry announces nothing again: the queue has one new chat, not two.
    assert (
        event_types(captured_events)
        == announced
        == ["message.new", "chat.waiting", "queue.changed"]
    )


def test_the_start_id_is_kept_only_as_a_digest(reference):
    chat, token = start(reference, "c-secret-start")
    chat.refresh_from_db()
    assert chat.start_key and "c-secret-start" not in chat.start_key
    # Message 1 carries no client id: message ids are shown (history, the dashboard),
    # and the start's id answers a retry with the patron's token.
    assert Message.objects.get(chat=chat, seq=1).client_id == ""
    assert token not in chat.patron_token_digest


def test_a_retry_after_the_chat_moved_on_still_gets_it(reference, librarian):
    chat, token = start(reference, "c-later")
    services.chat_claim(chat_id=chat.pk, operator=librarian)
    services.chat_end(chat_id=chat.pk, by="patron")
    again, again_token = start(reference, "c-later")
    assert (again.pk, again_token) == (chat.pk, token)


@pytest.mark.parametrize(
    "changed",
    [
        {"question": "Do you hold the 1903 atlas?"},
        {"patron_name": "Someone else"},
        {"patron_email": "other@example.org"},
    ],
)
def test_the_same_id_with_other_content_is_refused_and_makes_nothing(reference, changed):
    start(reference, "c-reused", patron_name="Pat", patron_email="pat@example.org")
    fields = {"question": "Do you hold the 1902 atlas?", "patron_name": "Pat"}
    fields["patron_email"] = "pat@example.org"
    with pytest.raises(Conflict) as refused:
        services.chat_start(department=reference, client_id="c-reused", **{**fields, **changed})
    assert refused.value.code == "start_conflict"
    assert "different question" in refused.value.message
    assert Chat.objects.count() == 1


def test_without_a_client_id_every_start_is_a_chat(reference):
    start(reference, "")
    start(reference, "")
    assert Chat.objects.count() == 2


def test_distinct_ids_are_distinct_chats_even_with_one_question(reference):
    one, _ = start(reference, "c-a")
    two, _ = start(reference, "c-b")
    assert one.pk != two.pk


@pytest.mark.parametrize("client_id", realworld.hostile_strings())
def test_any_client_id_is_a_safe_key_or_refused_clearly(reference, client_id):
    """Every naughty and hostile string as a start's client id: it works as a retry key
    (the retry finds the chat) or is refused with a clear InvalidInput (too long, or NUL
    and lone surrogates as everywhere), never a crash."""
    try:
        chat, token = start(reference, client_id)
    except InvalidInput as refused:
        # Refused only for its length, or for what no text column holds (chat.text: NUL,
        # lone surrogates): the desk's one rule, with the field named either way.
        assert "client_id" in refused.message
        assert len(client_id) > services.CLIENT_ID_MAX or refused.code == "bad_characters"
        assert Chat.objects.count() == 0
        return
    again, again_token = start(reference, client_id)
    assert (again.pk, again_token) == (chat.pk, token)
    assert Chat.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_start_raced_from_eight_threads_makes_one_chat():
    department = DepartmentFactory(slug="start-race")
    client_id = uuid.uuid4().hex
    results = at_once([lambda: start(department, client_id)] * 8)
    assert all(isinstance(result, tuple) for result in results), results
    assert len({(chat.pk, token) for chat, token in results}) == 1
    assert Chat.objects.filter(department=department).count() == 1


# --- The widget's HTTP call -------------------------------------------------------------


def test_a_repeated_post_is_answered_with_the_same_response(client, librarian):
    body = {"question": "Atlases?", "name": "Pat", "client_id": "w-double-click"}
    first, second = post(client, body), post(client, body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert list(Chat.objects.values_list("public_id", flat=True)) == [
        uuid.UUID(first.json()["chat"])
    ]


def test_a_retry_is_answered_when_nobody_is_online_any_more(client, librarian):
    body = {"question": "Atlases?", "client_id": "w-offline-retry"}
    first = post(client, body)
    services.presence_set(operator=librarian, status="offline")
    assert post(client, {"question": "Another", "client_id": "w-new"}).json()["code"] == "offline"
    again = post(client, body)
    assert (again.status_code, again.json()) == (201, first.json())


def test_a_retry_does_not_count_as_another_start(client, settings, librarian):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "CHATS_PER_ADDRESS": 1}
    body = {"question": "Atlases?", "client_id": "w-limited"}
    first = post(client, body, address="198.51.100.21")
    retries = [post(client, body, address="198.51.100.21") for _ in range(3)]
    assert [r.status_code for r in retries] == [201, 201, 201]
    assert all(r.json() == first.json() for r in retries)
    other = post(client, {"question": "More?", "client_id": "w-2"}, address="198.51.100.21")
    assert other.status_code == 429  # a new start is still limited
    assert Chat.objects.count() == 1


def test_a_conflicting_retry_gets_a_clear_409(client, librarian):
    post(client, {"question": "Atlases?", "client_id": "w-conflict"})
    refused = post(client, {"question": "Maps?", "client_id": "w-conflict"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "start_conflict"
    assert "different question" in refused.json()["message"]
    assert "token" not in refused.json()
    assert Chat.objects.count() == 1
