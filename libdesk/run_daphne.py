"""Daphne, on the event loop that ``EVENT_LOOP`` names: ``uvloop`` or ``asyncio``.

    python -m libdesk.run_daphne -b 127.0.0.1 -p 8000 libdesk.asgi:application

Takes Daphne's own arguments. Daphne runs on Twisted's asyncio reactor, which it
installs on a loop it makes with ``asyncio.new_event_loop()`` the moment
``daphne.server`` is imported, before the ASGI application (and so Django's settings)
is loaded: the loop's kind can only be chosen before that import, here, from the
environment (as every setting is; ``.env.example``).
"""

import asyncio
import os
import sys

EVENT_LOOPS = ("uvloop", "asyncio")


def event_loop_name() -> str:
    name = (os.environ.get("EVENT_LOOP") or "asyncio").strip().lower()
    if name not in EVENT_LOOPS:
        raise SystemExit(f"EVENT_LOOP={name!r}: choose one of {', '.join(EVENT_LOOPS)}")
    return name


def install_event_loop(name: str) -> None:
    """Make ``asyncio.new_event_loop()`` return a loop of kind ``name``."""
    if "daphne.server" in sys.modules:
        raise RuntimeError("daphne.server was imported first: its loop is already made")
    if name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main() -> None:
    install_event_loop(event_loop_name())
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
