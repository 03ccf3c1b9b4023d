"""Pages over loopback: the same Django project served by Daphne (ASGI) and by Gunicorn
(WSGI, ``libdesk.wsgi``), a small asyncio HTTP/1.1 client with keep-alive connections
(reopened when the server closes them, as Gunicorn's sync workers do) sending a fixed
number of GETs. Called by ``benchmarks/pages.py`` after its database is ready.
"""

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pids) -> float:
    """User + system CPU of these processes and their children (Gunicorn's workers)."""
    total = 0.0
    seen = set()
    stack = list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        except OSError:
            continue
        stack += [int(c) for c in children]
    return total


class Servers:
    """Start ``kind`` ("daphne" or "gunicorn") on free ports; stop them on exit."""

    def __init__(self, kind: str, processes: int, database_url: str):
        self.kind, self.processes, self.database_url = kind, processes, database_url
        self.procs, self.ports = [], []

    def __enter__(self):
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "DJANGO_SETTINGS_MODULE": "libdesk.settings",
        }
        env.pop("REDIS_URL", None)
        if self.kind == "daphne":
            for _ in range(self.processes):
                port = _free_port()
                cmd = [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "libdesk.asgi:application",
                ]
                self._start(cmd, env, port)
        else:
            port = _free_port()
            cmd = [
                sys.executable,
                "-m",
                "gunicorn",
                "libdesk.wsgi",
                "-w",
                str(self.processes),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ]
            self._start(cmd, env, port)
        for port in self.ports:
            self._wait(port)
        return self

    def _start(self, cmd, env, port):
        self.procs.append(
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        self.ports.append(port)

    @staticmethod
    def _wait(port):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server on port {port} did not start")

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _read_response(reader):
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, chunked, close = None, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


async def _load(ports, path, cookie, total, concurrency):
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
        + (f"Cookie: {cookie}\r\n" if cookie else "")
        + "\r\n"
    ).encode()
    left = [total]
    latencies, statuses = [], {}

    async def worker(n):
        port = ports[n % len(ports)]
        reader = writer = None
        while left[0] > 0:
            left[0] -= 1
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            t0 = time.perf_counter()
            writer.write(request)
            status, close = await _read_response(reader)
            latencies.append((time.perf_counter() - t0) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return time.perf_counter() - t0, latencies, statuses


def compare(database_url: str, requests: int, concurrency: int):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from benchmarks.pages_seed import BENCH_OPERATOR

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=BENCH_OPERATOR))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    pages = [
        ("GET /accounts/login/ (light)", "/accounts/login/", ""),
        ("GET /dashboard/", "/dashboard/", cookie),
    ]
    configs = [("daphne", 1), ("daphne", 2), ("gunicorn", 1), ("gunicorn", 2)]
    load = " ".join(open("/proc/loadavg").read().split()[:3])
    print(
        f"\nover loopback: {requests} requests, {concurrency} keep-alive connections; "
        f"load average before {load}"
    )
    print(
        f"{'server':<12} {'page':<30} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv cpu':>8} {'cpu ms/req':>10} {'status':>10}"
    )
    for kind, n in configs:
        with Servers(kind, n, database_url) as servers:
            pids = [p.pid for p in servers.procs]
            for label, path, page_cookie in pages:
                asyncio.run(_load(servers.ports, path, page_cookie, 100, concurrency))  # warm
                cpu0 = _cpu_seconds(pids)
                elapsed, latencies, statuses = asyncio.run(
                    _load(servers.ports, path, page_cookie, requests, concurrency)
                )
                cpu_seconds = _cpu_seconds(pids) - cpu0
                cpu = cpu_seconds / elapsed * 100
                latencies.sort()
                print(
                    f"{kind + ' x' + str(n):<12} {label:<30} {requests / elapsed:>7.0f}"
                    f" {statistics.median(latencies):>7.1f}"
                    f" {latencies[int(len(latencies) * 0.99) - 1]:>7.1f} {cpu:>7.0f}%"
                    f" {cpu_seconds * 1000 / requests:>10.1f}"
                    f" {','.join(f'{k}:{v}' for k, v in sorted(statuses.items())):>10}",
                    flush=True,
                )
    print("load average after " + " ".join(open("/proc/loadavg").read().split()[:3]))
