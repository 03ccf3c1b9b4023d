"""Relays on the desk's own stack, to measure the desk against.

``FloorConsumer`` (``/ws/floor/``, chat_load.py's): a naive relay — one raw ``INSERT``
per message on Channels' one pinned database thread (``database_sync_to_async``),
committed alone, with Channels' per-event database-connection hop. The desk does
better than that on every count, so it is not a floor of the desk.
``LeanRelayConsumer`` and ``StoredRelayConsumer`` (floors.py's b and c) are.
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import connection

TABLE = "bench_floor"


def create_table_sql(vendor: str) -> str:
    if vendor == "postgresql":
        return (
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, room text NOT NULL, "
            "client_id text NOT NULL, body text NOT NULL, created_at timestamptz DEFAULT now())"
        )
    return (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY AUTOINCREMENT, "
        "room text NOT NULL, client_id text NOT NULL, body text NOT NULL, "
        "created_at text DEFAULT CURRENT_TIMESTAMP)"
    )


@database_sync_to_async
def _insert(room: str, client_id: str, body: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (room, client_id, body) VALUES (%s, %s, %s)",
            [room, client_id, body],
        )


class FloorConsumer(AsyncWebsocketConsumer):
    """``/ws/floor/?room=N``: every frame ``{"client_id", "body"}`` is stored and relayed
    to everyone in the room (the sender included), then acknowledged."""

    group = None

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.group = f"floor-{int(query.get('room', ['0'])[0])}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        frame = json.loads(text_data)
        await _insert(self.group, frame["client_id"], frame["body"])
        await self.channel_layer.group_send(self.group, {"type": "floor.message", "frame": frame})
        await self.send(
            text_data=json.dumps({"type": "message.ack", "client_id": frame["client_id"]})
        )

    async def floor_message(self, event):
        await self.send(text_data=json.dumps({"type": "message.new", "message": event["frame"]}))


# --- The floors of issue 21: the best of the same stack -------------------------------


class LeanRelayConsumer(FloorConsumer):
    """``/ws/floor-lean/?room=N`` (floor b): the same Daphne and channel layer, relay
    only — no database at all, and no per-event database-connection hop (``dispatch``
    as ``chat.consumers.base.DeskConsumer`` has it)."""

    async def dispatch(self, message):
        await getattr(self, message["type"].replace(".", "_"))(message)

    async def store(self, frame) -> None:
        """Floor (b) stores nothing."""

    async def receive(self, text_data=None, bytes_data=None):
        frame = json.loads(text_data)
        await self.store(frame)
        await self.channel_layer.group_send(self.group, {"type": "floor.message", "frame": frame})
        await self.send(
            text_data=json.dumps({"type": "message.ack", "client_id": frame["client_id"]})
        )


def _insert_many(requests: list[dict]) -> list:
    """One multi-row INSERT for a batch, in autocommit: the statement is its own
    transaction, as the desk's batched statement is (``_statement_transaction``)."""
    rows = ", ".join(["(%s, %s, %s)"] * len(requests))
    params = [value for r in requests for value in (r["chat_id"], r["client_id"], r["body"])]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (room, client_id, body) VALUES {rows}", params)
    return [(None, True)] * len(requests)


def _floor_batches():
    # Imported late: chat.consumers.sends needs the settings loaded.
    from chat.consumers.sends import SendBatches

    class FloorBatches(SendBatches):
        """The desk's batching (same calls, same size, same socket database threads
        through ``chat.consumers.support.service``), storing a plain row per message."""

        _per_loop: dict = {}
        store_many = staticmethod(_insert_many)

    return FloorBatches


class StoredRelayConsumer(LeanRelayConsumer):
    """``/ws/floor-stored/?room=N`` (floor c): floor (b) plus the desk's persistence
    strategy — the message is stored before it is relayed and acked, on the desk's
    database threads, batched as the desk batches (``SendBatches``), one statement per
    batch committed on its own. No auth, no routing, no numbering, no events."""

    batches = None

    async def store(self, frame) -> None:
        if StoredRelayConsumer.batches is None:
            StoredRelayConsumer.batches = _floor_batches()
        await StoredRelayConsumer.batches.of_this_loop().send(
            chat_id=self.group, client_id=frame["client_id"], body=frame["body"]
        )
