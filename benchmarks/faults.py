"""Faults on PostgreSQL + Redis with two Daphne processes; one PASS/FAIL line each.

    .venv/bin/python benchmarks/faults.py                       # all scenarios, ~4 min
    .venv/bin/python benchmarks/faults.py --scenarios kill --layer core --pairs 10
    .venv/bin/python benchmarks/faults.py --client naive        # the clients before the contract

Redis is a ``redis-server`` of the script's own on a free port (never the shared one);
PostgreSQL is the shared server, database ``BENCH_PG_DB`` (default ``libdesk_bench``).

Scenarios:

- ``kill``: patrons on one Daphne, their operators on the other (and the reverse), all
  chatting; SIGKILL one Daphne mid-conversation. Its clients reconnect to the other
  (patron: ``hello`` with ``last_seq``; operator: ``chat.open`` with ``after_seq``) and
  resend their outbox with the same ``client_id``.
- ``redis``: SIGKILL the benchmark's redis-server mid-conversation, start it again on
  its port after ``--redis-down`` seconds.
- ``postgres``: one Daphne reaches PostgreSQL through a TCP proxy
  (tests/scaleout/standins.py) that drops every connection and refuses new ones for
  ``--pg-down`` seconds; senders get ``unavailable`` error frames and retry.
- ``slow``: a dashboard that opened every chat stops reading its socket while the
  others go on; the others must not be held up.

Pass means: every message sent was stored exactly once (database), every chat's
sequence has no gap, every outbox emptied, and every message reached the other side
exactly once. Clients follow the delivery contract (docs/protocol.md) as the shipped
widget and dashboard do: keep messages by ``seq`` (late ones too), ask again on a
``seq`` jump, resume from the last ``seq`` below which they have everything, resend
the outbox, retry an ``unavailable`` frame; patrons ping (every second while draining,
the widget every 25 s) and resync when the ``pong``'s ``last_seq`` is ahead.
``--client naive`` keeps only ``max(seq)`` and never repairs a hole: what the clients
did before the contract, and what last session's "lost live" counts measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.fixture import PASSWORD  # noqa: E402

log = harness.log


def start_server(stack, **overrides) -> harness.Server:
    """One more Daphne of ``stack`` with some environment changed (``harness.Stack.start``
    with ``overrides``): the PostgreSQL-outage scenario's process behind the proxy."""
    port = harness.free_port()
    log_path = stack.workdir / f"daphne-{port}.log"
    env = {**stack.env(), **{k: str(v) for k, v in overrides.items()}}
    proc = subprocess.Popen(
        [str(harness.BIN / "daphne"), "-b", harness.HOST, "-p", str(port), harness.APP],
        cwd=harness.SERVER_ROOT,
        env=env,
        stdout=open(log_path, "ab"),  # noqa: SIM115 - the process keeps it
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = harness.Server(port, proc, log_path)
    stack.servers.append(server)
    return server


class Client:
    """A widget or dashboard that keeps an outbox and resumes after reconnecting.

    It keeps every message it receives by ``seq`` (late ones too: two processes may
    publish seq N+1 before seq N), asks again on a ``seq`` jump, and resumes from the
    last ``seq`` below which it has everything. ``naive`` clients (``--client naive``)
    keep only ``max(seq)``, drop anything older and never ask for a hole: the clients
    before the delivery contract, kept to show what they lose.
    """

    role = ""

    def __init__(self, name, servers, stats, naive=False):
        self.name, self.servers, self.stats = name, servers, stats
        self.naive = naive
        self.index = 0
        self.ws = None
        self.outbox: dict[str, dict] = {}  # client_id -> frame, until acked
        self.have: dict[str, set[int]] = {}  # chat id -> seqs kept
        self.last_seq: dict[str, int] = {}  # chat id -> highest seq kept
        self.wire: set[tuple[str, int]] = set()  # (chat, seq) of every frame (diagnosis)
        self.got = Counter()  # client_id of the other side's messages -> deliveries
        self.first_seen: dict[str, float] = {}  # client_id -> first delivery time
        self.reconnects = 0
        self.stopping = False
        self.ready = asyncio.Event()
        self.task = None

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self):
        delay = 0.1
        while not self.stopping:
            server = self.servers[self.index % len(self.servers)]
            try:
                self.ws = await self.connect(server)
                await self.resume()
                delay = 0.1
                async for raw in self.ws:
                    await self.on_frame(json.loads(raw))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - any failure: reconnect elsewhere
                pass
            self.ready.clear()
            self.ws = None
            if self.stopping:
                break
            self.reconnects += 1
            self.index += 1  # try the next Daphne
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)

    async def send_frame(self, frame):
        if self.ws is not None:
            try:
                await self.ws.send(json.dumps(frame))
            except Exception:  # noqa: BLE001 - the reconnect resends the outbox
                pass

    async def send_message(self, chat, client_id, body):
        frame = self.message_frame(chat, client_id, body)
        self.outbox[client_id] = frame
        if self.ready.is_set():
            await self.send_frame(frame)

    async def resend_outbox(self):
        for frame in list(self.outbox.values()):
            await self.send_frame(frame)

    def floor(self, chat) -> int:
        """The last seq below which this client has every message (where to resume)."""
        if self.naive:
            return self.last_seq.get(chat, 0)
        have = self.have.get(chat, set())
        seq = 0
        while seq + 1 in have:
            seq += 1
        return seq

    def on_message(self, chat, message, live=False) -> bool:
        """Keep one message; True when a live one shows a hole (the caller asks again)."""
        seq = message["seq"]
        self.wire.add((chat, seq))
        have = self.have.setdefault(chat, set())
        last = self.last_seq.get(chat, 0)
        if seq in have or (self.naive and seq <= last):
            if live:  # sent live again: a retried send is broadcast again (harmless)
                self.stats["dup_frames"] += 1
            return False
        gap = live and last and seq > last + 1
        if gap:
            self.stats["gaps_seen"] += 1
        elif seq < last:
            self.stats["late_frames"] += 1  # arrived after a higher seq: kept
        have.add(seq)
        self.last_seq[chat] = max(last, seq)
        if message["sender"] != self.role and message["client_id"].startswith(self.stats.prefix):
            self.got[message["client_id"]] += 1
            self.first_seen.setdefault(message["client_id"], time.time())
        return bool(gap) and not self.naive

    async def on_ack(self, frame):
        self.outbox.pop(frame.get("client_id"), None)

    def on_error(self, frame):
        self.stats["error_" + frame.get("code", "?")] += 1
        client_id = frame.get("client_id")
        if frame.get("code") == "unavailable" and client_id in self.outbox:
            # The one retryable error: the same frame again after a moment.
            asyncio.get_running_loop().create_task(self._retry(client_id))

    async def _retry(self, client_id, delay=0.3):
        await asyncio.sleep(delay)
        if client_id in self.outbox and self.ready.is_set():
            await self.send_frame(self.outbox[client_id])

    async def stop(self):
        self.stopping = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except Exception:  # noqa: BLE001
                pass
        if self.task:
            self.task.cancel()


