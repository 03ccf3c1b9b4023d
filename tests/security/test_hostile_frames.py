"""Real hostile input (tests/realworld.py) through the sockets, on the real router.

Every frame gets an answer: a message is stored exactly as sent (trimmed) and reaches
the other side's screen as the same text, or it is refused with an error frame naming
what is wrong (``bad_characters`` for NUL and lone surrogates, whatever the field);
never a silent socket, never a closed one. Deeply nested and over-long frames get a
clear error too. The corpus is looped inside each test (naming the failing string).
"""

import json

import pytest
from channels.db import database_sync_to_async as db

from chat import services
from chat.models import Chat, InternalMessage, Message
from chat.text import refused_character
from tests.chat.test_consumers import patron_socket, receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat
from tests.realworld import HOSTILE_EXTRAS, hostile_strings
from tests.security.test_frame_schema import PATRON_FRAMES, STAFF_FRAMES

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10
HOSTILE = hostile_strings()


def refused_by_rule(value: str) -> bool:
    return refused_character(value) is not None


def storable(value: str) -> bool:
    return not refused_by_rule(value) and 0 < len(value.strip()) <= 4000


def wire(frame: dict) -> str:
    """A frame as a browser's JSON.stringify sends it (lone surrogates as escapes)."""
    return json.dumps(frame)


MAX_FRAME = 16384  # MAX_FRAME_BYTES: a larger frame is refused unread (no client_id)


async def send_and_answer(communicator, frame, types):
    """Send ``frame``; the first frame that answers it (its ack or error, by client id;
    ``frame_too_large`` for a frame past the limit), skipping others."""
    text = wire(frame)
    await communicator.send_to(text_data=text)
    too_large = len(text) > MAX_FRAME
    while True:
        answer = await communicator.receive_json_from(timeout=TIMEOUT)
        if too_large and answer.get("code") == "frame_too_large":
            return answer
        if answer.get("client_id") == frame["client_id"] and answer["type"] in types:
            return answer


@pytest.fixture
def desk(db, settings):
    settings.LIBDESK_LIMITS = {**settings.LIBDESK_LIMITS, "PATRON_MESSAGES_PER_MINUTE": 10**6}
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    chat, token = start_chat(reference, question="Atlases?", client_id="first")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    return {"reference": reference, "alice": alice, "chat": chat, "token": token}


async def test_patron_messages_are_stored_as_sent_and_reach_the_dashboard_as_sent(desk):
    """The whole corpus as patron messages: acked and stored as typed, and the
    librarian's socket receives the very same text; or refused with an error frame."""
    patron = await patron_socket(desk["token"])
    await receive_until(patron, "welcome")
    staff = await staff_socket(desk["alice"].user)
    await receive_until(staff, "dashboard.state")
    failures, sent = [], {}
    for n, value in enumerate(HOSTILE):
        client_id = f"h-{n}"
        frame = {"type": "message.send", "client_id": client_id, "body": value}
        try:
            answer = await send_and_answer(patron, frame, {"message.ack", "error"})
        except TimeoutError:  # the communicator stops the app on a timeout: stop here too
            failures.append(f"{value[:50]!r}: no answer at all (silent socket)")
            break
        if answer["type"] == "message.ack":
            if refused_by_rule(value):
                failures.append(f"{value[:50]!r}: acked despite NUL/surrogate")
            sent[answer["seq"]] = value
        elif storable(value):
            failures.append(f"{value[:50]!r}: refused ({answer['code']}) though storable")
        elif refused_by_rule(value) and answer["code"] != "bad_characters":
            failures.append(f"{value[:50]!r}: refused as {answer['code']}, not bad_characters")
        elif not answer.get("message"):
            failures.append(f"{value[:50]!r}: an error frame without a message")
    # What the librarian's dashboard received live: the same text, in order.
    live = {}
    while len(live) < len(sent):
        try:
            frame = await staff.receive_json_from(timeout=TIMEOUT)
        except TimeoutError:
            break
        if frame["type"] == "message.new":
            live[frame["message"]["seq"]] = frame["message"]["body"]
    stored = await db(
        lambda: dict(
            Message.objects.filter(chat=desk["chat"], seq__in=list(sent)).values_list("seq", "body")
        )
    )()
    for seq, value in sent.items():
        if stored.get(seq) != value.strip():
            failures.append(f"{value[:50]!r}: stored as {stored.get(seq, '')[:50]!r}")
        if live.get(seq) != value.strip():
            failures.append(f"{value[:50]!r}: the dashboard got {live.get(seq, '')[:50]!r}")
    assert len(sent) > 400, f"only {len(sent)} of {len(HOSTILE)} strings were stored"
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])
    await patron.disconnect()
    await staff.disconnect()


