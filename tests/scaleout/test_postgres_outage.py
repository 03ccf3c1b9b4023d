"""PostgreSQL unreachable for a moment (a TCP proxy between one desk process and
PostgreSQL drops every connection and refuses new ones): the sender gets an error frame
it can retry, the socket stays open, and the retry after PostgreSQL is back is stored
once and delivered once."""

import asyncio
import time
from collections import Counter

from tests.scaleout.clients import acked
from tests.scaleout.test_two_processes import open_chat, open_operator


def about(client_id):
    return lambda f: f.get("client_id") == client_id and f["type"] in ("message.ack", "error")


async def send_until_acked(socket, frame, attempts=20):
    """The widget's retry: the same frame (same client id) until it is acknowledged;
    returns the error frames it got on the way and the ack."""
    errors = []
    for _ in range(attempts):
        start = len(socket.frames)
        t0 = time.monotonic()
        await socket.send(**frame)
        answer = await socket.wait_for(about(frame["client_id"]), after=start)
        print(frame["client_id"], answer["type"], f"{time.monotonic() - t0:.2f}s")
        if answer["type"] == "message.ack":
            return errors, answer
        errors.append(answer)
    raise AssertionError(f"never acknowledged: {errors[-3:]}")


async def test_postgresql_away_for_a_moment_sender_gets_a_retryable_error_and_retry_is_stored_once(
    desks, postgres_proxy, stored
):
    (direct,) = desks.start(1)
    # The patron's process reaches PostgreSQL through the proxy only; a short pool
    # timeout so that "unreachable" is answered in 2 s, not the default 10.
    (proxied,) = desks.start(1, DATABASE_URL=postgres_proxy.url, DB_POOL_TIMEOUT=2)
    operator = await open_operator(direct)
    chat, _token, patron = await open_chat(proxied, operator, "pg-q")
    await patron.send(type="message.send", client_id="pg-p0", body="first")
    await patron.wait_for(acked("pg-p0"))
    # Other patrons on the same process, sending at once: several of the process's
    # database threads now hold a (kept) connection that the cut will break.
    others = [(await open_chat(proxied, operator, f"pg-q{n}"))[2] for n in range(3)]

    async def send_from_all(prefix):
        async def one(n, socket):
            client_id = f"{prefix}-{n}"
            await socket.send(type="message.send", client_id=client_id, body=client_id)
            return await socket.wait_for(about(client_id))

        return await asyncio.gather(*(one(n, s) for n, s in enumerate(others)))

    for round_ in range(3):
        assert all(a["type"] == "message.ack" for a in await send_from_all(f"warm{round_}"))

    postgres_proxy.cut()
    frame = {"type": "message.send", "client_id": "pg-p1", "body": "are you still there?"}
    await patron.send(**frame)
    error = await patron.wait_for(about("pg-p1"))
    assert error["type"] == "error" and error["code"] == "unavailable", error
    assert error["message"]
    assert not patron.closed.is_set(), "an error frame, not a closed socket"

    postgres_proxy.restore()
    errors, ack = await send_until_acked(patron, frame)
    assert ack["duplicate"] is False  # nothing was stored while PostgreSQL was away
    assert all(e["code"] == "unavailable" for e in errors)
    # The connections the cut broke are dropped, not kept: once one call failed, every
    # database thread checks its kept connection before its next call, so after the first
    # acknowledgement no later send fails on a dead connection of another thread.
    later = []
    for i in range(2, 6):
        more, ack = await send_until_acked(
            patron, {"type": "message.send", "client_id": f"pg-p{i}", "body": f"and {i}"}
        )
        later += more
    answers = await send_from_all("after")
    later += [a for a in answers if a["type"] == "error"]
    assert later == [], later
    errors += later
    await operator.wait_for(
        lambda f: f["type"] == "message.new" and f["message"]["client_id"] == "pg-p5"
    )

    rows = stored(chat)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1)), "no seq gap"
    counts = Counter(client_id for _, client_id in rows)
    assert [counts[f"pg-p{i}"] for i in range(6)] == [1] * 6, "each stored once"
    delivered = Counter(m["client_id"] for m in operator.messages())
    assert [delivered[f"pg-p{i}"] for i in range(6)] == [1] * 6, "each delivered once"
    assert all(e["code"] == "unavailable" for e in errors)
    print(f"retries after PostgreSQL came back: {len(errors)} refused, then acknowledged")
