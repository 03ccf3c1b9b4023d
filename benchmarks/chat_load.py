"""Load LibDesk over its documented websocket protocol and print figures.

    .venv/bin/python benchmarks/chat_load.py                      # all configs, ~3 min
    .venv/bin/python benchmarks/chat_load.py --configs pg-pubsub-3 --patrons 100 --rate 2
    .venv/bin/python benchmarks/chat_load.py --idle 3000 --idle-seconds 300 --configs pg-pubsub-1

For each configuration the script makes a fresh benchmark database (SQLite file in a
temporary folder, or PostgreSQL ``libdesk_bench``), starts its own Daphne processes on
free ports of 127.0.0.1, runs the naive relay (``/ws/floor/``: one INSERT per message on
Channels' one pinned database thread, committed alone, with Channels' per-event
database-connection hop — not the desk's persistence, so not a floor of it: the honest
floors are ``benchmarks/floors.py``'s) and then the desk (patrons and operators over
/ws/patron/ and /ws/staff/) at the same rate, stops the servers and prints one table.
CPU is counted over sending and the drain after it; PostgreSQL's is the benchmark
database's own backends. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from benchmarks.fixture import PASSWORD  # noqa: E402
from benchmarks.loadlib import Ledger, Sock, db_check, drain, paced_sender  # noqa: E402
from benchmarks.profile import Profiler  # noqa: E402

log = harness.log


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def backing_pids(stack) -> dict[str, list[int]]:
    """The PostgreSQL backends serving this benchmark's database (not every postgres on
    the machine: others may be using it) and the Redis server the benchmark started
    itself (``harness.OWN_REDIS_PID``; otherwise every redis-server here). On a 2-core
    machine they compete with Daphne for the same cores, and what a message costs them
    is part of what it costs."""
    found: dict[str, list[int]] = {"postgres": [], "redis-server": []}
    if stack.config.db == "postgres":
        rows = stack.db_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()",
            (harness.PG_DB,),
        )
        found["postgres"] = [pid for (pid,) in rows]
    if harness.OWN_REDIS_PID:
        found["redis-server"] = [harness.OWN_REDIS_PID]
    elif stack.config.redis:
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "comm").read_text().strip() == "redis-server":
                    found["redis-server"].append(int(entry.name))
            except OSError:
                continue
    return found


def redis_commands() -> dict[str, int]:
    """Calls per command so far on the Redis server the benchmark started itself
    (``INFO commandstats``), and its socket reads and writes (``INFO stats``: a read is
    one round trip of a client, however many commands it pipelined; a write is a
    reply or a pub/sub delivery), as ``_reads`` and ``_writes``. Empty without a Redis
    of its own: the shared one counts everyone's."""
    if not harness.OWN_REDIS_PID:
        return {}
    import redis

    client = redis.Redis.from_url(harness.REDIS_URL)
    try:
        commands, stats = client.info("commandstats"), client.info("stats")
    finally:
        client.close()
    found = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in commands.items()}
    found["_reads"] = int(stats["total_reads_processed"])
    found["_writes"] = int(stats["total_writes_processed"])
    return found


