"""Two Daphne processes on PostgreSQL + Redis: a patron on one, an operator on the other.
Messages cross both ways, in order, once; SIGKILL the patron's process mid-conversation
and the patron resumes on the other with nothing lost or doubled."""

import asyncio
from collections import Counter

from tests.scaleout.clients import Socket, acked, floor_seq, login_cookie, of_type, start_chat
from tests.scaleout.conftest import DEPARTMENT, OPERATOR


async def open_operator(desk) -> Socket:
    cookie = await asyncio.to_thread(login_cookie, desk.url, *OPERATOR)
    operator = await Socket.open(desk.url, "/ws/staff/", cookie)
    await operator.wait_for(of_type("dashboard.state"))
    await operator.send(type="presence.set", status="online")
    return operator


async def open_chat(patron_desk, operator, question_id):
    """A patron's chat started on ``patron_desk``, claimed by ``operator``; returns the
    chat's id, its token and the patron's socket (said hello)."""
    chat = await asyncio.to_thread(
        start_chat, patron_desk.url, DEPARTMENT, "A question", question_id
    )
    await operator.send(type="chat.claim", chat=chat["chat"])
    await operator.wait_for(
        lambda f: f["type"] == "chat.opened" and f["chat"]["id"] == chat["chat"]
    )
    patron = await Socket.open(patron_desk.url, "/ws/patron/")
    await patron.send(type="hello", token=chat["token"], last_seq=0)
    await patron.wait_for(of_type("welcome"))
    return chat["chat"], chat["token"], patron


def has_live(client_id):
    return lambda f: f["type"] == "message.new" and f["message"]["client_id"] == client_id


def live_client_ids(socket):
    return [f["message"]["client_id"] for f in socket.frames if f["type"] == "message.new"]


async def test_messages_cross_between_two_processes_in_order_once(desks, stored):
    one, two = desks.start(2)
    operator = await open_operator(two)
    chat, _token, patron = await open_chat(one, operator, "x-q")

    for i in range(3):
        await patron.send(type="message.send", client_id=f"x-p{i}", body=f"patron {i}")
        await operator.send(
            type="message.send", chat=chat, client_id=f"x-o{i}", body=f"librarian {i}"
        )
    for socket in (patron, operator):  # the other side's messages and its own echoes
        for client_id in [f"x-p{i}" for i in range(3)] + [f"x-o{i}" for i in range(3)]:
            await socket.wait_for(has_live(client_id))

    rows = stored(chat)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))
    ours = [c for _, c in rows if c.startswith("x-") and c != "x-q"]
    assert sorted(ours) == sorted([f"x-p{i}" for i in range(3)] + [f"x-o{i}" for i in range(3)])
    for socket in (patron, operator):
        live = [f["message"] for f in socket.frames if f["type"] == "message.new"]
        seqs = [m["seq"] for m in live]
        assert len(seqs) == len(set(seqs)), "each socket gets each message once"
        assert set(ours) <= set(live_client_ids(socket)), "both sides see both sides' messages"
        # One sender's messages arrive in order. Two senders on two processes publish
        # independently, so seq 5 may overtake seq 4: clients place messages by seq.
        for sender in ("patron", "operator"):
            mine = [m["seq"] for m in live if m["sender"] == sender]
            assert mine == sorted(mine)


async def test_sigkill_mid_conversation_patron_resumes_on_the_other_process(desks, stored):
    one, two = desks.start(2)
    operator = await open_operator(two)
    chat, token, patron = await open_chat(one, operator, "k-q")
    outbox = {}  # client_id -> body, until acknowledged (the widget's outbox)

    async def patron_says(socket, client_id):
        outbox[client_id] = f"patron says {client_id}"
        await socket.send(type="message.send", client_id=client_id, body=outbox[client_id])

    for i in range(2):
        await patron_says(patron, f"k-p{i}")
        await operator.send(type="message.send", chat=chat, client_id=f"k-o{i}", body=f"o{i}")
    for i in range(2):
        await patron.wait_for(acked(f"k-p{i}"))
        await operator.wait_for(acked(f"k-o{i}"))

    # Mid-conversation: two more from the patron, in flight when its process dies.
    await patron_says(patron, "k-p2")
    await patron_says(patron, "k-p3")
    one.kill()
    await patron.closed.wait()
    await operator.send(type="message.send", chat=chat, client_id="k-o2", body="are you there?")
    await operator.wait_for(acked("k-o2"))
    for frame in patron.frames:
        if frame["type"] == "message.ack":
            outbox.pop(frame["client_id"], None)

    # The widget reconnects (to the surviving process), says the last seq it has and
    # sends its outbox again with the same client ids.
    resumed = await Socket.open(two.url, "/ws/patron/")
    await resumed.send(type="hello", token=token, last_seq=floor_seq(patron.messages()))
    await resumed.wait_for(of_type("welcome"))
    for client_id, body in list(outbox.items()):
        await resumed.send(type="message.send", client_id=client_id, body=body)
    for client_id in list(outbox):
        await resumed.wait_for(acked(client_id))
    await patron_says(resumed, "k-p4")
    await operator.send(type="message.send", chat=chat, client_id="k-o3", body="welcome back")
    for socket in (resumed, operator):
        for client_id in ("k-p4", "k-o3"):
            await socket.wait_for(has_live(client_id))

    rows = stored(chat)
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1)), "no seq gap"
    counts = Counter(client_id for _, client_id in rows)
    sent = [f"k-p{i}" for i in range(5)] + [f"k-o{i}" for i in range(4)]
    assert {c: counts[c] for c in sent} == dict.fromkeys(sent, 1), "each message stored once"
    all_seqs = {seq for seq, _ in rows}

    # The operator (never disconnected) got every message once, by seq.
    operator_seqs = Counter(m["seq"] for m in operator.messages())
    assert max(operator_seqs.values()) == 1
    assert set(operator_seqs) == all_seqs
    # The patron: each socket sent a seq at most once, and the two together everything.
    for socket in (patron, resumed):
        assert max(Counter(m["seq"] for m in socket.messages()).values()) == 1
    patron_seqs = {m["seq"] for m in patron.messages() + resumed.messages()}
    assert patron_seqs == all_seqs
    await resumed.close()
    await operator.close()
