"""The message hot path builds its chat and message by hand (``Chat.from_db`` from a
RETURNING row, one statement for several chats' messages): each such object must be
what the ordinary ORM read gives, field for field. Issue 15: the patron's name of every
live message read the chat's status, because the RETURNING row was not in the model's
field order.

Chats are named unlike any status (and the statuses differ from the default), so a
value in the wrong field shows."""

import pytest
from django.db.models.query_utils import DeferredAttribute

from chat import events, services
from chat.models import Chat, Message
from chat.services.batched_sends import messages_send
from tests.factories import DepartmentFactory, named_operator, start_chat
from tests.realworld import naughty_strings

pytestmark = pytest.mark.django_db(transaction=True)


def _loaded_fields(instance):
    """The concrete fields the instance holds values for (deferred ones left out)."""
    return [
        f.attname
        for f in type(instance)._meta.concrete_fields
        if f.attname in instance.__dict__
        and not isinstance(instance.__dict__[f.attname], DeferredAttribute)
    ]


def assert_same_as_orm(message):
    """``message`` and its ``chat``, as the hot path built them, equal a fresh read."""
    stored = Message.objects.get(pk=message.pk)
    for name in [f.attname for f in Message._meta.concrete_fields]:
        assert getattr(message, name) == getattr(stored, name), name
    chat = message.chat
    loaded = _loaded_fields(chat)
    # What a message needs of its chat is loaded (nothing read later costs a query).
    assert {"id", "public_id", "department_id", "operator_id", "status", "patron_name"} <= set(
        loaded
    )
    fresh = Chat.objects.get(pk=chat.pk)
    for name in loaded:
        assert getattr(chat, name) == getattr(fresh, name), name
    # And what leaves on the socket is what history builds from the database.
    assert events.message_payload(message) == events.message_payload(
        Message.objects.select_related("chat", "operator__user").get(pk=message.pk)
    )


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = named_operator("alice", [reference], first_name="Alice")
    waiting, _ = start_chat(reference, name="Wanda Waiting", client_id="w-1")
    active, _ = start_chat(reference, name="Arturo Active", client_id="a-1")
    services.chat_claim(chat_id=active.pk, operator=alice)
    return alice, waiting, active


def test_a_patron_message_in_a_waiting_chat_carries_the_chat_as_stored(desk):
    _alice, waiting, _active = desk
    message, created = services.message_send(
        chat_id=waiting.pk, body="Still there?", client_id="w-2", sender="patron"
    )
    assert created
    assert message.chat.patron_name == "Wanda Waiting"
    assert message.chat.status == "waiting" and message.chat.operator_id is None
    assert events.message_payload(message)["author"] == "Wanda Waiting"
    assert_same_as_orm(message)


def test_a_patron_message_in_an_active_chat_carries_the_chat_as_stored(desk):
    alice, _waiting, active = desk
    message, _ = services.message_send(
        chat_id=active.pk, body="Thanks!", client_id="a-2", sender="patron"
    )
    assert (message.chat.patron_name, message.chat.status, message.chat.operator_id) == (
        "Arturo Active",
        "active",
        alice.pk,
    )
    assert events.message_payload(message)["author"] == "Arturo Active"
    assert_same_as_orm(message)


def test_an_operator_message_carries_the_chat_as_stored(desk):
    alice, _waiting, active = desk
    message, _ = services.message_send(
        chat_id=active.pk, body="Here you go.", client_id="o-1", sender="operator", operator=alice
    )
    assert events.message_payload(message)["author"] == "Alice"
    assert message.chat.operator_id == alice.pk
    assert_same_as_orm(message)


def test_batched_sends_build_each_chat_as_stored(desk):
    """On PostgreSQL one statement stores these (chat.services.batched_sends); on SQLite
    each goes through message_send: either way the objects equal a fresh read."""
    alice, waiting, active = desk
    reference = waiting.department
    other, _ = start_chat(reference, name="Olga Other", client_id="x-1")
    results = messages_send(
        [
            {"chat_id": waiting.pk, "body": "one", "client_id": "b-1", "sender": "patron"},
            {
                "chat_id": active.pk,
                "body": "two",
                "client_id": "b-2",
                "sender": "operator",
                "operator": alice,
            },
            {"chat_id": other.pk, "body": "three", "client_id": "b-3", "sender": "patron"},
        ]
    )
    authors = []
    for message, created in results:
        assert created
        assert_same_as_orm(message)
        authors.append(events.message_payload(message)["author"])
    assert authors == ["Wanda Waiting", "Alice", "Olga Other"]


def _storable(text: str) -> bool:
    """Lone surrogates and NUL are refused at the door (issue 15's input part)."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_every_naughty_patron_name_and_body_goes_out_live_as_stored(db):
    """The Big List of Naughty Strings as patron names and message bodies: the hot
    path's message (and its hand-built chat) equals the history's read of it."""
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    values = [s for s in naughty_strings() if s.strip() and _storable(s)]
    assert len(values) > 400
    for i, text in enumerate(values):
        name = text.strip()[:80].strip()  # a longer name is refused (chat.text), never cut
        chat, _ = start_chat(reference, name=name, client_id=f"n-{i}")
        message, created = services.message_send(
            chat_id=chat.pk, body=text, client_id=f"n-{i}-1", sender="patron"
        )
        assert created
        assert events.message_payload(message)["author"] == (name or "Patron")
        assert_same_as_orm(message)
