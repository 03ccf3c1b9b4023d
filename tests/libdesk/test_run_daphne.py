"""``python -m libdesk.run_daphne``: Daphne on the event loop EVENT_LOOP names (uvloop by
default, the production commands' launcher)."""

import asyncio
import json
import subprocess
import sys

import pytest
from websockets.asyncio.client import connect

from tests import liveserver


async def _ping(port) -> dict:
    url = f"http://127.0.0.1:{port}"
    async with connect(f"ws://127.0.0.1:{port}/ws/patron/", origin=url, open_timeout=20) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        return json.loads(await asyncio.wait_for(ws.recv(), 20))


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
async def test_the_desk_answers_on_the_event_loop_it_was_given(tmp_path, loop):
    port = liveserver.free_port()
    log_path = tmp_path / "daphne.log"
    env = liveserver.desk_env(tmp_path, EVENT_LOOP=loop)
    with open(log_path, "wb") as log:
        process = liveserver.start_daphne(env, port, log)
    try:
        liveserver.wait_for_port(port, process)
        assert await _ping(port) == {"type": "pong", "last_seq": None}
    finally:
        liveserver.stop_processes([process])
    kind = {"uvloop": "uvloop.Loop", "asyncio": "asyncio.unix_events._UnixSelectorEventLoop"}
    assert f"Daphne on {kind[loop]}" in log_path.read_text()


def test_an_unknown_event_loop_is_refused_before_daphne_starts(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "libdesk.run_daphne", "-p", "1", "libdesk.asgi:application"],
        cwd=liveserver.ROOT,
        env=liveserver.desk_env(tmp_path, EVENT_LOOP="tokio"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "EVENT_LOOP='tokio': choose one of uvloop, asyncio" in result.stderr
