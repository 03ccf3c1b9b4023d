"""Soak: dashboards and widgets come and go for hours; the desk must not grow.

    .venv/bin/python benchmarks/socket_soak.py                         # 3 cycles of 2,000
    .venv/bin/python benchmarks/socket_soak.py --cycles 5 --staff 500 --patrons 1500 --wave 200

Two Daphne processes on PostgreSQL (``BENCH_PG_DB``) with the Redis pub/sub layer
(``BENCH_REDIS_URL``, a prefix of the run's own). Each cycle opens ``--staff`` dashboard
sockets (operators ``bench-op-<i>``, logged in once) and ``--patrons`` widget sockets
(``hello`` to one of ``--chats`` chats, every fourth one ``watch``-ing the department
first), ``--wave`` at a time, alternating between the two processes; each socket waits
for its first frame (``dashboard.state``, ``welcome``) and is closed again.

Printed at the baseline (after one warm-up wave: the first sockets open the database
threads' connections and fill caches) and after each cycle: the Redis pub/sub channels
of the run's prefix (groups and consumer channels), and per Daphne its open file
descriptors and RSS. PASS when, after the last cycle (given a few seconds to settle),
the channels and descriptors are back at the baseline and RSS within ``--rss-slack-mb``
of it. Issue 15: before the fix a cycle of 2,000 left ~80 group channels and ~51
consumer channels behind, for good.
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

log = harness.log


def redis_channels(prefix: str) -> int:
    """Pub/sub channels of ``prefix`` now subscribed on the benchmark's Redis."""
    import redis

    client = redis.Redis.from_url(harness.REDIS_URL)
    try:
        return len(client.pubsub_channels(f"{prefix}*"))
    finally:
        client.close()


def channel_kinds(prefix: str) -> dict[str, int]:
    """The subscribed channels of ``prefix`` by kind: each group name without its ids
    (``chat-*``, ``dept-*-queue``…), and the consumers' own channels."""
    import re

    import redis

    client = redis.Redis.from_url(harness.REDIS_URL)
    try:
        names = [n.decode() for n in client.pubsub_channels(f"{prefix}*")]
    finally:
        client.close()
    kinds: dict[str, int] = {}
    for name in names:
        rest = name[len(prefix) :]
        kind = (
            re.sub(r"\d+", "*", rest.removeprefix("__group__"))
            if "__group__" in rest
            else "consumer"
        )
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items()))


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def figures(stack: harness.Stack) -> dict:
    return {
        "channels": redis_channels(f"bench{stack.run_id}"),
        "fds": [open_fds(s.proc.pid) for s in stack.servers],
        "rss_mb": [harness.proc_memory_kb(s.proc.pid)["rss"] / 1024 for s in stack.servers],
    }


async def _first_frame(server, path, cookie, hello):
    """Open a socket, send ``hello`` frames, wait for its first answer, close it."""
    import json

    for attempt in range(3):  # a loaded listener may drop a handshake: retry
        try:
            ws = await harness.open_ws(server, path, cookie, open_timeout=120)
            break
        except Exception:  # noqa: BLE001
            if attempt == 2:
                raise
            await asyncio.sleep(1.0)
    try:
        for frame in hello:
            await ws.send(json.dumps(frame))
        wanted = {"dashboard.state", "welcome"}
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if frame.get("type") in wanted:
                return frame["type"]
    finally:
        await ws.close()


async def cycle(stack, cookies, tokens, staff: int, patrons: int, wave: int) -> dict:
    """One cycle; returns how many sockets of each kind got their first frame."""
    servers = stack.servers
    jobs = []
    for i in range(staff):
        jobs.append((servers[i % len(servers)], "/ws/staff/", cookies[i % len(cookies)], []))
    for i in range(patrons):
        token = tokens[i % len(tokens)]["token"]
        hello = [{"type": "hello", "token": token, "last_seq": 0}]
        if i % 4 == 0:
            hello.insert(0, {"type": "watch", "department": "bench"})
        jobs.append((servers[(i + 1) % len(servers)], "/ws/patron/", None, hello))
    done = {"dashboard.state": 0, "welcome": 0, "failed": {}}
    for start in range(0, len(jobs), wave):
        batch = jobs[start : start + wave]
        results = await asyncio.gather(
            *(_first_frame(*job) for job in batch), return_exceptions=True
        )
        for result in results:
            if isinstance(result, str):
                done[result] += 1
            else:  # a handshake refused or no first frame in time: an overloaded machine
                kind = type(result).__name__
                done["failed"][kind] = done["failed"].get(kind, 0) + 1
    return done


