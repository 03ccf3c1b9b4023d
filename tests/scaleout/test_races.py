"""Races between two Daphne processes on PostgreSQL + Redis: the same chat start sent to
both at once makes one chat (issue 15, failure 10), and one operator's claims sent to
both at once stop at their chat limit (failure 11)."""

import asyncio
import json
import urllib.error
import urllib.request
import uuid

import psycopg

from tests.racing import at_once
from tests.scaleout.clients import TIMEOUT, Socket, login_cookie, of_type, start_chat
from tests.scaleout.conftest import DEPARTMENT, OPERATOR


async def open_operator(desk) -> Socket:
    cookie = await asyncio.to_thread(login_cookie, desk.url, *OPERATOR)
    socket = await Socket.open(desk.url, "/ws/staff/", cookie)
    await socket.wait_for(of_type("dashboard.state"))
    await socket.send(type="presence.set", status="online")
    await socket.wait_for(
        lambda f: f["type"] == "presence.changed" and f["operator"]["status"] == "online"
    )
    return socket


def post_start(url, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/widget/{DEPARTMENT}/chats", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def chats_asking(database_url, question) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.public_id FROM chat_chat c JOIN chat_message m ON m.chat_id = c.id"
            " WHERE m.seq = 1 AND m.body = %s",
            (question,),
        ).fetchall()
    return [str(public_id) for (public_id,) in rows]


async def test_one_start_sent_to_two_processes_at_once_makes_one_chat(desks, scaleout_database):
    one, two = desks.start(2)
    operator = await open_operator(one)  # the department is online on both processes
    await asyncio.to_thread(start_chat, two.url, DEPARTMENT, "Anyone there?", uuid.uuid4().hex)
    for round_ in range(8):
        question = f"Race {round_}: do you hold the 1902 atlas? {uuid.uuid4().hex[:6]}"
        body = json.dumps({"question": question, "name": "Pat", "client_id": uuid.uuid4().hex})
        answers = await asyncio.to_thread(
            at_once,
            [lambda d=desk, b=body: post_start(d.url, b.encode()) for desk in (one, two)],
        )
        assert [status for status, _ in answers] == [201, 201], answers
        assert answers[0][1] == answers[1][1], "the same chat and the same token to both"
        assert chats_asking(scaleout_database, question) == [answers[0][1]["chat"]]
    await operator.close()


def set_chat_limit(database_url, username, headroom) -> int | None:
    """The operator's limit set to their active chats now + ``headroom`` (the module's
    database is shared by its tests, which leave chats open); returns that limit."""
    with psycopg.connect(database_url) as conn:
        if headroom is None:
            conn.execute(
                "UPDATE chat_operator SET max_chats = NULL WHERE user_id ="
                " (SELECT id FROM auth_user WHERE username = %s)",
                (username,),
            )
            return None
        (active,) = conn.execute(
            "SELECT count(*) FROM chat_chat c JOIN chat_operator o ON o.id = c.operator_id"
            " JOIN auth_user u ON u.id = o.user_id WHERE u.username = %s AND c.status = 'active'",
            (username,),
        ).fetchone()
        conn.execute(
            "UPDATE chat_operator SET max_chats = %s WHERE user_id ="
            " (SELECT id FROM auth_user WHERE username = %s)",
            (active + headroom, username),
        )
        return active + headroom


def active_chats_of(database_url, username) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM chat_chat c JOIN chat_operator o ON o.id = c.operator_id"
            " JOIN auth_user u ON u.id = o.user_id WHERE u.username = %s AND c.status = 'active'",
            (username,),
        ).fetchone()[0]


async def test_one_operators_claims_raced_on_two_processes_stop_at_the_limit(
    desks, scaleout_database
):
    one, two = desks.start(2)
    on_one = await open_operator(one)
    on_two = await open_operator(two)
    chats = [
        (
            await asyncio.to_thread(
                start_chat, (one, two)[i % 2].url, DEPARTMENT, f"Limit {i}?", uuid.uuid4().hex
            )
        )["chat"]
        for i in range(8)
    ]
    limit = set_chat_limit(scaleout_database, OPERATOR[0], headroom=2)
    try:
        # Four claims on each process, of different chats, sent together.
        for i, chat in enumerate(chats):
            socket = (on_one, on_two)[i % 2]
            await socket.send(type="chat.claim", chat=chat, ref=f"claim-{i}")

        def answer_to(i):
            def answered(frame):
                opened = frame["type"] == "chat.opened" and frame["chat"]["id"] == chats[i]
                return opened or (frame["type"] == "error" and frame.get("ref") == f"claim-{i}")

            return answered

        answers = [await (on_one, on_two)[i % 2].wait_for(answer_to(i)) for i in range(8)]
        refused = [a for a in answers if a["type"] == "error"]
        assert len(answers) - len(refused) == 2, answers
        assert {a["code"] for a in refused} == {"chat_limit"}
        assert f"your limit is {limit}" in refused[0]["message"]
        assert active_chats_of(scaleout_database, OPERATOR[0]) == limit
    finally:
        set_chat_limit(scaleout_database, OPERATOR[0], headroom=None)
        await on_one.close()
        await on_two.close()
