"""A socket that closes leaves nothing subscribed: every group it joined (at connect and
later: chats claimed and opened, departments) is left, on the in-memory layer and on
Redis pub/sub, where a group left by nobody stays a Redis channel for good (issue 15:
two cycles of 2,000 dashboards took Redis from 45 to 211 channels). And what a socket
may relay ends with its chat: a patron's typing in an ended chat reaches nobody."""

import asyncio
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from chat import services
from tests.chat.test_consumers import patron_socket, receive_until, staff_socket
from tests.chat.test_media_sockets import nothing_of
from tests.factories import DepartmentFactory, named_operator, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


def groups_held():
    """{group: its channels in this process} as the layer of this event loop keeps them
    (what decides, on pub/sub, whether the group's Redis channel stays subscribed)."""
    layer = get_channel_layer()
    named = ""  # pub/sub names a group's Redis channel "<prefix>__group__<group>"
    if hasattr(layer, "_get_layer"):  # RedisPubSubChannelLayer: one layer per event loop
        layer = layer._get_layer()
        named = f"{layer.prefix}__group__"
    return {
        group.removeprefix(named): set(channels)
        for group, channels in layer.groups.items()
        if channels
    }


def redis_channels():
    """The Redis pub/sub channels of this run's prefix (empty without Redis)."""
    if not getattr(settings, "REDIS_URL", ""):
        return set()
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return {name.decode() for name in client.pubsub_channels(f"{settings.CHANNELS_PREFIX}*")}
    finally:
        client.close()


async def settled(read, expected, seconds=10.0):
    """``read()`` once it equals ``expected`` (unsubscribing reaches Redis a moment
    after the call), or what it last was."""
    deadline = time.monotonic() + seconds
    while True:
        value = await asyncio.to_thread(read)
        if value == expected or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    maps = DepartmentFactory(name="Maps", slug="maps")
    alice = named_operator("alice", [reference, maps])
    bob = named_operator("bob", [reference])
    return reference, alice, bob


async def test_a_closed_dashboard_leaves_every_group_it_joined(desk):
    reference, alice, bob = desk
    before_groups, before_redis = groups_held(), await asyncio.to_thread(redis_channels)
    mine, _ = await database_sync_to_async(start_chat)(reference, name="Pat", client_id="m-1")
    await database_sync_to_async(services.chat_claim)(chat_id=mine.pk, operator=alice)
    waiting, _ = await database_sync_to_async(start_chat)(reference, name="Quinn", client_id="w-1")
    theirs, _ = await database_sync_to_async(start_chat)(reference, name="Ravi", client_id="t-1")
    await database_sync_to_async(services.chat_claim)(chat_id=theirs.pk, operator=bob)

    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    # Later in the socket's life: a chat claimed, another librarian's chat opened.
    await operator.send_json_to({"type": "chat.claim", "chat": str(waiting.public_id)})
    await receive_until(operator, "chat.opened")
    await operator.send_json_to({"type": "chat.open", "chat": str(theirs.public_id)})
    await receive_until(operator, "chat.opened")
    joined = {g for g, channels in groups_held().items() if channels - before_groups.get(g, set())}
    assert {
        "staff",
        f"dept-{reference.pk}",
        f"operator-{alice.pk}",
        f"user-{alice.user_id}",
        f"chat-{mine.pk}",
        f"chat-{waiting.pk}",
        f"chat-{theirs.pk}",
    } <= joined
    if settings.REDIS_URL:  # the pub/sub layer subscribed them in Redis
        assert await asyncio.to_thread(redis_channels) > before_redis

    await operator.disconnect()
    assert groups_held() == before_groups
    assert await settled(redis_channels, before_redis) == before_redis


async def test_a_closed_patron_socket_leaves_its_groups(desk):
    reference, alice, _bob = desk
    before_groups, before_redis = groups_held(), await asyncio.to_thread(redis_channels)
    watcher = await patron_socket()
    await watcher.send_json_to({"type": "watch", "department": "reference"})
    await receive_until(watcher, "presence")
    chat, token = await database_sync_to_async(start_chat)(reference, name="Pat")
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    assert {f"chat-{chat.pk}", f"dept-{reference.pk}-queue", f"dept-{reference.pk}-presence"} <= (
        set(groups_held())
    )
    await watcher.disconnect()
    await patron.disconnect()
    assert groups_held() == before_groups
    assert await settled(redis_channels, before_redis) == before_redis


async def test_a_patrons_typing_in_an_ended_chat_reaches_nobody(desk):
    reference, alice, _bob = desk
    chat, token = await database_sync_to_async(start_chat)(reference, name="Pat")
    await database_sync_to_async(services.chat_claim)(chat_id=chat.pk, operator=alice)
    operator = await staff_socket(alice.user)
    await receive_until(operator, "dashboard.state")
    patron = await patron_socket(token)
    await receive_until(patron, "welcome")
    await patron.send_json_to({"type": "typing", "active": True})
    typing, _ = await receive_until(operator, "typing")
    assert typing["name"] == "Pat"  # relayed while the chat is open

    await operator.send_json_to({"type": "chat.end", "chat": str(chat.public_id)})
    await receive_until(patron, "chat.ended")
    await asyncio.sleep(1.1)  # past the typing throttle: only the ended chat refuses it
    await patron.send_json_to({"type": "typing", "active": True})
    error, _ = await receive_until(patron, "error")
    assert error["code"] == "chat_ended"
    assert await nothing_of(operator, "typing")
    await patron.disconnect()
    await operator.disconnect()