async def test_staff_and_internal_messages_with_the_corpus(desk):
    from chat.services import internal

    def online_bob():
        from tests.chat.staffing import bring_online

        bob = OperatorFactory(user=UserFactory(username="bob"), departments=[desk["reference"]])
        bring_online(bob)
        return bob

    bob = await db(online_bob)()
    started = await db(
        lambda: internal.internal_start(
            operator=desk["alice"],
            to_operator_id=bob.pk,
            to_department_id=None,
            about_chat=None,
            body="Hi",
            client_id="i-0",
        )
    )()
    staff = await staff_socket(desk["alice"].user)
    await receive_until(staff, "dashboard.state")
    chat_id = str(desk["chat"].public_id)
    failures = []
    for n, value in enumerate(HOSTILE):
        frames = (
            ({"type": "message.send", "chat": chat_id}, "message.ack", Message, "chat"),
            (
                {"type": "internal.send", "internal": str(started.public_id)},
                "internal.ack",
                InternalMessage,
                "internal_chat",
            ),
        )
        kind = frames[n % 2]  # each string once, alternating between the two
        frame, ack, model, parent = kind
        client_id = f"s-{n}"
        try:
            answer = await send_and_answer(
                staff, {**frame, "client_id": client_id, "body": value}, {ack, "error"}
            )
        except TimeoutError:
            failures.append(f"{value[:50]!r}: {frame['type']}: no answer (silent socket)")
            break
        if answer["type"] == ack:
            body = await db(
                lambda model=model, client_id=client_id: model.objects.get(client_id=client_id).body
            )()
            if refused_by_rule(value) or body != value.strip():
                failures.append(f"{value[:50]!r}: {frame['type']} stored as {body[:50]!r}")
        elif storable(value):
            failures.append(f"{value[:50]!r}: {frame['type']} refused ({answer['code']})")
        elif refused_by_rule(value) and answer["code"] != "bad_characters":
            failures.append(f"{value[:50]!r}: refused as {answer['code']}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])
    await staff.disconnect()


def _inputs(table, kinds, desk_values):
    """(frame type, base frame, field) for every string field of every frame type, and
    one field nobody expects ("extra")."""
    for kind in kinds:
        base = table[kind][0](desk_values)
        for field in [f for f, v in base.items() if isinstance(v, str)] + ["extra"]:
            yield kind, base, field


async def _every_field(communicator, table, kinds, desk_values, failures, who):
    """Each listed string to one field in turn (the corpus covers every field several
    times over), and the extras (NUL, surrogates, RTL, over-long, nested) to each."""
    inputs = list(_inputs(table, kinds, desk_values))
    cases = [(inputs[n % len(inputs)], value) for n, value in enumerate(HOSTILE)]
    cases += [(where, value) for where in inputs for value in HOSTILE_EXTRAS]
    for (kind, base, field), value in cases:
        frame = {**base, "type": kind, field: value, "ref": "r"}
        if len(wire(frame)) > 16000:
            frame[field] = value[:3000]
        await communicator.send_to(text_data=wire(frame))
        await communicator.send_json_to({"type": "ping"})
        refused = refused_by_rule(frame[field])
        pongs = 2 if kind == "ping" and not refused else 1  # a ping with extras is a ping
        replies = []
        try:
            while sum(r["type"] == "pong" for r in replies) < pongs:
                replies.append(await communicator.receive_json_from(timeout=TIMEOUT))
        except TimeoutError:
            failures.append(f"{who} {kind}.{field} = {value[:40]!r}: no pong (closed?)")
            return
        errors = [r for r in replies if r["type"] == "error"]
        if refused and not any(
            e["code"] == "bad_characters" and e.get("field") == field for e in errors
        ):
            failures.append(f"{who} {kind}.{field} = {value[:40]!r}: got {replies}")
        if any(not e.get("message") for e in errors):
            failures.append(f"{who} {kind}.{field}: an error frame without a message")


async def test_every_text_field_of_every_frame_type_answers(desk):
    """Names, ids, notes, statuses, tokens, departments, SDP…: every string field of
    every frame (and a field nobody expects), with the hostile sample. Each frame is
    followed by a ping: the pong proves the socket still answers."""
    patron_values = {
        "token": desk["token"],
        "active": str(desk["chat"].public_id),
        "waiting": "",
        "bob": desk["alice"].pk,
        "internal": "",
    }
    failures = []
    patron = await patron_socket(desk["token"])
    await receive_until(patron, "welcome")
    kinds = sorted(k for k in PATRON_FRAMES if k not in ("chat.delete", "chat.end", "hello"))
    await _every_field(patron, PATRON_FRAMES, kinds, patron_values, failures, "patron")
    await patron.disconnect()

    staff = await staff_socket(desk["alice"].user)
    await receive_until(staff, "dashboard.state")
    kinds = sorted(k for k in STAFF_FRAMES if k not in ("chat.end", "chat.close"))
    await _every_field(staff, STAFF_FRAMES, kinds, patron_values, failures, "staff")
    await staff.disconnect()
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:20])
    chat = await db(lambda: Chat.objects.get(pk=desk["chat"].pk))()
    assert chat.status == Chat.Status.ACTIVE  # nothing hostile ended it


