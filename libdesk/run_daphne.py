"""Daphne, on the event loop that ``EVENT_LOOP`` names: ``uvloop`` (the default) or
``asyncio``. The production commands (Dockerfile, docker-compose.yml, deploy/) run it:

    python -m libdesk.run_daphne -b 127.0.0.1 -p 8000 libdesk.asgi:application

It takes Daphne's own arguments. Daphne runs on Twisted's asyncio reactor, which it
installs on a loop it makes with ``asyncio.new_event_loop()`` the moment
``daphne.server`` is imported, before the ASGI application (and so Django's settings)
is loaded: the loop's kind can only be chosen before that import, here, from the
environment (as every setting is; ``.env.example``). uvloop runs Twisted's reactor as
it is (readers, writers, timers, threads' callbacks: the loop API Twisted uses) and
costs the desk 9–22% less Daphne CPU per message than asyncio's own loop (same-run
pairs on a quiet machine; docs/operations.md, issue 21). ``EVENT_LOOP=asyncio`` is the
fallback; where uvloop is not installed (it has no Windows build) Daphne runs on
asyncio, and says so.
"""

import asyncio
import os
import sys

EVENT_LOOPS = ("uvloop", "asyncio")


def event_loop_name() -> str:
    name = (os.environ.get("EVENT_LOOP") or "uvloop").strip().lower()
    if name not in EVENT_LOOPS:
        raise SystemExit(f"EVENT_LOOP={name!r}: choose one of {', '.join(EVENT_LOOPS)}")
    return name


def install_event_loop(name: str) -> str:
    """Make ``asyncio.new_event_loop()`` return a loop of kind ``name``; returns the kind
    it will be (asyncio when uvloop is asked for but not installed)."""
    if "daphne.server" in sys.modules:
        raise RuntimeError("daphne.server was imported first: its loop is already made")
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("libdesk.run_daphne: uvloop is not installed; asyncio's loop", file=sys.stderr)
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return name


def main() -> None:
    install_event_loop(event_loop_name())
    from daphne import server
    from daphne.cli import CommandLineInterface

    loop = type(server.twisted_loop)
    print(
        f"libdesk.run_daphne: Daphne on {loop.__module__}.{loop.__qualname__}",
        file=sys.stderr,
        flush=True,
    )
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
