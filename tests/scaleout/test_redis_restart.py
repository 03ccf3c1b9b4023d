"""Redis restarted mid-conversation (a private redis-server, killed and started again on
its port): sends during the outage are refused with a retryable error or stored without
a broadcast; after recovery the clients resume from the database and nothing is lost or
doubled, and messages cross live again."""

import asyncio
from collections import Counter

import redis

from tests.scaleout.clients import floor_seq
from tests.scaleout.test_postgres_outage import send_until_acked
from tests.scaleout.test_two_processes import open_chat, open_operator


async def wait_until(predicate, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_redis_restarted_mid_conversation_nothing_lost_after_recovery(
    desks, private_redis, stored
):
    one, two = desks.start(2, REDIS_URL=private_redis.url)
    operator = await open_operator(two)
    chat, token, patron = await open_chat(one, operator, "r-q")
    await patron.send(type="message.send", client_id="r-p0", body="hello")
    await operator.send(type="message.send", chat=chat, client_id="r-o0", body="hi")
    await operator.wait_for(
        lambda f: f["type"] == "message.new" and f["message"]["client_id"] == "r-p0"
    )
    await patron.wait_for(
        lambda f: f["type"] == "message.new" and f["message"]["client_id"] == "r-o0"
    )
    client = redis.Redis.from_url(private_redis.url)
    subscribed = set(client.pubsub_channels())
    client.close()

    private_redis.stop()
    # Mid-conversation, with Redis gone: each side sends (the frame is answered: stored
    # without a broadcast, or refused with "unavailable").
    p1 = {"type": "message.send", "client_id": "r-p1", "body": "still there?"}
    o1 = {"type": "message.send", "chat": chat, "client_id": "r-o1", "body": "one moment"}
    await patron.send(**p1)
    await operator.send(**o1)
    await patron.wait_for(lambda f: f.get("client_id") == "r-p1")
    await operator.wait_for(lambda f: f.get("client_id") == "r-o1")
    await asyncio.sleep(0.5)
    private_redis.start()

    # Both processes subscribe again by themselves (the pub/sub layer reconnects).
    client = redis.Redis.from_url(private_redis.url)
    await wait_until(lambda: subscribed <= set(client.pubsub_channels()))
    client.close()
    # The clients resume: the outbox is sent again until acknowledged; the patron's
    # ping says the chat's last seq, the dashboard asks for what follows its last one.
    await send_until_acked(patron, p1)
    await send_until_acked(operator, o1)
    start = len(patron.frames)
    await patron.send(type="ping")
    pong = await patron.wait_for(lambda f: f["type"] == "pong", after=start)
    if pong["last_seq"] > max(m["seq"] for m in patron.messages()):
        start = len(patron.frames)
        await patron.send(type="hello", token=token, last_seq=floor_seq(patron.messages()))
        await patron.wait_for(lambda f: f["type"] == "welcome", after=start)
    start = len(operator.frames)
    await operator.send(type="chat.open", chat=chat, after_seq=floor_seq(operator.messages()))
    await operator.wait_for(lambda f: f["type"] == "chat.opened", after=start)

    # And messages cross live again.
    await patron.send(type="message.send", client_id="r-p2", body="thanks")
    await operator.send(type="message.send", chat=chat, client_id="r-o2", body="you're welcome")
    for socket in (patron, operator):  # each side gets the other's and its own echo
        for client_id in ("r-p2", "r-o2"):
            await socket.wait_for(
                lambda f, c=client_id: f["type"] == "message.new" and f["message"]["client_id"] == c
            )

    rows = stored(chat)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1)), "no seq gap"
    counts = Counter(client_id for _, client_id in rows)
    sent = ["r-p0", "r-p1", "r-p2", "r-o0", "r-o1", "r-o2"]
    assert {c: counts[c] for c in sent} == dict.fromkeys(sent, 1), "each stored once"
    for socket in (patron, operator):
        seqs = Counter(m["seq"] for m in socket.messages())
        assert max(seqs.values()) == 1, "each socket sends a seq once"
        assert set(seqs) == {seq for seq, _ in rows}, "nothing lost"