async def test_hello_with_hostile_tokens_is_refused_with_a_frame(desk):
    for value in (*HOSTILE_EXTRAS, *HOSTILE[::25]):
        patron = await patron_socket()
        await patron.send_to(text_data=wire({"type": "hello", "token": value}))
        frame = await patron.receive_json_from(timeout=TIMEOUT)
        assert frame["type"] == "error", (value[:40], frame)
        expected = "bad_characters" if refused_by_rule(value) else "bad_token"
        if len(value) > 16000:
            expected = "frame_too_large"  # MAX_FRAME_BYTES is checked first
        assert frame["code"] == expected, (value[:40], frame)
        await patron.disconnect()


@pytest.mark.parametrize("kind", ["patron", "staff"])
async def test_nested_and_over_long_frames_get_an_error_and_the_socket_stays(desk, kind):
    if kind == "patron":
        communicator = await patron_socket(desk["token"])
        await receive_until(communicator, "welcome")
    else:
        communicator = await staff_socket(desk["alice"].user)
        await receive_until(communicator, "dashboard.state")
    frames = {
        '{"type": "ping", "a": ' + "[" * 7000 + "]" * 7000 + "}": "too_deep",
        "[" * 15000: "too_deep",
        '{"type": "message.send", "body": ' + '{"a": ' * 2000 + "1" + "}" * 2001: "too_deep",
        '{"a":[[[[' + "[" * 100_000 + "]" * 100_004 + "}": "frame_too_large",
        '{"type": "message.send", "body": "' + "a" * 100_000 + '"}': "frame_too_large",
        '{"type": "ping", "n": 1' + "0" * 5000 + "}": "bad_json",
    }
    for text, code in frames.items():
        await communicator.send_to(text_data=text)
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        assert (frame["type"], frame["code"]) == ("error", code), (text[:30], frame)
        assert frame["message"]
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "pong"
    await communicator.disconnect()
