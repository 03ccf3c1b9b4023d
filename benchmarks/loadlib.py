"""Client side of the load: sockets that record what they send and receive."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from benchmarks import harness


@dataclass
class Ledger:
    """Every message a run sent, and every delivery of it, by socket."""

    prefix: str
    sent: dict = field(default_factory=dict)  # client_id -> (t_sent, role)
    acked: dict = field(default_factory=dict)  # client_id -> t_ack
    lat: dict = field(default_factory=lambda: defaultdict(list))  # "p2o"/"o2p" -> [s]
    ack_lat: list = field(default_factory=list)
    cross: Counter = field(default_factory=Counter)  # client_id -> deliveries to the other side
    echo: Counter = field(default_factory=Counter)  # client_id -> deliveries to the sender's socket
    last_delivery: float = 0.0
    errors: Counter = field(default_factory=Counter)

    def body(self, client_id: str, size: int) -> str:
        head = f"{client_id}|{time.time():.6f}|"
        return head + "x" * max(0, size - len(head))

    def record_send(self, client_id: str, role: str) -> None:
        self.sent[client_id] = (time.time(), role)

    def on_ack(self, client_id: str) -> None:
        if client_id in self.sent and client_id not in self.acked:
            now = time.time()
            self.acked[client_id] = now
            self.ack_lat.append(now - self.sent[client_id][0])

    def on_message(self, receiver_role: str, message: dict) -> None:
        client_id = message.get("client_id") or ""
        if not client_id.startswith(self.prefix):
            return
        now = time.time()
        sender = message.get("sender")
        if sender == receiver_role:
            self.echo[client_id] += 1
            return
        self.cross[client_id] += 1
        if self.cross[client_id] == 1:
            t_sent = float(message["body"].split("|", 2)[1])
            self.lat["p2o" if sender == "patron" else "o2p"].append(now - t_sent)
            self.last_delivery = now

    def delivered_all(self) -> bool:
        return all(self.cross[c] >= 1 and self.echo[c] >= 1 for c in self.acked)

    def losses(self) -> dict:
        ids = list(self.sent)
        return {
            "sent": len(ids),
            "unacked": sum(1 for c in ids if c not in self.acked),
            "lost": sum(1 for c in ids if self.cross[c] == 0),
            "echo_lost": sum(1 for c in ids if self.echo[c] == 0),
            "dup": sum(1 for c in ids if self.cross[c] > 1)
            + sum(1 for c in ids if self.echo[c] > 1),
        }


class Sock:
    """One websocket with a reader task; ``wait_for(key)`` waits on a named reply."""

    def __init__(self, ws, role: str, ledger: Ledger, name: str):
        self.ws, self.role, self.ledger, self.name = ws, role, ledger, name
        self.waiters: dict = {}
        self.frames = Counter()
        self.closed_at = None
        self.task = asyncio.get_running_loop().create_task(self._read())

    def expect(self, key):
        fut = asyncio.get_running_loop().create_future()
        self.waiters[key] = fut
        return fut

    def _resolve(self, key, frame):
        fut = self.waiters.pop(key, None)
        if fut and not fut.done():
            fut.set_result(frame)

    async def _read(self):
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                self.frames[kind] += 1
                if kind == "message.new":
                    self.ledger.on_message(self.role, frame["message"])
                elif kind == "message.ack":
                    self.ledger.on_ack(frame["client_id"])
                elif kind == "error":
                    self.ledger.errors[frame.get("code")] += 1
                    self._resolve(("error",), frame)
                self._resolve((kind,), frame)
                if kind == "chat.opened":
                    self._resolve(("chat.opened", frame["chat"]["id"]), frame)
                if kind == "presence.changed":
                    self._resolve(
                        ("presence", frame["operator"]["id"], frame["operator"]["available"]), frame
                    )
        except Exception:  # noqa: BLE001 - a closed socket ends the reader
            pass
        finally:
            self.closed_at = time.time()

    async def send(self, frame: dict):
        await self.ws.send(json.dumps(frame))

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except Exception:  # noqa: BLE001
            pass
        self.task.cancel()


async def paced_sender(
    *,
    sock: Sock,
    ledger: Ledger,
    make_frame,
    role: str,
    tag: str,
    rate: float,
    start: float,
    end: float,
    size: int,
) -> None:
    """Send at ``rate`` per second from ``start`` until ``end`` (loop time), open loop."""
    loop = asyncio.get_running_loop()
    next_t = start + random.random() / rate
    k = 0
    while next_t < end and sock.closed_at is None:
        await asyncio.sleep(max(0.0, next_t - loop.time()))
        client_id = f"{ledger.prefix}{tag}-{k}"
        ledger.record_send(client_id, role)
        await sock.send(make_frame(client_id, ledger.body(client_id, size)))
        k += 1
        next_t += 1.0 / rate


async def drain(ledger: Ledger, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if ledger.delivered_all() and len(ledger.acked) == len(ledger.sent):
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def db_check(stack: harness.Stack, ledger: Ledger, table: str) -> dict:
    """Every client id sent exists exactly once in the database; sequences have no gaps."""
    rows = stack.db_query(
        f"SELECT client_id, COUNT(*) FROM {table} WHERE client_id LIKE ? GROUP BY client_id",
        (ledger.prefix + "%",),
    )
    counts = dict(rows)
    out = {
        "db_missing": sum(1 for c in ledger.sent if c not in counts and c in ledger.acked),
        "db_unacked_stored": sum(1 for c in ledger.sent if c in counts and c not in ledger.acked),
        "db_doubled": sum(1 for n in counts.values() if n > 1),
    }
    if table == "chat_message":
        gaps = stack.db_query(
            "SELECT chat_id FROM chat_message GROUP BY chat_id HAVING COUNT(*) <> MAX(seq) OR MIN(seq) <> 1"  # noqa: E501
        )
        out["seq_gaps"] = len(gaps)
    return out
