"""The floor: the least a relay on our stack can do per message.

Same Daphne, same channel layer, same database connection handling
(``database_sync_to_async``), but no authentication, no routing, no ORM, no locks:
one raw ``INSERT`` per message, one ``group_send``, one ack. Every desk figure in
``chat_load.py`` is printed as a ratio to this.
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
