"""The desk beside the best of its own stack (issue 21), in one run, printed as ratios.

    .venv/bin/python benchmarks/floors.py                    # ~4 min
    .venv/bin/python benchmarks/floors.py --repeat 3 --saturate 30 --rate 1

Variants, each on freshly started servers, in the same invocation (so their ratios
compare like with like on a machine whose load changes):

- ``bare``: a bare ``websockets`` relay (benchmarks/floor/bare_relay.py), the machine's
  floor: no Daphne, no channel layer, no database.
- ``lean`` (floor b): the same Daphne, settings and channel layer as the desk, relay
  only: no database, no per-event database-connection hop (``/ws/floor-lean/``).
- ``stored`` (floor c): ``lean`` plus the desk's persistence strategy — the same socket
  database threads, the same batching (``chat.consumers.sends.SendBatches``), one
  statement per batch committed on its own — but no auth, routing, numbering or events
  beyond the relay (``/ws/floor-stored/``).
- ``desk``: LibDesk over /ws/patron/ and /ws/staff/ (benchmarks/chat_load.py's desk).
- ``desk-3`` (any kind but ``bare`` takes ``-N``): the same on N Daphne processes sharing
  the database and the channel layer, each chat's patron on another process than its
  librarian (as harness's pg-pubsub-3), so every message crosses processes. Its CPU is
  all N processes'; ``desk-3/desk`` is what several processes cost per message.
- ``NAME:ABLATION`` (``desk:before``…): NAME with a cheap win switched off (ABLATIONS).
- ``NAME@REVISION`` (``desk@HEAD~1``): NAME on that commit's source (a ``git archive``
  snapshot), to measure a change against the tree before it in the same run.

All on PostgreSQL (``BENCH_PG_DB``, default ``libdesk_floors``) and a redis-server the
script starts itself on a free port, pub/sub channel layer, one Daphne unless ``-N``.
"Redis commands per message" is that server's ``INFO commandstats`` calls over the run
(by command in the lines under the table) per delivered message; "round trips/msg" its
socket reads (``total_reads_processed``: pipelined commands share one). Each variant runs
twice: at ``--saturate`` msg/s per side per chat (msg/s delivered at saturation and CPU
per message) and at the fixed open-loop ``--rate`` (p50/p99 latency). CPU is each
process's own: the Daphne (or relay) process, the PostgreSQL backends serving the
benchmark database, the script's redis-server, over the whole run (send and drain),
divided by the messages delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("BENCH_PG_DB", "libdesk_floors")

from benchmarks import chat_load, harness  # noqa: E402

log = harness.log
VARIANTS = ("bare", "lean", "stored", "desk", "desk-3")
KINDS = ("bare", "lean", "stored", "desk")
# Before/after for the cheap wins: "desk:no-hiredis" etc. run with these switched off.
ABLATIONS = {
    "no-hiredis": {"BENCH_NO_HIREDIS": "1"},
    "no-prepare": {"DB_PREPARE_MESSAGE_STATEMENTS": "0"},
    "before": {"BENCH_NO_HIREDIS": "1", "DB_PREPARE_MESSAGE_STATEMENTS": "0"},
    "no-pipeline": {"BENCH_STOCK_LAYER": "1"},
    "uvloop": {"EVENT_LOOP": "uvloop"},
    "asyncio": {"EVENT_LOOP": "asyncio"},
}
KEPT_UP_P99_MS = chat_load.KEPT_UP_P99_MS


def start_bare(stack) -> harness.Server:
    port = harness.free_port()
    log_path = stack.workdir / f"bare-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.floor.bare_relay", "--port", str(port)],
        cwd=harness.SERVER_ROOT,
        env={**os.environ, "PYTHONPATH": str(harness.SERVER_ROOT)},
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = harness.Server(port, proc, log_path)
    stack.servers.append(server)
    deadline = time.monotonic() + 30
    import socket

    while time.monotonic() < deadline:
        try:
            socket.create_connection((harness.HOST, port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"bare relay on {port} did not start:\n{log_path.read_text()}")


def parse_variant(name: str) -> tuple[str, int, str, str]:
    """``"desk-3@HEAD~2:no-prepare"`` -> ("desk", 3, "HEAD~2", "no-prepare"): kind,
    Daphne processes (the clients spread across them, as harness's pg-pubsub-3 does),
    the commit whose source the servers run (none: this tree), ablation."""
    variant, _, ablation = name.partition(":")
    variant, _, revision = variant.partition("@")
    kind, _, processes = variant.partition("-")
    return kind, int(processes or 1), revision, ablation


def source_of(revision: str, workdir: Path) -> Path:
    """A snapshot of ``revision``'s tree (``git archive``), made once per run: a change
    measured against the commit before it, in the same run."""
    target = workdir / f"src-{revision.replace('/', '_').replace('~', '_')}"
    if not target.exists():
        target.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(harness.ROOT), "archive", revision],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


async def run_variant(stack, name: str, args, rate) -> dict:
    variant, processes, revision, ablation = parse_variant(name)
    stack.run_id = uuid.uuid4().hex[:8]  # client ids and channel names of this phase alone
    saved, saved_root = dict(os.environ), harness.SERVER_ROOT
    os.environ.update(ABLATIONS.get(ablation, {}))  # Stack.env() passes these on
    if revision:
        harness.SERVER_ROOT = source_of(revision, stack.workdir)
    try:
        servers = [start_bare(stack)] if variant == "bare" else stack.start(processes)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        harness.SERVER_ROOT = saved_root
    try:
        if variant == "desk":
            return await chat_load.run_desk(stack, servers, args, rate)
        path, table = {
            "bare": ("/", None),
            "lean": ("/ws/floor-lean/", None),
            "stored": ("/ws/floor-stored/", "bench_floor"),
        }[variant]
        return await chat_load.run_floor(stack, servers, args, rate, path=path, table=table)
    finally:
        stack.stop()


def p99(r) -> float:
    return max(r["p2o"]["p99"], r["o2p"]["p99"])


def p50(r) -> float:
    return max(r["p2o"]["p50"], r["o2p"]["p50"])


def kept_up(r) -> bool:
    return r["delivered_rate"] >= 0.98 * r["sent_rate"] and p99(r) <= KEPT_UP_P99_MS


HEADERS = [
    "run",
    "variant",
    "offered/s",
    "deliv/s",
    "lost/unacked",
    "db miss/dbl",
    "daphne µs/msg",
    "pg µs/msg",
    "redis µs/msg",
    "Redis commands per message",
    "round trips/msg",
    "drain s",
    f"@{'{rate}'}/s p50/p99 ms",
    "kept up",
]


def row(n, variant, sat, fixed) -> list:
    return [
        n,
        variant,
        f"{sat['sent_rate']:.0f}",
        f"{sat['delivered_rate']:.0f}",
        f"{sat['lost']}/{sat['unacked']}",
        f"{sat['db_missing']}/{sat['db_doubled']}",
        f"{sat['server_us']:.0f}",
        f"{sat['pg_us']:.0f}",
        f"{sat['redis_us']:.0f}",
        f"{sat['redis_per_msg']:.2f}",
        f"{sat['redis_reads_per_msg']:.2f}",
        f"{sat['drain_s']:.1f}",
        f"{harness.fmt_ms(p50(fixed))}/{harness.fmt_ms(p99(fixed))}",
        "yes" if kept_up(fixed) else "NO",
    ]


def ratio_lines(n, results) -> list[str]:
    lines = []
    pairs = [("desk", floor) for floor in ("lean", "stored", "bare")]
    # Ablations, older commits and process counts against the variant they change.
    pairs += [(base, name) for name in results if (base := name.partition(":")[0]) != name]
    pairs += [(base, name) for name in results if (base := name.partition("@")[0]) != name]
    pairs += [(name, name.partition("-")[0]) for name in results if "-" in name and ":" not in name]
    for mine, floor in pairs:
        desk, other = results.get(mine), results.get(floor)
        if not desk or not other:
            continue
        ds, fs = desk[0], other[0]
        lines.append(
            f"# run {n} {mine}/{floor}: msg/s {ds['delivered_rate'] / fs['delivered_rate']:.2f}x,"
            f" Daphne CPU/msg {ds['server_us'] / max(fs['server_us'], 1e-9):.2f}x,"
            f" Daphne+pg+redis CPU/msg "
            f"{(ds['server_us'] + ds['pg_us'] + ds['redis_us']) / max(fs['server_us'] + fs['pg_us'] + fs['redis_us'], 1e-9):.2f}x"  # noqa: E501
        )
    return lines


async def one_run(stack, args, n) -> tuple[list, list]:
    results = {}
    rows = []
    for variant in args.variants:
        log(f"run {n}: {variant} at {args.saturate}/s per side (saturation)")
        # py-spy (--profile) samples the first process while it sends at saturation.
        args.profile = variant in args.profiled
        sat = await run_variant(stack, variant, args, args.saturate)
        args.profile = False
        log(f"run {n}: {variant} at {args.rate}/s per side (latency)")
        fixed = await run_variant(stack, variant, args, args.rate)
        results[variant] = (sat, fixed)
        rows.append(row(n, variant, sat, fixed))
    notes = ratio_lines(n, results)
    for variant, (sat, _fixed) in results.items():
        per_msg = {
            name: calls / max(1, sat["delivered"]) for name, calls in sat["redis_calls"].items()
        }
        shown = ", ".join(f"{name} {v:.3f}" for name, v in sorted(per_msg.items()) if v >= 0.001)
        notes.append(f"# run {n} {variant}: Redis commands per message: {shown or 'none'}")
    return rows, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patrons", type=int, default=50, help="chats (socket pairs); default 50")
    parser.add_argument("--operators", type=int, default=5, help="desk operators; default 5")
    parser.add_argument(
        "--saturate", type=float, default=30.0, help="msg/s per side per chat to saturate"
    )
    parser.add_argument("--rate", type=float, default=1.0, help="fixed open-loop rate per side")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of sending")
    parser.add_argument("--drain", type=float, default=20.0, help="max seconds of drain")
    parser.add_argument("--body", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=2, help="runs of all variants")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--profile",
        default="",
        metavar="VARIANTS",
        help="py-spy these variants' first Daphne at saturation (benchmarks/profile.py)",
    )
    args = parser.parse_args(argv)
    args.variants = [v for v in args.variants.split(",") if v]
    args.profiled = {v for v in args.profile.split(",") if v}
    args.profile = False
    for name in args.variants:
        try:
            kind, processes, _revision, ablation = parse_variant(name)
        except ValueError:
            parser.error(f"unknown variant {name!r}")
        if kind not in KINDS or processes < 1 or (ablation and ablation not in ABLATIONS):
            parser.error(f"unknown variant {name!r}: kinds {KINDS}, -N processes, :{ABLATIONS}")
        if kind == "bare" and processes != 1:
            parser.error("the bare relay runs as one process")

    workdir = harness.make_workdir()
    redis = harness.start_own_redis(workdir)
    stack = harness.Stack(harness.CONFIGS["pg-pubsub-1"], workdir)
    load = os.getloadavg()[0]
    print(
        f"# LibDesk floors {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores,"
        f" load {load:.1f} at start; {args.patrons} chats, saturation at {args.saturate}/s"
        f" and latency at {args.rate}/s per side per chat, {args.duration:.0f}s each;"
        f" PostgreSQL {harness.PG_DB}, own redis-server pid {redis.pid}, pub/sub"
    )
    rows, ratios = [], []
    try:
        log("preparing database")
        stack.prepare_database(operators=args.operators)
        for n in range(1, args.repeat + 1):
            r, q = asyncio.run(one_run(stack, args, n))
            rows += r
            ratios += q
    finally:
        stack.cleanup()
        redis.terminate()
        redis.wait(timeout=10)
        if not args.keep:
            harness.remove_workdir(workdir)
        else:
            log("kept", workdir)
    headers = [h.replace("{rate}", f"{args.rate:g}") for h in HEADERS]
    harness.print_table(headers, rows)
    for line in ratios:
        print(line)
    print(
        f"# µs/msg = CPU over the whole run (send + drain) / messages delivered; kept up ="
        f" at the fixed rate, >= 98% delivered and p99 <= {KEPT_UP_P99_MS:.0f} ms;"
        f" load {os.getloadavg()[0]:.1f} at the end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