class Phase:
    """Server-side figures over one whole run (sending and the drain after it): CPU
    seconds and memory of each Daphne, the CPU of the benchmark's own PostgreSQL
    backends and Redis server meanwhile, and the commands that Redis served."""

    def __init__(self, servers, stack):
        self.servers, self.stack = servers, stack
        self.redis0 = redis_commands()
        self.cpu0 = [cpu_seconds(s.proc.pid) for s in servers]
        self.backing0 = {
            program: {pid: cpu_seconds(pid) for pid in pids}
            for program, pids in backing_pids(stack).items()
        }
        self.own0 = time.process_time()
        self.t0 = time.monotonic()

    def finish(self) -> dict:
        elapsed = time.monotonic() - self.t0
        cpu = [cpu_seconds(s.proc.pid) - c for s, c in zip(self.servers, self.cpu0, strict=True)]
        mem = [s.memory() for s in self.servers]
        backing = {}
        for program, pids in backing_pids(self.stack).items():
            before = self.backing0[program]
            # A backend that started during the run counts from zero; one that ended
            # meanwhile is lost (the pools keep theirs for the process's life).
            backing[program] = sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in pids)
        redis_after = redis_commands()
        # This measurement's own INFO calls (two before, the first two now) and the
        # round trips and replies of the two before are not the servers'.
        own = {"info": 2, "_reads": 2, "_writes": 2}
        redis_calls = {
            name: n - self.redis0.get(name, 0) - own.get(name, 0)
            for name, n in redis_after.items()
            if n - self.redis0.get(name, 0) - own.get(name, 0) > 0
        }
        return {
            "elapsed": elapsed,
            "redis_calls": redis_calls,
            "server_cpu_s": sum(cpu),
            "pg_cpu_s": backing["postgres"],
            "redis_cpu_s": backing["redis-server"],
            "server_cpu": sum(cpu) / elapsed,
            "pg_cpu": backing["postgres"] / elapsed,
            "redis_cpu": backing["redis-server"] / elapsed,
            "client_cpu": (time.process_time() - self.own0) / elapsed,
            "hwm_mb": [m["hwm"] / 1024 for m in mem],
        }


def result_row(ledger: Ledger, duration: float, extra: dict) -> dict:
    delivered = sum(1 for c in ledger.sent if ledger.cross[c] >= 1)
    first_send = min((t for t, _ in ledger.sent.values()), default=0.0)
    # Over the time it really took: a server that falls behind finishes late.
    span = max(duration, ledger.last_delivery - first_send)
    per_msg = 1e6 / max(1, delivered)
    return {
        **ledger.losses(),
        "sent_rate": len(ledger.sent) / duration,
        "delivered_rate": delivered / span,
        "p2o": harness.lat_summary(ledger.lat["p2o"]),
        "o2p": harness.lat_summary(ledger.lat["o2p"]),
        "ack": harness.lat_summary(ledger.ack_lat),
        "delivered": delivered,
        # CPU per message delivered, over the whole run (send and drain), in µs.
        "server_us": extra.get("server_cpu_s", 0.0) * per_msg,
        "pg_us": extra.get("pg_cpu_s", 0.0) * per_msg,
        "redis_us": extra.get("redis_cpu_s", 0.0) * per_msg,
        # Commands the servers sent Redis, per message delivered (each one a round trip
        # unless pipelined), and by command.
        "redis_per_msg": sum(
            n for name, n in extra.get("redis_calls", {}).items() if not name.startswith("_")
        )
        / max(1, delivered),
        "redis_reads_per_msg": extra.get("redis_calls", {}).get("_reads", 0) / max(1, delivered),
        **extra,
    }


async def run_floor(
    stack, servers, args, rate, path="/ws/floor/", table: str | None = "bench_floor"
) -> dict:
    """One socket pair per chat on ``path`` (a floor: benchmarks/floor), sending at
    ``rate`` per side; ``table`` is where it stores (None: it stores nothing)."""
    ledger = Ledger(prefix=f"{stack.run_id}f{rate}-")
    n = len(servers)
    socks = []
    for j in range(args.patrons):
        a = servers[j % n]
        b = servers[(j + 1) % n]
        pa = Sock(await harness.open_ws(a, f"{path}?room={j}"), "patron", ledger, f"fp{j}")
        pb = Sock(await harness.open_ws(b, f"{path}?room={j}"), "operator", ledger, f"fo{j}")
        socks.append((j, pa, pb))
    await asyncio.sleep(0.5)  # group_add done on both sides
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    end = start + args.duration
    phase = Phase(servers, stack)
    profiler = Profiler.maybe(
        args.profile, servers, stack.workdir, f"{stack.config.name}-floor", args.duration
    )

    def frame_for(role):
        return lambda cid, body: {"client_id": cid, "body": body, "sender": role}

    tasks = []
    for j, pa, pb in socks:
        for sock, role, tag in ((pa, "patron", f"p{j}"), (pb, "operator", f"o{j}")):
            tasks.append(
                paced_sender(
                    sock=sock,
                    ledger=ledger,
                    make_frame=frame_for(role),
                    role=role,
                    tag=tag,
                    rate=rate,
                    start=start,
                    end=end,
                    size=args.body,
                )
            )
    await asyncio.gather(*tasks)
    drained = await drain(ledger, args.drain)
    figures = phase.finish()
    if profiler:
        profiler.report()
    checks = db_check(stack, ledger, table) if table else {"db_missing": "-", "db_doubled": "-"}
    held = sum(1 for _, pa, pb in socks for s in (pa, pb) if s.closed_at is None)
    for _, pa, pb in socks:
        await pa.close()
        await pb.close()
    return result_row(
        ledger, args.duration, {**figures, **checks, "conns": held, "drain_s": drained}
    )


