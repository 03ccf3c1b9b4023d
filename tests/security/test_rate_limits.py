"""Patron rate limits answer with a clear message and leave other chats untouched."""

import uuid

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from chat import services
from chat.exceptions import Conflict, RateLimited
from chat.models import Chat, Message
from tests.factories import DepartmentFactory, OperatorFactory, start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def online_reference(settings):
    department = DepartmentFactory(slug="reference")
    operator = OperatorFactory(departments=[department])
    services.presence_set(operator=operator, status="online")
    services.connection_open(operator=operator, channel_name="rate-limit-test")
    return department


def test_new_chats_per_address_are_limited(client, settings, online_reference):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "CHATS_PER_ADDRESS": 2}
    url = "/widget/reference/chats"
    statuses = [
        client.post(
            url, {"question": f"q{i}"}, content_type="application/json", REMOTE_ADDR="198.51.100.7"
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]
    refused = client.post(
        url, {"question": "q"}, content_type="application/json", REMOTE_ADDR="198.51.100.7"
    )
    assert refused.json()["code"] == "rate_limited" and "several chats" in refused.json()["message"]
    other = client.post(
        url, {"question": "q"}, content_type="application/json", REMOTE_ADDR="198.51.100.8"
    )
    assert other.status_code == 201  # another address is unaffected
    assert Chat.objects.count() == 3


def test_messages_per_chat_are_limited_without_touching_other_chats(settings, online_reference):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 3}
    busy, _ = start_chat(online_reference, client_id="b0")
    calm, _ = start_chat(online_reference, client_id="c0")
    for i in range(3):
        services.message_send(chat_id=busy.pk, body=f"m{i}", client_id=f"b{i + 1}", sender="patron")
    with pytest.raises(RateLimited) as error:
        services.message_send(chat_id=busy.pk, body="one too many", client_id="b9", sender="patron")
    assert "not sent" in error.value.message
    assert not Message.objects.filter(client_id="b9").exists()
    message, created = services.message_send(
        chat_id=calm.pk, body="hello", client_id="c1", sender="patron"
    )
    assert created
    # a retry of an already stored message is still answered (idempotent), not limited
    again, created = services.message_send(
        chat_id=busy.pk, body="m0", client_id="b1", sender="patron"
    )
    assert not created and again.seq == 2


def test_the_message_limit_restarts_each_minute_and_counts_neither_retries_nor_the_librarian(
    settings, online_reference
):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 2}
    chat, _ = start_chat(online_reference, client_id="q0")
    operator = online_reference.operators.get()
    services.chat_claim(chat_id=chat.pk, operator=operator)
    services.message_send(chat_id=chat.pk, body="one", client_id="p1", sender="patron")
    for _ in range(3):  # retries of a stored message are answered, and not counted
        again = services.message_send(chat_id=chat.pk, body="one", client_id="p1", sender="patron")
        assert again[1] is False
    for i in range(3):  # the librarian is not limited
        services.message_send(
            chat_id=chat.pk, body=f"o{i}", client_id=f"o{i}", sender="operator", operator=operator
        )
    services.message_send(chat_id=chat.pk, body="two", client_id="p2", sender="patron")
    with pytest.raises(RateLimited):
        services.message_send(chat_id=chat.pk, body="three", client_id="p3", sender="patron")
    assert Chat.objects.get(pk=chat.pk).patron_minute_messages == 2  # the refusal was not counted
    # A minute later (the row's minute moved back, as if the clock had moved on):
    Chat.objects.filter(pk=chat.pk).update(patron_minute=F("patron_minute") - 1)
    message, created = services.message_send(
        chat_id=chat.pk, body="three", client_id="p3", sender="patron"
    )
    assert created and message.body == "three"
    counted = Chat.objects.values_list("patron_minute_messages", flat=True).get(pk=chat.pk)
    assert counted == 1


def test_an_ended_chat_is_refused_as_ended_not_as_rate_limited(settings, online_reference):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 1}
    chat, _ = start_chat(online_reference, client_id="q0")
    services.message_send(chat_id=chat.pk, body="one", client_id="p1", sender="patron")
    services.chat_end(chat_id=chat.pk, by="patron")
    with pytest.raises(Conflict) as refused:
        services.message_send(chat_id=chat.pk, body="two", client_id="p2", sender="patron")
    assert refused.value.code == "chat_ended"


def test_a_chat_inserted_without_the_counter_columns_is_counted_from_zero(
    settings, online_reference
):
    """Processes of the previous release (during an upgrade) insert chats without the
    counter's columns: the database fills them in."""
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 1}
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO chat_chat (public_id, status, patron_token_digest, patron_name,"
            " patron_email, page_url, last_seq, created_at, ended_by, department_id)"
            " VALUES (%s, 'waiting', %s, '', '', '', 0, %s, '', %s)",
            [uuid.uuid4().hex, "d" * 64, timezone.now(), online_reference.pk],
        )
    chat = Chat.objects.get(patron_token_digest="d" * 64)
    assert (chat.patron_minute, chat.patron_minute_messages) == (0, 0)
    assert services.message_send(chat_id=chat.pk, body="hi", client_id="p1", sender="patron")[1]
    with pytest.raises(RateLimited):
        services.message_send(chat_id=chat.pk, body="again", client_id="p2", sender="patron")
