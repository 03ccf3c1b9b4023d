"""The desk's Redis channel layer (libdesk.channel_layer): publishes that wait at the
same moment share round trips, and every event still arrives once, in order."""

import asyncio
import shutil
import socket
import subprocess
import time

import pytest
import redis

from libdesk.channel_layer import PipelinedPubSubChannelLayer

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs redis-server (a server of its own)"
)


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, so that its counters are this test's alone."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)


class RoundTrips:
    """Socket reads the server serves (pipelined commands share one), counted on a
    connection of its own that stays open (a new one costs reads of its own)."""

    def __init__(self, url):
        self.client = redis.Redis.from_url(url)
        self.start = self._reads()

    def _reads(self) -> int:
        return int(self.client.info("stats")["total_reads_processed"])

    def since(self) -> int:
        """Reads since the start, less this counter's own INFO calls (one each)."""
        return self._reads() - self.start - 1


async def _received(layer, channel, count) -> list:
    return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(count)]


async def test_a_burst_of_events_arrives_in_order_in_fewer_round_trips(own_redis):
    layer = PipelinedPubSubChannelLayer(hosts=[own_redis], prefix="t")
    try:
        ours, theirs = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("chat-1", ours)
        await layer.group_add("chat-2", theirs)
        await layer.group_send("chat-3", {"type": "warm-up"})  # the connection opened
        trips = RoundTrips(own_redis)
        # 100 events sent at once by 100 tasks, as a busy process's sockets send them.
        await asyncio.gather(
            *(layer.group_send(f"chat-{1 + n % 2}", {"type": "x", "n": n}) for n in range(100))
        )
        used = trips.since()
        assert await _received(layer, ours, 50) == list(range(0, 100, 2))
        assert await _received(layer, theirs, 50) == list(range(1, 100, 2))
        # channels-redis alone: 100 PUBLISH round trips, one after the other.
        assert used <= 5, used
    finally:
        await layer.flush()


async def test_the_events_of_one_call_go_together_in_order(own_redis):
    layer = PipelinedPubSubChannelLayer(hosts=[own_redis], prefix="t")
    try:
        channel = await layer.new_channel()
        await layer.group_add("chat-7", channel)
        await layer.group_send("chat-3", {"type": "warm-up"})  # the connection opened
        trips = RoundTrips(own_redis)
        await layer.group_send_many([("chat-7", {"type": "x", "n": n}) for n in range(32)])
        assert trips.since() == 1
        assert await _received(layer, channel, 32) == list(range(32))
        # One alone, as before: sent at once.
        await layer.group_send("chat-7", {"type": "x", "n": 32})
        assert await _received(layer, channel, 1) == [32]
    finally:
        await layer.flush()


async def test_a_publish_that_cannot_reach_redis_raises_for_every_waiting_sender(own_redis):
    """The callers log it (chat.event_sending): the events are committed and the
    clients resume from the database; none waits for ever."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nobody = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    layer = PipelinedPubSubChannelLayer(
        hosts=[{"address": nobody, "socket_connect_timeout": 1}], prefix="t"
    )
    results = await asyncio.wait_for(
        asyncio.gather(
            *(layer.group_send("chat-1", {"type": "x", "n": n}) for n in range(5)),
            layer.group_send_many([("chat-1", {"type": "x"})]),
            return_exceptions=True,
        ),
        10,
    )
    assert [type(r).__name__ for r in results] == ["ConnectionError"] * 6
    await layer.flush()