async def run_desk(stack, servers, args, rate) -> dict:
    ledger = Ledger(prefix=f"{stack.run_id}d{rate}-")
    n = len(servers)
    ops = []
    cookies = await asyncio.gather(
        *(
            asyncio.to_thread(harness.login_cookie, servers[i % n], f"bench-op-{i}", PASSWORD)
            for i in range(args.operators)
        )
    )
    for i in range(args.operators):
        server = servers[i % n]
        ws = await harness.open_ws(server, "/ws/staff/", cookie=cookies[i])
        sock = Sock(ws, "operator", ledger, f"op{i}")
        state = await asyncio.wait_for(sock.expect(("dashboard.state",)), 20)
        op_id = state["operator"]["id"]
        ready = sock.expect(("presence", op_id, True))
        await sock.send({"type": "presence.set", "status": "online"})
        await asyncio.wait_for(ready, 20)
        ops.append((i, sock, server))
    log(f"  {len(ops)} operators online")

    def patron_server(j):
        op_server = j % args.operators % n
        return servers[(op_server + 1) % n]

    started = await harness.bounded_gather(
        [
            asyncio.to_thread(
                harness.start_chat,
                patron_server(j),
                f"{ledger.prefix}q{j}|{time.time()}|question",
                f"{ledger.prefix}q{j}",
            )
            for j in range(args.patrons)
        ],
        limit=8,
    )
    log(f"  {len(started)} chats started")
    for j, chat in enumerate(started):
        _, sock, _ = ops[j % args.operators]
        opened = sock.expect(("chat.opened", chat["chat"]))
        await sock.send({"type": "chat.claim", "chat": chat["chat"]})
        await asyncio.wait_for(opened, 30)
    patrons = []
    for j, chat in enumerate(started):
        sock = Sock(
            await harness.open_ws(patron_server(j), "/ws/patron/"), "patron", ledger, f"p{j}"
        )
        welcome = sock.expect(("welcome",))
        await sock.send({"type": "hello", "token": chat["token"], "last_seq": 0})
        await asyncio.wait_for(welcome, 30)
        patrons.append((j, chat["chat"], sock))
    log(f"  {len(patrons)} patrons connected, chats claimed")
    await asyncio.sleep(0.5)

    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    end = start + args.duration
    phase = Phase(servers, stack)
    profiler = Profiler.maybe(
        args.profile, servers, stack.workdir, f"{stack.config.name}-desk", args.duration
    )
    tasks = []
    for j, chat_id, psock in patrons:
        _, osock, _ = ops[j % args.operators]
        tasks.append(
            paced_sender(
                sock=psock,
                ledger=ledger,
                role="patron",
                tag=f"p{j}",
                rate=rate,
                start=start,
                end=end,
                size=args.body,
                make_frame=lambda cid, body: {
                    "type": "message.send",
                    "client_id": cid,
                    "body": body,
                },
            )
        )
        tasks.append(
            paced_sender(
                sock=osock,
                ledger=ledger,
                role="operator",
                tag=f"o{j}",
                rate=rate,
                start=start,
                end=end,
                size=args.body,
                make_frame=lambda cid, body, chat_id=chat_id: {
                    "type": "message.send",
                    "chat": chat_id,
                    "client_id": cid,
                    "body": body,
                },
            )
        )
    await asyncio.gather(*tasks)
    drained = await drain(ledger, args.drain)
    figures = phase.finish()
    if profiler:
        profiler.report()
    checks = db_check(stack, ledger, "chat_message")
    socks = [s for _, s, _ in ops] + [s for _, _, s in patrons]
    held = sum(1 for s in socks if s.closed_at is None)
    for s in socks:
        await s.close()
    if ledger.errors:
        log("  errors:", dict(ledger.errors))
    return result_row(
        ledger, args.duration, {**figures, **checks, "conns": held, "drain_s": drained}
    )


