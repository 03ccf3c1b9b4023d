"""Every field of every websocket frame is type-checked: wrong types, huge strings and
out-of-range numbers get an error frame, the socket stays open (no 1011, no exception)
and the database does not change.

FRAMES below is the schema the fuzzing follows: for each frame type the consumers
accept, a valid frame (built from the test desk) and which of its fields are required.
A frame type a consumer accepts but FRAMES does not list fails
``test_every_frame_type_has_a_schema_entry``: add its fields here when you add a frame.
"""

import json

import pytest
from channels.db import database_sync_to_async as db
from django.apps import apps

from chat import consumers, services
from tests.chat.test_consumers import patron_socket, receive_until, staff_socket
from tests.factories import DepartmentFactory, OperatorFactory, UserFactory, start_chat

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 10

HUGE = "x" * 9000  # under MAX_FRAME_BYTES, over every field's limit
BAD_VALUES = [[], {"$gt": ""}, HUGE, -1, 10**20, 1.5, True]
# Expected refusals: a clear error, never a crash.
ERROR_CODES = {"invalid", "not_found", "too_long", "empty", "no_client_id", "bad_token"}

# frame type -> (base frame from the desk ``d``, required fields). Optional fields may be
# None or absent; every listed field is fuzzed.
PATRON_FRAMES = {
    "hello": (lambda d: {"token": d["token"], "last_seq": 0}, {"token"}),
    "message.send": (lambda d: {"client_id": "p-9", "body": "Thanks"}, {"client_id", "body"}),
    "chat.end": (lambda d: {}, set()),
    "ping": (lambda d: {}, set()),
    "watch": (lambda d: {"department": "reference"}, {"department"}),
    # Issue 7 (chat.consumers.media). "active" is a flag: True is valid (ALLOWED below).
    "typing": (lambda d: {"active": False}, set()),
    "screenshare.accept": (lambda d: {}, set()),
    "screenshare.decline": (lambda d: {}, set()),
    "screenshare.stop": (lambda d: {}, set()),
    "rtc.offer": (lambda d: {"sdp": "v=0\r\n"}, {"sdp"}),
    "rtc.ice": (lambda d: {"candidate": None}, set()),
    "chat.rate": (lambda d: {"score": 5, "comment": ""}, {"score"}),
    "chat.delete": (lambda d: {}, set()),
}
STAFF_FRAMES = {
    "presence.set": (lambda d: {"status": "away"}, {"status"}),
    "presence.activity": (lambda d: {}, set()),
    "ping": (lambda d: {}, set()),
    "chat.open": (lambda d: {"chat": d["active"], "after_seq": 0}, {"chat"}),
    "chat.claim": (lambda d: {"chat": d["waiting"]}, {"chat"}),
    "message.send": (
        lambda d: {"chat": d["active"], "client_id": "o-9", "body": "Hello"},
        {"chat", "client_id", "body"},
    ),
    "chat.end": (lambda d: {"chat": d["active"]}, {"chat"}),
    "chat.close": (lambda d: {"chat": d["active"]}, {"chat"}),
    "chat.transfer": (lambda d: {"chat": d["active"], "operator": d["bob"], "note": "n"}, {"chat"}),
    "chat.decline": (lambda d: {"chat": d["active"]}, {"chat"}),
    "internal.start": (
        lambda d: {
            "operator": d["bob"],
            "body": "Can you help?",
            "client_id": "i-9",
            "about": d["active"],
        },
        set(),
    ),
    "internal.send": (
        lambda d: {"internal": d["internal"], "body": "More", "client_id": "i-10"},
        {"internal", "body", "client_id"},
    ),
    "internal.open": (lambda d: {"internal": d["internal"], "after_seq": 0}, {"internal"}),
    "internal.close": (lambda d: {"internal": d["internal"]}, {"internal"}),
    "internal.about": (lambda d: {"internal": d["internal"]}, {"internal"}),
    "internal.archive": (lambda d: {"internal": d["internal"]}, {"internal"}),
    "internal.unarchive": (lambda d: {"internal": d["internal"]}, {"internal"}),
    "internal.list_archived": (lambda d: {}, set()),
    # Issue 7 (chat.consumers.media).
    "typing": (lambda d: {"chat": d["active"], "active": False}, {"chat"}),
    "screenshare.request": (lambda d: {"chat": d["active"]}, {"chat"}),
    "screenshare.stop": (lambda d: {"chat": d["active"]}, {"chat"}),
    "rtc.answer": (lambda d: {"chat": d["active"], "sdp": "v=0\r\n"}, {"chat", "sdp"}),
    "rtc.ice": (lambda d: {"chat": d["active"], "candidate": None}, {"chat"}),
}
# Optional fields whose value picks one of several targets: None is fine, but a wrong
# type is not.
VOLATILE = {
    "chat.transfer": {"operator", "department"},
    "internal.start": {"operator", "department"},
}
# Values of BAD_VALUES that are right for a field (a flag may be true).
ALLOWED = {"active": [True]}