class Stats(Counter):
    prefix = ""


class Patron(Client):
    role = "patron"

    def __init__(self, name, servers, stats, token, chat, **kw):
        super().__init__(name, servers, stats, **kw)
        self.token, self.chat = token, chat

    async def connect(self, server):
        return await harness.open_ws(server, "/ws/patron/", open_timeout=5)

    async def resume(self):
        await self.ws.send(
            json.dumps({"type": "hello", "token": self.token, "last_seq": self.floor(self.chat)})
        )

    async def ping(self):
        """The widget pings now and then: the pong's last_seq reveals a lost last message."""
        if self.ready.is_set():
            await self.send_frame({"type": "ping"})

    def message_frame(self, chat, client_id, body):
        return {"type": "message.send", "client_id": client_id, "body": body}

    async def on_frame(self, frame):
        kind = frame.get("type")
        if kind == "welcome":
            for message in frame["messages"]:
                self.on_message(self.chat, message)
            self.ready.set()
            await self.resend_outbox()
        elif kind == "message.new":
            if self.on_message(self.chat, frame["message"], live=True):
                await self.resume()
        elif kind == "pong":
            if not self.naive and (frame.get("last_seq") or 0) > self.last_seq.get(self.chat, 0):
                self.stats["pong_resyncs"] += 1
                await self.resume()
        elif kind == "message.ack":
            await self.on_ack(frame)
        elif kind == "error":
            self.on_error(frame)