def one_line(config, kind, rate, r) -> list:
    return [
        config.name,
        kind,
        rate,
        r["conns"],
        f"{r['sent_rate']:.0f}",
        f"{r['delivered_rate']:.0f}",
        "/".join(harness.fmt_ms(r["p2o"][k]) for k in ("p50", "p99", "max")),
        "/".join(harness.fmt_ms(r["o2p"][k]) for k in ("p50", "p99", "max")),
        f"{r['lost']}/{r['echo_lost']}/{r['dup']}",
        f"{r['db_missing']}/{r['db_doubled']}/{r.get('seq_gaps', '-')}",
        f"{r['unacked']}",
        "+".join(f"{m:.0f}" for m in r["hwm_mb"]),
        f"{r['server_cpu'] * 100:.0f}%",
        f"{r['pg_cpu'] * 100:.0f}%/{r['redis_cpu'] * 100:.0f}%",
        f"{r['client_cpu'] * 100:.0f}%",
    ]


HEADERS = [
    "config",
    "path",
    "rate",
    "conns",
    "sent/s",
    "deliv/s",
    "p→o p50/p99/max ms",
    "o→p p50/p99/max ms",
    "lost/echo/dup",
    "db miss/dbl/gaps",
    "unacked",
    "peak MB/proc",
    "srv cpu",
    "pg/redis cpu",
    "gen cpu",
]


def ratio_line(config, rate, desk, floor) -> list:
    def ratio(a, b):
        return "-" if not b or a != a or b != b else f"{a / b:.2f}x"

    def lat(key):
        both = [*desk["p2o"].values(), *desk["o2p"].values()]  # noqa: F841 - for symmetry
        d = max(desk["p2o"][key], desk["o2p"][key])
        f = max(floor["p2o"][key], floor["o2p"][key])
        return ratio(d, f)

    return [
        config.name,
        "desk/floor",
        rate,
        "",
        ratio(desk["sent_rate"], floor["sent_rate"]),
        ratio(desk["delivered_rate"], floor["delivered_rate"]),
        f"p50 {lat('p50')}",
        f"p99 {lat('p99')} max {lat('max')}",
        "",
        "",
        "",
        ratio(max(desk["hwm_mb"]), max(floor["hwm_mb"])),
        ratio(desk["server_cpu"], floor["server_cpu"]),
        ratio(desk["pg_cpu"], floor["pg_cpu"]),
        "",
    ]


# Every run's figures by (configuration, path), for the peak lines under the table.
PEAKS: dict[tuple[str, str], list[dict]] = {}

# A path "keeps up" with a rate when it delivers nearly all of it, with p99 <= 50 ms.
KEPT_UP_DELIVERED = 0.98
KEPT_UP_P99_MS = 50.0


def kept_up(result: dict) -> bool:
    p99 = max(result["p2o"]["p99"], result["o2p"]["p99"])
    return result["delivered_rate"] >= KEPT_UP_DELIVERED * result["sent_rate"] and (
        p99 <= KEPT_UP_P99_MS
    )