async def settle(stack, baseline, seconds) -> dict:
    """The figures once channels and fds are back at ``baseline``, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        now = figures(stack)
        back = now["channels"] <= baseline["channels"] and all(
            a <= b for a, b in zip(now["fds"], baseline["fds"], strict=True)
        )
        if back or time.monotonic() > deadline:
            return now
        await asyncio.sleep(0.5)


def row(label, found, done=None):
    fds = " / ".join(str(n) for n in found["fds"])
    rss = " / ".join(f"{mb:.1f}" for mb in found["rss_mb"])
    opened = f"{done['dashboard.state']} + {done['welcome']}" if done else "-"
    failed = ", ".join(f"{n} {kind}" for kind, n in done["failed"].items()) if done else ""
    return [label, opened, failed or "-", found["channels"], fds, rss]


async def run(args) -> bool:
    config = harness.Config("pg-pubsub-2", "postgres", "pubsub", 2)
    workdir = harness.make_workdir("libdesk-soak-")
    stack = harness.Stack(config, workdir)
    try:
        log(f"soak: preparing {args.operators} operators, {args.chats} chats")
        stack.prepare_database(operators=args.operators)
        tokens = stack.fixture(chats=args.chats)
        stack.start(2)
        cookies = [
            harness.login_cookie(stack.servers[i % 2], f"bench-op-{i}", PASSWORD)
            for i in range(args.operators)
        ]
        await cycle(stack, cookies, tokens, min(args.wave, args.staff), args.wave, args.wave)
        await asyncio.sleep(args.settle)
        baseline = figures(stack)
        rows = [row("baseline", baseline)]
        found = baseline
        for n in range(1, args.cycles + 1):
            t0 = time.monotonic()
            done = await cycle(stack, cookies, tokens, args.staff, args.patrons, args.wave)
            found = await settle(stack, baseline, args.settle)
            rows.append(row(f"cycle {n} ({time.monotonic() - t0:.0f} s)", found, done))
            log(rows[-1])
        headers = [
            "",
            "opened staff + patron",
            "failed",
            "redis channels",
            "fds / daphne",
            "RSS MB / daphne",
        ]
        print(f"# socket soak: 2 Daphne, PostgreSQL + Redis pub/sub, wave {args.wave}")
        harness.print_table(headers, rows)
        ok = (
            found["channels"] <= baseline["channels"]
            and all(a <= b for a, b in zip(found["fds"], baseline["fds"], strict=True))
            and all(
                a - b <= args.rss_slack_mb
                for a, b in zip(found["rss_mb"], baseline["rss_mb"], strict=True)
            )
        )
        print(
            ("PASS" if ok else "FAIL")
            + f": channels {baseline['channels']} -> {found['channels']},"
            f" fds {baseline['fds']} -> {found['fds']},"
            f" RSS within {args.rss_slack_mb} MB: "
            + str(
                [round(a - b, 1) for a, b in zip(found["rss_mb"], baseline["rss_mb"], strict=True)]
            )
        )
        if not ok or args.show_channels:
            print("channels by kind at the end:", channel_kinds(f"bench{stack.run_id}"))
        return ok
    finally:
        stack.cleanup()
        if not args.keep:
            harness.remove_workdir(workdir)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--staff", type=int, default=500, help="dashboard sockets per cycle")
    parser.add_argument("--patrons", type=int, default=1500, help="widget sockets per cycle")
    parser.add_argument("--wave", type=int, default=200, help="sockets open at once")
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to settle")
    parser.add_argument("--rss-slack-mb", type=float, default=15.0)
    parser.add_argument("--show-channels", action="store_true", help="list them by kind")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
