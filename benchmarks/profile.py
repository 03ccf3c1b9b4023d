"""Optional py-spy sampling of the Daphne processes during a phase (``--profile``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from benchmarks import harness

# Where the samples' innermost Python frame is, by the file's path: the share of the
# process's CPU each layer costs itself (a C function counts for the Python frame that
# called it: json.dumps for its caller). First match wins.
LAYERS = (
    ("LibDesk", ("/chat/", "/libdesk/", "/tickets/", "/analytics/", "/benchmarks/")),
    ("channels-redis", ("/channels_redis/",)),
    ("Channels", ("/channels/",)),
    ("Daphne", ("/daphne/",)),
    ("Twisted/autobahn", ("/twisted/", "/autobahn/", "/txaio/", "/zope/")),
    ("redis-py", ("/redis/",)),
    ("psycopg", ("/psycopg", "/psycopg_pool/")),
    ("Django ORM", ("/django/db/",)),
    ("Django", ("/django/",)),
    ("asgiref", ("/asgiref/",)),
    ("asyncio", ("/asyncio/",)),
    ("uvloop", ("/uvloop/",)),
    ("json/msgpack", ("/json/", "/msgpack/")),
    ("threads/stdlib", ("/threading.py", "/concurrent/", "/queue.py", "/selectors.py")),
)


def layer_of(frame: str) -> str:
    path = frame.rsplit("(", 1)[-1]
    for name, parts in LAYERS:
        if any(part in path for part in parts):
            return name
    return "other"


class Profiler:
    def __init__(self, servers, workdir: Path, label: str, seconds: float):
        self.outputs = []
        self.procs = []
        exe = shutil.which("py-spy") or str(harness.BIN / "py-spy")
        for server in servers[:1]:
            out = workdir / f"{label}-{server.port}.txt"
            self.outputs.append(out)
            self.procs.append(
                subprocess.Popen(
                    [
                        exe,
                        "record",
                        "--pid",
                        str(server.proc.pid),
                        "--duration",
                        str(int(seconds)),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--output",
                        str(out),
                        "--nonblocking",
                        "--threads",
                        "--full-filenames",  # for LAYERS
                        # "--gil" (BENCH_PYSPY_ARGS): only the thread holding the GIL, i.e.
                        # where the Python CPU goes, not threads waiting on a socket or
                        # for the GIL itself.
                        *os.environ.get("BENCH_PYSPY_ARGS", "").split(),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        self.label = label

    @classmethod
    def maybe(cls, enabled, servers, workdir, label, seconds):
        return cls(servers, workdir, label, seconds) if enabled else None

    def report(self, top=25):
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        keep = os.environ.get("BENCH_PYSPY_KEEP")  # a folder to keep the raw stacks in
        for out in self.outputs:
            if not out.exists():
                harness.log("py-spy wrote nothing (is it installed?)")
                continue
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(out, Path(keep) / out.name)
            inclusive, leaf, by_thread, total = Counter(), Counter(), Counter(), 0
            layers = Counter()
            for line in out.read_text().splitlines():
                stack, _, count = line.rpartition(" ")
                if not count.isdigit():
                    continue
                n = int(count)
                total += n
                frames = stack.split(";")
                by_thread[frames[0][:60]] += n
                seen = set()
                for frame in frames[1:]:
                    name = (
                        frame.split(" (")[0]
                        + " "
                        + frame.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
                    )
                    if name not in seen:
                        inclusive[name] += n
                        seen.add(name)
                if len(frames) > 1:
                    leaf[frames[-1].split(" (")[0] + " " + frames[-1].rsplit("/", 1)[-1]] += n
                    layers[layer_of(frames[-1])] += n
            print(f"# py-spy {self.label}: {total} samples; by thread:")
            for name, n in by_thread.most_common(6):
                print(f"#   {100 * n / total:5.1f}%  {name}")
            print("# by layer (innermost Python frame's file):")
            for name, n in layers.most_common():
                print(f"#   {100 * n / total:5.1f}%  {name}")
            print("# inclusive (function file):")
            for name, n in inclusive.most_common(top):
                print(f"#   {100 * n / total:5.1f}%  {name}")
            print("# leaf frames:")
            for name, n in leaf.most_common(12):
                print(f"#   {100 * n / total:5.1f}%  {name}")