def peak_lines() -> list[str]:
    """Per configuration and path, over the rates run: the most offered msg/s it kept up
    with, and the most it delivered (at saturation); then the desk's ratio to the floor."""
    lines, best = [], {}
    for (name, path), results in PEAKS.items():
        kept = [r["sent_rate"] for r in results if kept_up(r)]
        best[(name, path)] = (max(kept, default=0.0), max(r["delivered_rate"] for r in results))
    for (name, path), (kept, most) in best.items():
        line = f"# peak {name} {path}: kept up with {kept:.0f} msg/s, delivered at most {most:.0f}"
        floor = best.get((name, "floor"))
        if path == "desk" and floor and floor[0] and floor[1]:
            line += f" (desk/floor: kept up {kept / floor[0]:.2f}x, at most {most / floor[1]:.2f}x)"
        lines.append(line)
    return lines


async def load_config(config, args) -> list[list]:
    workdir = harness.make_workdir()
    stack = harness.Stack(config, workdir)
    rows = []
    try:
        log(f"{config.name}: preparing database")
        stack.prepare_database(operators=args.operators)
        for rate in args.rates:
            floor = None
            if not args.skip_floor:
                servers = stack.start()
                log(f"{config.name}: floor, {args.patrons} pairs at {rate}/s per side")
                floor = await run_floor(stack, servers, args, rate)
                stack.stop()
                rows.append(one_line(config, "floor", rate, floor))
            servers = stack.start()
            log(
                f"{config.name}: desk, {args.patrons} patrons + {args.operators} operators at {rate}/s per side"  # noqa: E501
            )
            desk = await run_desk(stack, servers, args, rate)
            stack.stop()
            rows.append(one_line(config, "desk", rate, desk))
            if floor:
                rows.append(ratio_line(config, rate, desk, floor))
            for path, result in (("floor", floor), ("desk", desk)):
                if result is not None:
                    PEAKS.setdefault((config.name, path), []).append(result)
    finally:
        stack.cleanup()
        if not args.keep:
            harness.remove_workdir(workdir)
        else:
            log("kept", workdir)
    return rows


# --- Idle capacity ---------------------------------------------------------------------


async def run_idle(config, args) -> list:
    workdir = harness.make_workdir()
    stack = harness.Stack(config, workdir)
    try:
        log(f"{config.name}: idle, preparing {args.idle} chats")
        stack.prepare_database(operators=0)
        tokens = stack.fixture(chats=args.idle)
        (server,) = stack.start(1)
        ledger = Ledger(prefix=f"{stack.run_id}i-")
        await asyncio.sleep(1.0)
        base = server.memory()["rss"]

        async def connect(j, item):
            for attempt in range(3):  # a loaded listener may drop a handshake: retry
                try:
                    ws = await harness.open_ws(server, "/ws/patron/", open_timeout=60)
                    break
                except Exception:  # noqa: BLE001
                    if attempt == 2:
                        raise
                    await asyncio.sleep(1.0)
            sock = Sock(ws, "patron", ledger, f"i{j}")
            welcome = sock.expect(("welcome",))
            await sock.send({"type": "hello", "token": item["token"], "last_seq": 0})
            await asyncio.wait_for(welcome, 60)
            return sock

        t0 = time.monotonic()
        results = await harness.bounded_gather(
            [connect(j, item) for j, item in enumerate(tokens)], limit=20
        )
        connect_s = time.monotonic() - t0
        await asyncio.sleep(2.0)
        after = server.memory()["rss"]
        log(
            f"  {len(results)} idle patrons connected in {connect_s:.1f}s; holding {args.idle_seconds}s"  # noqa: E501
        )
        hold_end = time.monotonic() + args.idle_seconds
        while time.monotonic() < hold_end:
            await asyncio.sleep(min(5.0, max(0.0, hold_end - time.monotonic())))
            if not server.alive():
                break
        alive = sum(1 for s in results if s.closed_at is None)
        # After the idle period: do the channel layer's readers still deliver?
        probe = results[: args.idle_probe]
        rate_end = asyncio.get_running_loop().time()
        await asyncio.gather(
            *(
                paced_sender(
                    sock=s,
                    ledger=ledger,
                    role="patron",
                    tag=f"i{j}",
                    rate=1.0,
                    start=rate_end + (j % 50) / 50,
                    end=rate_end + (j % 50) / 50 + 0.5,
                    size=60,
                    make_frame=lambda cid, body: {
                        "type": "message.send",
                        "client_id": cid,
                        "body": body,
                    },
                )
                for j, s in enumerate(probe)
            )
        )
        await drain_echo(ledger, 30)
        echoed = sum(1 for c in ledger.sent if ledger.echo[c] >= 1)
        acked = len(ledger.acked)
        mem = server.memory()
        for s in results:
            await s.close()
        return [
            config.name,
            len(results),
            f"{connect_s:.1f}",
            f"{base / 1024:.0f}",
            f"{after / 1024:.0f}",
            f"{(after - base) / max(1, len(results)):.1f}",
            args.idle_seconds,
            alive,
            f"{acked}/{len(ledger.sent)}",
            f"{echoed}/{len(ledger.sent)}",
            f"{mem['hwm'] / 1024:.0f}",
        ]
    finally:
        stack.cleanup()
        if not args.keep:
            harness.remove_workdir(workdir)


