"""While the cache (Redis) is unreachable, the patron rate limits fail open: the desk
keeps taking patron messages and new chats, and says so in the log."""

import logging

import pytest
from django.test import override_settings

from chat import services
from chat.exceptions import RateLimited
from chat.models import Chat, Message
from tests.factories import DepartmentFactory, OperatorFactory, start_chat
from tests.scaleout.standins import _free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down():
    """The default cache on a Redis that is not there: a free port of 127.0.0.1 where
    nothing listens (connections are refused, as while Redis restarts)."""
    port = _free_port()
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "libdesk-test-down",
        }
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture
def online_reference():
    department = DepartmentFactory(slug="reference")
    operator = OperatorFactory(departments=[department])
    services.presence_set(operator=operator, status="online")
    services.connection_open(operator=operator, channel_name="rate-limit-outage-test")
    return department


def test_the_patron_message_limit_holds_while_the_cache_is_down(
    settings, online_reference, cache_down, caplog
):
    """The messages-per-minute limit is counted in the chat's row by the statement that
    stores the message (chat.services), not in the cache: it needs no Redis."""
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 2}
    chat, _ = start_chat(online_reference, client_id="q0")
    with caplog.at_level(logging.WARNING, logger="chat.ratelimit"):
        for i in range(2):
            _message, created = services.message_send(
                chat_id=chat.pk, body=f"m{i}", client_id=f"m{i}", sender="patron"
            )
            assert created
        with pytest.raises(RateLimited):
            services.message_send(chat_id=chat.pk, body="m2", client_id="m2", sender="patron")
    assert Message.objects.filter(chat=chat, sender="patron").count() == 3  # + the question
    assert [r for r in caplog.records if r.name == "chat.ratelimit"] == []


def test_new_chats_are_taken_while_the_cache_is_down(
    client, settings, online_reference, cache_down
):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "CHATS_PER_ADDRESS": 1}
    statuses = [
        client.post(
            "/widget/reference/chats",
            {"question": f"q{i}"},
            content_type="application/json",
            REMOTE_ADDR="198.51.100.9",
        ).status_code
        for i in range(2)
    ]
    assert statuses == [201, 201]
    assert Chat.objects.count() == 2


@pytest.fixture
def cache_hung():
    """The default cache, with the project's Redis options, on a server that accepts
    connections and never answers (Redis stuck, or a network that drops packets)."""
    import socket

    from django.conf import settings

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.getsockname()[1]}/0",
            "KEY_PREFIX": "libdesk-test-hung",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    try:
        with override_settings(CACHES=caches):
            yield
    finally:
        server.close()


def test_a_hung_cache_does_not_hang_the_rate_limit(cache_hung, caplog):
    """Without the socket timeouts redis-py waits forever for the answer: the limit
    would hold the patron's message (and its database thread) for good."""
    import threading

    from chat import ratelimit

    answers = []
    call = threading.Thread(
        target=lambda: answers.append(ratelimit.allow("test", "hung", limit=1, window_seconds=60)),
        daemon=True,
    )
    with caplog.at_level(logging.WARNING, logger="chat.ratelimit"):
        call.start()
        call.join(30)  # far above REDIS_CACHE_TIMEOUT (2 s): only a hang gets here
    assert answers == [True], "the call gave up and failed open"
    assert "cache unreachable" in caplog.text