class Operator(Client):
    role = "operator"

    def __init__(self, name, servers, stats, cookie, **kw):
        super().__init__(name, servers, stats, **kw)
        self.cookie = cookie
        self.chats: list[str] = []
        self.opened = {}
        self.presence = None

    async def connect(self, server):
        return await harness.open_ws(server, "/ws/staff/", cookie=self.cookie, open_timeout=5)

    async def resume(self):
        pass  # waits for dashboard.state

    def message_frame(self, chat, client_id, body):
        return {"type": "message.send", "chat": chat, "client_id": client_id, "body": body}

    async def open_chat(self, chat):
        await self.send_frame({"type": "chat.open", "chat": chat, "after_seq": self.floor(chat)})

    async def on_frame(self, frame):
        kind = frame.get("type")
        if kind == "dashboard.state":
            self.op_id = frame["operator"]["id"]
            await self.send_frame({"type": "presence.set", "status": "online"})
            for chat in self.chats:
                await self.open_chat(chat)
            self.ready.set()
            await self.resend_outbox()
        elif kind == "presence.changed" and frame["operator"]["id"] == getattr(self, "op_id", None):
            self.presence = frame["operator"]
        elif kind == "chat.opened":
            chat = frame["chat"]["id"]
            for message in frame["messages"]:
                self.on_message(chat, message)
            fut = self.opened.pop(chat, None)
            if fut and not fut.done():
                fut.set_result(frame)
        elif kind == "message.new":
            if self.on_message(frame["chat"], frame["message"], live=True):
                await self.open_chat(frame["chat"])
        elif kind == "message.ack":
            await self.on_ack(frame)
        elif kind == "error":
            self.on_error(frame)
            fut = self.opened.pop(frame.get("ref"), None)
            if fut and not fut.done():
                fut.set_exception(RuntimeError(frame))

    async def claim(self, chat):
        fut = asyncio.get_running_loop().create_future()
        self.opened[chat] = fut
        await self.send_frame({"type": "chat.claim", "chat": chat, "ref": chat})
        await asyncio.wait_for(fut, 20)
        self.chats.append(chat)


async def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return predicate()


async def setup_pairs(stack, servers, args, stats):
    """``args.pairs`` chats: pair i's patron on servers[i % 2], its operator on the other."""
    n = len(servers)
    operators, patrons = [], []
    for i in range(args.pairs):
        home = servers[(i + 1) % n]
        order = [home] + [s for s in servers if s is not home]
        cookie = await asyncio.to_thread(harness.login_cookie, home, f"bench-op-{i}", PASSWORD)
        op = Operator(f"op{i}", order, stats, cookie, naive=args.client == "naive")
        op.start()
        await asyncio.wait_for(op.ready.wait(), 20)
        await wait_until(lambda op=op: op.presence and op.presence["available"], 10)
        operators.append(op)
    for i in range(args.pairs):
        home = servers[i % n]
        order = [home] + [s for s in servers if s is not home]
        chat = await asyncio.to_thread(
            harness.start_chat, home, f"question {i}", f"{stats.prefix}q{i}"
        )
        await operators[i].claim(chat["chat"])
        patron = Patron(
            f"p{i}", order, stats, chat["token"], chat["chat"], naive=args.client == "naive"
        )
        patron.start()
        await asyncio.wait_for(patron.ready.wait(), 20)
        patrons.append(patron)
    return operators, patrons


async def converse(operators, patrons, stats, rate, seconds, size=80, stop_flag=None):
    """Each side of each chat sends ``rate`` messages/s for ``seconds``; returns the sent ids."""
    sent = {"patron": {}, "operator": {}}  # client_id -> (pair index, t)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def side(client, chat, role, i):
        k = 0
        next_t = loop.time() + (i % 10) / (10 * rate)
        while next_t < end:
            await asyncio.sleep(max(0.0, next_t - loop.time()))
            client_id = f"{stats.prefix}{role[0]}{i}-{k}"
            server = client.servers[client.index % len(client.servers)]
            where = server.port if client.ready.is_set() else None
            sent[role][client_id] = (i, time.time(), where)
            body = f"{client_id}|{time.time():.6f}|" + "y" * max(0, size - 40)
            await client.send_message(chat, client_id, body)
            k += 1
            next_t += 1.0 / rate

    await asyncio.gather(
        *(
            task
            for i, (op, pa) in enumerate(zip(operators, patrons, strict=True))
            for task in (side(pa, pa.chat, "patron", i), side(op, pa.chat, "operator", i))
        )
    )
    return sent