async def drain_echo(ledger, timeout):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if all(ledger.echo[c] >= 1 for c in ledger.sent):
            return
        await asyncio.sleep(0.2)


IDLE_HEADERS = [
    "config",
    "idle conns",
    "connect s",
    "RSS before MB",
    "RSS after MB",
    "kB/conn",
    "held s",
    "still open",
    "probe acked",
    "probe delivered",
    "peak MB",
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--configs",
        default="embedded,pg-pubsub-1,pg-pubsub-3,pg-core-1,pg-core-3",
        help=f"comma-separated, from {', '.join(harness.CONFIGS)}",
    )
    parser.add_argument("--patrons", type=int, default=20, help="patrons (= chats); default 20")
    parser.add_argument("--operators", type=int, default=5, help="operators; default 5")
    parser.add_argument(
        "--rate", default="1", help="messages/s per side per chat; a list runs each: 1,4"
    )
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of sending per phase")
    parser.add_argument("--body", type=int, default=120, help="message body size in characters")
    parser.add_argument(
        "--drain", type=float, default=15.0, help="max seconds to wait for stragglers"
    )
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy each Daphne during the phase"
    )
    parser.add_argument(
        "--idle", type=int, default=0, help="idle-capacity mode: this many patron sockets"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=20.0, help="how long idle sockets are held"
    )
    parser.add_argument(
        "--idle-probe", type=int, default=300, help="idle sockets that send a message after"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    args.rates = [float(r) if "." in r else int(r) for r in args.rate.split(",")]
    configs = harness.parse_configs(args.configs)
    if args.operators < 1 or args.patrons < 1:
        parser.error("need at least one patron and one operator")

    print(
        f"# LibDesk chat_load {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores, 127.0.0.1"  # noqa: E501
    )
    if args.idle:
        rows = [asyncio.run(run_idle(c, args)) for c in configs]
        print(f"# idle capacity: {args.idle} patron widget sockets (hello done) on one Daphne")
        harness.print_table(IDLE_HEADERS, rows)
        return 0
    print(
        f"# {args.patrons} patrons, {args.operators} operators, {args.rate}/s per side per chat, "
        f"{args.duration:.0f}s, body {args.body} chars; floor = {args.patrons} socket pairs"
    )
    rows = []
    for config in configs:
        try:
            rows += asyncio.run(load_config(config, args))
        except Exception as error:  # noqa: BLE001 - one failed configuration, not the table
            log(f"{config.name} failed: {error!r}"[:500])
            rows.append([config.name, "FAILED", *[""] * (len(HEADERS) - 2)])
    harness.print_table(HEADERS, rows)
    print(
        "# lost = sent but never delivered to the other side; echo = to the sender's own socket; "
        "db miss/dbl/gaps = acked but not stored / stored twice / chats with seq gaps"
    )
    for line in peak_lines():
        print(line)
    print(
        f"# kept up = delivered >= {KEPT_UP_DELIVERED:.0%} of what was offered, p99 <= "
        f"{KEPT_UP_P99_MS:.0f} ms (run several rates, e.g. --rate 4,5,5.5,6, to find the peak)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
