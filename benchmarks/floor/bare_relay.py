"""Floor (a): a bare ``websockets`` relay, the machine's floor — no Daphne, no channel
layer, no database. Same frames as ``/ws/floor-lean/``: each ``{"client_id", "body",
"sender"}`` goes to every socket of its room (the sender included) as ``message.new``,
then the sender gets ``message.ack``.

    .venv/bin/python -m benchmarks.floor.bare_relay --port 8765
"""

import argparse
import asyncio
import json
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

ROOMS: dict[str, set] = defaultdict(set)


async def relay(ws):
    query = parse_qs(urlsplit(ws.request.path).query)
    room = ROOMS[query.get("room", ["0"])[0]]
    room.add(ws)
    try:
        async for text in ws:
            frame = json.loads(text)
            broadcast(room, json.dumps({"type": "message.new", "message": frame}))
            await ws.send(json.dumps({"type": "message.ack", "client_id": frame["client_id"]}))
    finally:
        room.discard(ws)


async def main(port: int) -> None:
    async with serve(relay, "127.0.0.1", port, max_size=2**22) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