def fuzz_cases(table, kind):
    base_of, required = table[kind]
    fields = set(base_of(_PLACEHOLDER)) | VOLATILE.get(kind, set())
    for field in sorted(fields):
        values = BAD_VALUES + ([None] if field in required else [])
        for value in values:
            if any(value is ok for ok in ALLOWED.get(field, [])):
                continue
            yield field, value


_PLACEHOLDER = {"token": "t", "active": "a", "waiting": "w", "bob": 1, "internal": "i"}


def snapshot():
    """Every row of the chat app's domain tables (not the heartbeat's timestamps)."""
    skip_models = {"OperatorConnection"}
    skip_fields = {"last_activity_at", "last_seen"}
    rows = {}
    for model in apps.get_app_config("chat").get_models():
        if model.__name__ in skip_models:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip_fields]
        rows[model.__name__] = list(model.objects.order_by("pk").values_list(*fields))
    return rows


@pytest.fixture
def desk(db):
    from tests.chat.staffing import bring_online

    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    alice = OperatorFactory(
        user=UserFactory(username="alice", first_name="Alice"), departments=[reference]
    )
    bob = OperatorFactory(
        user=UserFactory(username="bob", first_name="Bob"), departments=[reference]
    )
    bring_online(bob)
    active, token = start_chat(reference, question="Atlases?", client_id="a")
    services.chat_claim(chat_id=active.pk, operator=alice)
    waiting, _ = start_chat(reference, question="Maps?", client_id="b")
    found = {"token": token, "active": str(active.public_id), "waiting": str(waiting.public_id)}
    found.update(bob=bob.pk, alice=alice, internal=None)
    if "internal.start" in consumers.StaffConsumer.frame_types:
        from chat.services import internal

        started = internal.internal_start(
            operator=alice, to_operator_id=bob.pk, body="Hi", client_id="i-1"
        )
        found["internal"] = str(started.public_id)
    return found


async def next_error(communicator):
    """Frames up to the first error frame (events may come first). A crash raises, or
    closes the socket with a code other than our refusals (4401/4403)."""
    frames = []
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        assert output["type"] != "websocket.close", (
            f"socket closed ({output.get('code')}) after {frames}"
        )
        frame = json.loads(output["text"])
        frames.append(frame)
        if frame["type"] == "error":
            return frame, frames


async def until_pong(communicator):
    await communicator.send_json_to({"type": "ping"})
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        if frame["type"] == "pong":
            return frames
        frames.append(frame)


async def fuzz_all(open_socket, table, kinds, found):
    """Send every wrong value of every field of every frame type; each gets one error
    frame with an expected code, and nothing in the database changes."""
    before = await db(snapshot)()
    communicator = await open_socket(kinds[0])
    for kind in kinds:
        if kind in ("hello", "watch"):  # only before a chat: a fresh socket
            await communicator.disconnect()
            communicator = await open_socket(kind)
        base = table[kind][0](found)
        for field, value in fuzz_cases(table, kind):
            shown = f"{kind}.{field}={str(value)[:20]!r}"
            await communicator.send_to(text_data=json.dumps({"type": kind, **base, field: value}))
            error, frames = await next_error(communicator)
            assert error["code"] in ERROR_CODES and error["message"], f"{shown}: {frames}"
            if error["code"] == "bad_token":  # refused and closed with 4403: start again
                assert (await communicator.receive_output(timeout=TIMEOUT))["code"] == 4403
                communicator = await open_socket(kind)
        if kind in ("hello", "watch"):
            await communicator.disconnect()
            communicator = await open_socket("ping")
    await communicator.disconnect()
    assert await db(snapshot)() == before, "a refused frame changed the database"