def verify(stack, stats, operators, patrons, sent) -> dict:
    lost = dup = 0
    for role, ids in sent.items():
        for client_id, (i, *_rest) in ids.items():
            receiver = operators[i] if role == "patron" else patrons[i]
            count = receiver.got[client_id]
            lost += count == 0
            dup += count > 1
    stored = stack.db_query(
        "SELECT m.client_id, c.public_id::text, m.seq FROM chat_message m "
        "JOIN chat_chat c ON c.id = m.chat_id WHERE m.client_id LIKE ?",
        (stats.prefix + "%",),
    )
    rows = Counter(client_id for client_id, _chat, _seq in stored)
    where_stored = {client_id: (chat, seq) for client_id, chat, seq in stored}
    # Why each lost message was lost: it reached the receiving client's socket and the
    # client dropped it, or it never reached the socket (server side / channel layer).
    why = Counter()
    for role, ids in sent.items():
        for client_id, (i, _t, where) in ids.items():
            receiver = operators[i] if role == "patron" else patrons[i]
            if receiver.got[client_id]:
                continue
            on_wire = where_stored.get(client_id) in receiver.wire
            why[
                f"{role}->{'reached socket' if on_wire else 'never on socket'}"
                f" (sender on {where or 'no socket'})"
            ] += 1
    all_ids = [c for ids in sent.values() for c in ids]
    gaps = stack.db_query(
        "SELECT chat_id FROM chat_message GROUP BY chat_id "
        "HAVING COUNT(*) <> MAX(seq) OR MIN(seq) <> 1"
    )
    return {
        "sent": len(all_ids),
        "lost": lost,
        "dup": dup,
        "db_missing": sum(1 for c in all_ids if c not in rows),
        "db_doubled": sum(1 for n in rows.values() if n > 1),
        "seq_gaps": len(gaps),
        "outbox_left": sum(len(c.outbox) for c in operators + patrons),
        "dup_frames": stats["dup_frames"],
        "gaps_seen": stats["gaps_seen"],
        "reconnects": sum(c.reconnects for c in operators + patrons),
        "errors": {k: v for k, v in stats.items() if k.startswith("error_")},
        "late": stats["late_frames"],
        "why_lost": dict(why),
        "stuck": [
            f"{c.name}:{len(c.outbox)}{'' if c.ready.is_set() else '(down)'}"
            for c in operators + patrons
            if c.outbox
        ],
    }


def passed(figures) -> bool:
    return not any(
        figures[k]
        for k in (
            "lost",
            "dup",
            "db_missing",
            "db_doubled",
            "seq_gaps",
            "outbox_left",
        )
    )


async def drain_all(operators, patrons, sent, timeout):
    def done():
        if any(c.outbox for c in operators + patrons):
            return False
        for role, ids in sent.items():
            for client_id, (i, *_rest) in ids.items():
                receiver = operators[i] if role == "patron" else patrons[i]
                if not receiver.got[client_id]:
                    return False
        return True

    async def ping_now_and_then():  # the widget's ping, every second instead of 25 s
        while True:
            await asyncio.sleep(1.0)
            for patron in patrons:
                await patron.ping()

    pinger = asyncio.ensure_future(ping_now_and_then())
    try:
        await wait_until(done, timeout)
    finally:
        pinger.cancel()


