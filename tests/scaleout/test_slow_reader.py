"""A dashboard that stops reading its socket (a tiny receive buffer, never read) holds
up nobody: while its frames pile up, the patron and the operator of the chat it watches
go on exchanging large messages across two processes, every one delivered once."""

import asyncio
import json
import socket

from websockets.asyncio.client import connect

from tests.scaleout.clients import acked, login_cookie
from tests.scaleout.test_two_processes import open_chat, open_operator

BODY = "x" * 3000  # large frames fill the stalled socket's buffers quickly


async def test_a_dashboard_that_stops_reading_holds_up_nobody(desks, stored):
    # 40 messages in a burst: more than a patron may send per minute by default.
    one, two = desks.start(2, LIMIT_PATRON_MESSAGES_PER_MINUTE=100000)
    operator = await open_operator(two)
    chat, _token, patron = await open_chat(one, operator, "s-q")

    # Bob's dashboard, on the patron's process, opens the chat and then never reads.
    cookie = await asyncio.to_thread(login_cookie, one.url, "bob", "bob-desk-demo")
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", one.port))
    stalled = await connect(
        one.url.replace("http://", "ws://") + "/ws/staff/",
        sock=raw,
        origin=one.url,
        additional_headers={"Cookie": cookie},
        max_queue=1,
        max_size=2**22,
    )
    try:
        await stalled.recv()  # dashboard.state
        await stalled.send(json.dumps({"type": "chat.open", "chat": chat, "after_seq": 0}))

        count = 40  # 2 x 40 x 3 kB: far more than the stalled socket's buffers hold
        for i in range(count):
            await patron.send(type="message.send", client_id=f"s-p{i}", body=BODY)
            await operator.send(type="message.send", chat=chat, client_id=f"s-o{i}", body=BODY)
        await patron.wait_for(acked(f"s-p{count - 1}"))
        everything = [f"s-p{i}" for i in range(count)] + [f"s-o{i}" for i in range(count)]
        for socket_ in (operator, patron):  # the other side's messages and its own echoes
            for client_id in everything:
                await socket_.wait_for(
                    lambda f, c=client_id: (
                        f["type"] == "message.new" and f["message"]["client_id"] == c
                    )
                )
    finally:
        stalled.transport.abort()
        raw.close()

    rows = stored(chat)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    for socket_ in (patron, operator):
        seqs = [m["seq"] for m in socket_.messages()]
        assert len(seqs) == len(set(seqs)) == len(rows), "every message, once"