async def valid_frames_are_accepted(communicator, table, kinds, found):
    """The base frames pass the same checks: the errors came from the fuzzed fields."""
    for kind in kinds:
        await communicator.send_json_to({"type": kind, **table[kind][0](found)})
        frames = await until_pong(communicator)
        invalid = [
            f for f in frames if f["type"] == "error" and f["code"] in ("invalid", "too_long")
        ]
        assert not invalid, f"{kind}: the valid frame was refused: {invalid}"


def test_every_frame_type_has_a_schema_entry():
    assert consumers.PatronConsumer.frame_types <= set(PATRON_FRAMES), (
        consumers.PatronConsumer.frame_types - set(PATRON_FRAMES)
    )
    assert consumers.StaffConsumer.frame_types <= set(STAFF_FRAMES), (
        consumers.StaffConsumer.frame_types - set(STAFF_FRAMES)
    )


async def test_patron_frames_with_wrong_field_types_are_refused(desk):
    kinds = [k for k in PATRON_FRAMES if k in consumers.PatronConsumer.frame_types]

    async def open_socket(kind):
        if kind in ("hello", "watch"):  # before hello: a patron who has not started a chat
            return await patron_socket()
        communicator = await patron_socket(desk["token"])
        await receive_until(communicator, "welcome")
        return communicator

    await fuzz_all(open_socket, PATRON_FRAMES, kinds, desk)
    communicator = await open_socket("watch")
    await valid_frames_are_accepted(communicator, PATRON_FRAMES, ["watch", "hello"], desk)
    rest = [k for k in kinds if k not in ("watch", "hello")]
    await valid_frames_are_accepted(communicator, PATRON_FRAMES, rest, desk)
    await communicator.disconnect()


# Valid frames last in an order where each can succeed (end and close at the very end).
STAFF_VALID_ORDER = [
    "presence.set",
    "presence.activity",
    "ping",
    "chat.open",
    "chat.claim",
    "message.send",
    "internal.start",
    "internal.open",
    "internal.send",
    "internal.about",
    "internal.close",
    "internal.archive",
    "internal.list_archived",
    "internal.unarchive",
    "chat.transfer",
    "chat.decline",
    "chat.end",
    "chat.close",
]


async def test_staff_frames_with_wrong_field_types_are_refused(desk):
    kinds = [k for k in STAFF_FRAMES if k in consumers.StaffConsumer.frame_types]

    async def open_socket(kind=None):
        communicator = await staff_socket(desk["alice"].user)
        await receive_until(communicator, "dashboard.state")
        return communicator

    try:
        await fuzz_all(open_socket, STAFF_FRAMES, kinds, desk)
        communicator = await open_socket()
        ordered = [k for k in STAFF_VALID_ORDER if k in kinds]
        ordered += [k for k in kinds if k not in ordered]
        await valid_frames_are_accepted(communicator, STAFF_FRAMES, ordered, desk)
        await communicator.disconnect()
    finally:
        await consumers_settle()


async def consumers_settle():
    """Let the detached presence checks of closed staff sockets finish before the
    database is flushed."""
    import asyncio

    await asyncio.sleep(0)
    if consumers._pending_reconciles:
        await asyncio.gather(*list(consumers._pending_reconciles), return_exceptions=True)


async def test_frames_that_are_not_objects_with_a_string_type_are_refused(desk):
    raws = ["null", "7", '"hello"', '{"type": 5}', '{"type": null}', '{"type": ["ping"]}']
    try:
        for open_socket in (lambda: patron_socket(), lambda: staff_socket(desk["alice"].user)):
            communicator = await open_socket()
            for raw in raws:
                await communicator.send_to(text_data=raw)
                error, _ = await next_error(communicator)
                assert error["code"] == "bad_frame", raw
            await communicator.disconnect()
    finally:
        await consumers_settle()