async def scenario_kill(stack, args, stats):
    servers = stack.start(2)
    operators, patrons = await setup_pairs(stack, servers, args, stats)
    victim = servers[0]
    conversation = asyncio.ensure_future(
        converse(operators, patrons, stats, args.rate, args.before + args.after)
    )
    await asyncio.sleep(args.before)
    log(f"  SIGKILL daphne :{victim.port} (pid {victim.proc.pid})")
    os.kill(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    sent = await conversation
    await drain_all(operators, patrons, sent, args.drain)
    figures = verify(stack, stats, operators, patrons, sent)
    moved = sum(1 for c in operators + patrons if c.reconnects)
    figures["note"] = f"{moved} clients moved to :{servers[1].port}"
    for c in operators + patrons:
        await c.stop()
    stack.stop()
    return figures


async def scenario_redis(stack, args, stats):
    servers = stack.start(2)
    operators, patrons = await setup_pairs(stack, servers, args, stats)
    conversation = asyncio.ensure_future(
        converse(operators, patrons, stats, args.rate, args.before + args.after)
    )
    await asyncio.sleep(args.before)
    log(f"  SIGKILL the benchmark's redis-server :{args.redis.port}")
    t0 = time.monotonic()
    try:
        args.redis.stop()
        await asyncio.sleep(args.redis_down)
    finally:
        await asyncio.to_thread(args.redis.start)
        down = time.monotonic() - t0
    log(f"  redis back after {down:.1f}s")
    sent = await conversation
    await drain_all(operators, patrons, sent, args.drain)
    figures = verify(stack, stats, operators, patrons, sent)
    figures["note"] = f"redis down {down:.1f}s incl. restart"
    for c in operators + patrons:
        await c.stop()
    stack.stop()
    return figures


async def scenario_postgres(stack, args, stats):
    """One Daphne reaches PostgreSQL through a TCP proxy that cuts every connection and
    refuses new ones for ``--pg-down`` seconds; its clients get ``unavailable`` errors and
    send the same frames again."""
    from tests.scaleout.standins import TcpProxy

    proxy = TcpProxy(5432, harness.HOST).start()
    try:
        behind = start_server(
            stack,
            DATABASE_URL=f"postgresql://postgres@{harness.HOST}:{proxy.port}/{harness.PG_DB}",
            DB_POOL_TIMEOUT=2,
        )
        servers = [behind, *stack.start(1)]
        harness.wait_ready(behind, 90)
        operators, patrons = await setup_pairs(stack, servers, args, stats)
        conversation = asyncio.ensure_future(
            converse(operators, patrons, stats, args.rate, args.before + args.after)
        )
        await asyncio.sleep(args.before)
        log(f"  PostgreSQL cut for daphne :{behind.port} ({args.pg_down}s)")
        proxy.cut()
        await asyncio.sleep(args.pg_down)
        proxy.restore()
        sent = await conversation
        await drain_all(operators, patrons, sent, args.drain)
    finally:
        proxy.stop()
    figures = verify(stack, stats, operators, patrons, sent)
    figures["note"] = (
        f"PostgreSQL unreachable {args.pg_down:.1f}s for :{behind.port}; "
        f"{stats['error_unavailable']} 'unavailable' errors, each retried"
    )
    for c in operators + patrons:
        await c.stop()
    stack.stop()
    return figures


async def scenario_slow(stack, args, stats):
    servers = stack.start(2)
    operators, patrons = await setup_pairs(stack, servers, args, stats)
    # A baseline phase, then the same with a stalled dashboard viewing every chat.
    base_sent = await converse(
        operators, patrons, stats, args.rate, args.before, size=args.slow_body
    )
    await drain_all(operators, patrons, base_sent, args.drain)
    base_lat = latencies(operators, patrons, base_sent)
    cookie = await asyncio.to_thread(
        harness.login_cookie, servers[0], f"bench-op-{args.pairs}", PASSWORD
    )
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((harness.HOST, servers[0].port))
    slow = await harness.ws_connect(
        f"{servers[0].ws}/ws/staff/",
        sock=raw,
        origin=servers[0].origin,
        additional_headers={"Cookie": cookie},
        max_queue=1,
        max_size=2**22,
    )
    await slow.recv()  # dashboard.state
    for pa in patrons:
        await slow.send(json.dumps({"type": "chat.open", "chat": pa.chat, "after_seq": 0}))
    mem0 = servers[0].memory()["rss"]
    log("  slow dashboard opened every chat and stops reading")
    sent = await converse(operators, patrons, stats, args.rate, args.after, size=args.slow_body)
    await drain_all(operators, patrons, {**sent}, args.drain)
    slow_lat = latencies(operators, patrons, sent)
    mem1 = servers[0].memory()["rss"]
    figures = verify(stack, stats, operators, patrons, merge(base_sent, sent))
    figures["note"] = (
        f"others' p99 {base_lat:.0f} ms before, {slow_lat:.0f} ms with the stalled reader; "
        f"its Daphne RSS +{(mem1 - mem0) / 1024:.1f} MB"
    )
    figures["slow_ok"] = slow_lat < max(500.0, 5 * base_lat)
    slow.transport.abort()
    raw.close()
    for c in operators + patrons:
        await c.stop()
    stack.stop()
    return figures


def merge(a, b):
    return {role: {**a[role], **b[role]} for role in a}


def latencies(operators, patrons, sent) -> float:
    """p99 (ms) of first delivery to the other side, from the send time in the body."""
    values = []
    for role, ids in sent.items():
        for client_id, (i, t_sent, _where) in ids.items():
            receiver = operators[i] if role == "patron" else patrons[i]
            t = receiver.first_seen.get(client_id)
            if t:
                values.append((t - t_sent) * 1000)
    return harness.percentile(values, 99) if values else float("nan")


SCENARIOS = {
    "kill": scenario_kill,
    "redis": scenario_redis,
    "postgres": scenario_postgres,
    "slow": scenario_slow,
}


async def run(args) -> int:
    config = harness.Config(f"pg-{args.layer}-2", "postgres", args.layer, 2)
    workdir = harness.make_workdir("libdesk-faults-")
    stack = harness.Stack(config, workdir)
    results = []
    # A redis-server of the benchmark's own on a free port (the redis scenario kills and
    # restarts it): the shared Redis is never touched.
    from tests.scaleout.standins import PrivateRedis

    if not PrivateRedis.available():
        raise SystemExit("faults.py needs redis-server on PATH (it runs a private one)")
    args.redis = PrivateRedis().start()
    harness.REDIS_URL = args.redis.url
    try:
        log(f"faults on {config.name}: preparing database")
        stack.prepare_database(operators=args.pairs + 1)
        for name in args.scenarios:
            stats = Stats()
            stats.prefix = f"{stack.run_id}{name}-"
            log(f"scenario {name}: {args.pairs} chats, {args.rate}/s per side")
            try:
                figures = await asyncio.wait_for(SCENARIOS[name](stack, args, stats), args.timeout)
            except Exception as error:  # noqa: BLE001 - report and go on
                figures = {"error": repr(error)[:300]}
                stack.stop()
            results.append((name, figures))
    finally:
        stack.cleanup()
        args.redis.stop()
        if args.keep:
            log("kept", workdir)
        else:
            harness.remove_workdir(workdir)
    print(
        f"# LibDesk faults {time.strftime('%Y-%m-%d %H:%M')}: 2 Daphne, PostgreSQL, "
        f"CHANNEL_LAYER={args.layer}, {args.pairs} chats at {args.rate}/s per side"
        f", {args.client} clients"
    )
    failures = 0
    for name, f in results:
        if "error" in f:
            print(f"FAIL {name}: {f['error']}")
            failures += 1
            continue
        ok = passed(f) and f.get("slow_ok", True)
        failures += not ok
        print(
            f"{'PASS' if ok else 'FAIL'} {name}: sent {f['sent']}, lost {f['lost']}, dup {f['dup']}, "  # noqa: E501
            f"db missing {f['db_missing']}, db doubled {f['db_doubled']}, seq gaps {f['seq_gaps']}, "  # noqa: E501
            f"outbox left {f['outbox_left']}, re-sent seq {f['dup_frames']}, late {f['late']}, "
            f"live gaps {f['gaps_seen']}, reconnects {f['reconnects']}; {f.get('note', '')}"
            + (f"; lost: {f['why_lost']}" if f["why_lost"] else "")
            + (f"; errors {f['errors']}" if f["errors"] else "")
            + (f"; unacked outboxes {f['stuck']}" if f["stuck"] else "")
        )
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default="kill,redis,postgres,slow")
    parser.add_argument("--layer", default="pubsub", choices=["pubsub", "core"])
    parser.add_argument("--pairs", type=int, default=6, help="chats (patron + operator each)")
    parser.add_argument("--rate", type=float, default=2.0, help="messages/s per side per chat")
    parser.add_argument(
        "--before", type=float, default=4.0, help="seconds of chat before the fault"
    )
    parser.add_argument("--after", type=float, default=8.0, help="seconds of chat after it")
    parser.add_argument("--redis-down", type=float, default=1.0, help="seconds Redis stays down")
    parser.add_argument(
        "--pg-down", type=float, default=1.0, help="seconds PostgreSQL stays unreachable"
    )
    parser.add_argument(
        "--slow-body", type=int, default=3000, help="body size in the slow scenario"
    )
    parser.add_argument("--drain", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=120.0, help="per scenario")
    parser.add_argument(
        "--client",
        default="contract",
        choices=["contract", "naive"],
        help="contract: keep by seq, ask again on a hole, ping (default); naive: max(seq) only",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for name in args.scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name}")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
