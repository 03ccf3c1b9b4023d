"""Sockets come and go; the desk does not grow (issue 15): after cycles of dashboards
and widgets opened and closed on two Daphne processes (PostgreSQL + Redis pub/sub),
Redis holds no more pub/sub channels and each process no more file descriptors than
before, and no consumer ended in an exception. benchmarks/socket_soak.py is the same
at thousands of sockets, with RSS."""

import asyncio
import os
import time

import redis

from tests.scaleout.clients import Socket, login_cookie, of_type, start_chat
from tests.scaleout.conftest import DEPARTMENT, OPERATOR, REDIS_URL

WAVE = 20  # sockets open at once
CYCLES = 3
# A process's descriptors also hold its pools (database threads' connections, the channel
# layer's and cache's Redis connections), which open and close on their own schedule: a
# reading may sit a few above the baseline. A leak grows with every socket (each cycle
# opens hundreds), far past this, cycle after cycle.
POOL_SLACK_FDS = 16


def redis_channels(prefix):
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return sorted(name.decode() for name in client.pubsub_channels(f"{prefix}*"))
    finally:
        client.close()


def open_fds(desk):
    return len(os.listdir(f"/proc/{desk.process.pid}/fd"))


async def first_frame_then_close(desk, path, cookie, frames, answer):
    socket = await Socket.open(desk.url, path, cookie)
    try:
        for frame in frames:
            await socket.send(**frame)
        await socket.wait_for(of_type(answer))
    finally:
        await socket.close()


async def one_cycle(desks, cookie, tokens):
    """WAVE dashboards, then WAVE widgets (some watching first), across both processes,
    twice; each gets its first frame and closes."""
    for _ in range(2):
        await asyncio.gather(
            *(
                first_frame_then_close(desks[i % 2], "/ws/staff/", cookie, [], "dashboard.state")
                for i in range(WAVE)
            )
        )
        jobs = []
        for i in range(WAVE):
            frames = [{"type": "hello", "token": tokens[i % len(tokens)], "last_seq": 0}]
            if i % 2:
                frames.insert(0, {"type": "watch", "department": DEPARTMENT})
            jobs.append(
                first_frame_then_close(desks[i % 2], "/ws/patron/", None, frames, "welcome")
            )
        await asyncio.gather(*jobs)


async def settled(read, done, seconds=15.0):
    """``read()`` once ``done`` accepts it (closing reaches Redis and the process a
    moment later), or what it last was."""
    deadline = time.monotonic() + seconds
    while True:
        value = await asyncio.to_thread(read)
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.25)


async def test_sockets_that_come_and_go_leave_nothing_behind(desks):
    one, two = desks.start(2, PRESENCE_GRACE_SECONDS=0)
    cookie = await asyncio.to_thread(login_cookie, one.url, *OPERATOR)
    operator = await Socket.open(one.url, "/ws/staff/", cookie)
    await operator.wait_for(of_type("dashboard.state"))
    await operator.send(type="presence.set", status="online")
    tokens = []
    for i in range(3):
        chat = await asyncio.to_thread(start_chat, two.url, DEPARTMENT, f"Soak {i}", f"soak-{i}")
        tokens.append(chat["token"])
    await operator.close()

    await one_cycle((one, two), cookie, tokens)  # warm-up: database threads, caches
    await asyncio.sleep(1.0)
    channels = await asyncio.to_thread(redis_channels, desks.prefix)
    fds = [open_fds(desk) for desk in (one, two)]

    readings = ([], [])
    for _ in range(CYCLES):
        await one_cycle((one, two), cookie, tokens)
        now = await settled(lambda: redis_channels(desks.prefix), lambda v: v == channels)
        assert now == channels
        for desk, before, seen in zip((one, two), fds, readings, strict=True):
            now = await settled(lambda desk=desk: open_fds(desk), lambda v, b=before: v <= b)
            assert now <= before + POOL_SLACK_FDS, (before, now)
            seen.append(now)
    for before, seen in zip(fds, readings, strict=True):
        # No growth from cycle to cycle beyond what the pools may hold at one moment.
        assert max(seen) - min(seen + [before]) <= POOL_SLACK_FDS, (before, seen)
    for desk in (one, two):
        assert "Exception inside application" not in desk.log(), desk.log()[-3000:]
