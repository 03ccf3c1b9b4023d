"""Real stand-ins for the faults we cannot cause on shared services.

- ``TcpProxy``: a TCP relay (asyncio, on a thread of its own) between a desk process and
  PostgreSQL. ``cut()`` drops every connection through it and refuses new ones (what a
  PostgreSQL restart or a network cut looks like to the desk); ``restore()`` listens again
  on the same port.
- ``PrivateRedis``: a ``redis-server`` of our own on a free port (no persistence), which
  can be stopped and started again on the same port. Never the shared Redis.

Both are used by tests/scaleout and benchmarks/faults.py.
"""

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time

HOST = "127.0.0.1"


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = HOST):
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.connections = 0  # accepted so far
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcpproxy", daemon=True)
        self._server = None
        self._transports: set[asyncio.WriteTransport] = set()

    def start(self) -> "TcpProxy":
        self._thread.start()
        self.restore()
        return self

    def _call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def restore(self) -> None:
        """Listen (again) on ``self.port``."""
        self._call(self._listen())

    def cut(self) -> None:
        """Reset every open connection and refuse new ones until ``restore()``."""
        self._call(self._cut())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._cut())
            self._call(asyncio.sleep(0.05))  # the relays notice and end
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _listen(self):
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, HOST, self.port, reuse_address=True
            )

    async def _cut(self):
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _handle(self, reader, writer):
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, up_writer.transport}
        self._transports |= pair

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._transports -= pair


class PrivateRedis:
    """``redis-server`` on a free port of 127.0.0.1, nothing saved to disk."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout=10.0) -> "PrivateRedis":
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"redis-server not answering on {self.port}")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill it (SIGKILL: no goodbye to its clients, like a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def restart(self, down_seconds=0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()
