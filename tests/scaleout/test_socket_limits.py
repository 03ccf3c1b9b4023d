"""The per-address count of patron sockets (chat.socket_limits) across two Daphne
processes on Redis: one address's sockets count together wherever they land, and a
process killed with its sockets open stops counting once their leases run out (an
address is never blocked for ever)."""

import asyncio
import time

from websockets.exceptions import ConnectionClosed

from tests.scaleout.clients import Socket, of_type
from tests.scaleout.conftest import DEPARTMENT

LIMIT = 3
LEASE = 4


async def watching(desk) -> Socket:
    socket = await Socket.open(desk.url, "/ws/patron/")
    try:
        await socket.send(type="watch", department=DEPARTMENT)
    except ConnectionClosed:
        pass  # refused at once: its error frame was read before the close
    await socket.wait_for(lambda f: f["type"] in ("presence", "error"))
    return socket


def refused(socket) -> bool:
    return any(f.get("code") == "too_many_sockets" for f in socket.frames)


async def test_one_address_is_counted_across_processes_and_a_killed_one_frees_its_share(desks):
    one, two = desks.start(2, LIMIT_SOCKETS_PER_ADDRESS=LIMIT, LIMIT_SOCKET_LEASE_SECONDS=LEASE)
    on_one = [await watching(one), await watching(one)]
    on_two = [await watching(two)]
    assert not any(refused(s) for s in on_one + on_two)
    assert all(of_type("presence")(s.frames[0]) for s in on_one + on_two)

    # The limit is the address's, not the process's: a fourth socket is refused on both.
    for desk in (one, two):
        extra = await watching(desk)
        assert refused(extra), extra.frames
        await asyncio.wait_for(extra.closed.wait(), 10)
        assert extra.ws.close_code == 4429

    # Sockets that stay open keep their places past their lease (their process renews it).
    await asyncio.sleep(LEASE + 1)
    assert refused(await watching(two))

    # Kill process one with its two sockets open: no disconnect ever reaches Redis.
    one.kill()
    started = time.monotonic()
    while True:
        socket = await watching(two)
        if not refused(socket):
            break
        assert time.monotonic() - started < LEASE * 3, "the killed process's sockets still count"
        await asyncio.sleep(0.5)
    # Its two places came back (one taken just now, one left); no more than that.
    assert not refused(await watching(two))
    assert refused(await watching(two))
