"""What the sockets share: where their database work runs, how a consumer calls a
service, and which messages a socket has already sent (``SentSeqs``).

Channels' ``database_sync_to_async`` puts every call of a process on one thread, and
closes the connection after each (``CONN_MAX_AGE`` 0): one busy thread and a new
connection per frame. The sockets' calls run instead on a small pool of threads of
their own (``SOCKET_DB_THREADS``: several on PostgreSQL, where each thread has its own
connection and rows are locked by the services; one on SQLite, which has one writer
at a time anyway). Each of these threads keeps its connection between calls — they
live as long as the process, so that is at most ``SOCKET_DB_THREADS`` connections per
process — and drops it when it is broken or left inside a transaction, as Django does
at the end of a request.
"""

import asyncio
import contextvars
import functools
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

from chat import events

_executor: ThreadPoolExecutor | None = None


def _socket_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        threads = max(1, int(settings.LIBDESK.get("SOCKET_DB_THREADS", 1)))
        _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="libdesk-db")
    return _executor


# A connection used within this many seconds is not health-checked again before a call
# (that would add a round trip to every frame); one idle for longer is, before the call.
# A connection that failed is dropped after the call.
_CHECK_AFTER_IDLE_SECONDS = 10.0

# When a call on one thread failed with a database error (PostgreSQL restarted, the
# network dropped), the other threads' kept connections are probably dead too: each is
# health-checked before its next call instead of failing one frame of its own.
_last_db_failure = 0.0


def _before_call() -> None:
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        connection.close_at = None  # kept while usable: see the module's docstring
        used = getattr(connection, "libdesk_used_at", 0.0)
        if not (now - used < _CHECK_AFTER_IDLE_SECONDS and used > _last_db_failure):
            # Idle for a while, or older than a failure: checked here, because Django
            # never checks a connection that came from the pool (it expects one per
            # request, checked by the pool on checkout) and this one was kept.
            if not connection.is_usable():
                try:
                    connection.close()
                except DatabaseError:
                    pass  # already broken; Django forgets it either way
                continue
        connection.health_check_done = True


def _after_call() -> None:
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            connection.close_at = None
        # Broken, or left in a transaction: closed (as at the end of a request).
        connection.close_if_unusable_or_obsolete()
        connection.libdesk_used_at = now


# Errors that mean the database connection (not the statement) failed.
DATABASE_FAILURES = (OperationalError, InterfaceError)


def database_failed() -> None:
    """Note a failure of the database so that every thread checks its kept connection
    before its next call. Raised through a call, it is noted below; a batch of sends
    answers each send instead, and notes it itself (chat.consumers.sends)."""
    global _last_db_failure
    _last_db_failure = time.monotonic()


def _on_db_thread(func, *args, **kwargs):
    _before_call()
    try:
        return func(*args, **kwargs)
    except DATABASE_FAILURES:
        database_failed()
        raise
    finally:
        _after_call()


def socket_db(func):
    """``database_sync_to_async`` for the sockets: ``await socket_db(f)(...)`` runs ``f``
    on the sockets' database threads. The events ``f`` commits are sent from the event
    loop once it returns (``chat.events.after_call``), before the consumer replies:
    the database thread never waits for the channel layer."""

    @functools.wraps(func)
    async def call(*args, **kwargs):
        wrapped, committed = events.after_call(func)
        # A plain executor call, not asgiref's SyncToAsync: these functions need none of
        # its thread bookkeeping (no async_to_sync inside, no context to carry back),
        # and on the message path its wrappers cost as much CPU as the service itself.
        context = contextvars.copy_context()
        work = _socket_executor().submit(context.run, _on_db_thread, wrapped, *args, **kwargs)
        future = asyncio.wrap_future(work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The socket went away mid-call. A call already running runs to its end (a
            # thread cannot be stopped): wait for it, so that what it committed is still
            # broadcast below; one not started yet is dropped.
            if not work.cancel():
                await asyncio.wait([future])
            raise
        finally:
            await events.send_committed(committed)

    return call


async def service(func, /, *args, **kwargs):
    """One service call from a socket (see ``socket_db``)."""
    return await socket_db(func)(*args, **kwargs)


class SentSeqs:
    """The sequence numbers of one chat that one socket has sent, whatever order they
    arrive in (two senders' events may cross): each goes out once. Small: every
    number up to ``floor`` was sent, ``above`` holds the rest."""

    __slots__ = ("floor", "above")

    def __init__(self, floor: int = 0):
        self.floor, self.above = floor, set()

    def __contains__(self, seq: int) -> bool:
        return seq <= self.floor or seq in self.above

    def raise_floor(self, floor: int) -> None:
        """The client says it has everything up to ``floor``."""
        if floor > self.floor:
            self.floor = floor
            self.above = {seq for seq in self.above if seq > floor}
        self._compact()

    def add(self, seq: int) -> bool:
        """Mark ``seq`` sent; False if it already was."""
        if seq in self:
            return False
        self.above.add(seq)
        self._compact()
        return True

    def _compact(self):
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.discard(self.floor)
