"""Message sends that do not hold up the rest of a socket.

A Channels consumer handles one thing at a time: while it waits on the database for a
``message.send``, the events for its other chats (a dashboard follows every chat its
librarian has) and its next frames wait behind it. Under load that made a busy
dashboard's incoming messages slower than its outgoing ones. Here a send runs as a task
of its own, so events keep flowing meanwhile, with three rules that keep the order a
client sees what it asked for:

- sends of one chat (``lane``) run one after the other, in the order they came;
- any other frame (end, close, transfer, open, ping…) first waits for every send in
  flight on the socket, so "send, then End Chat" stores the message before the end;
- at most ``MAX_SENDS_IN_FLIGHT`` per socket: past that, the socket reads its next
  frame only once one finished (a client that floods waits, as before).
"""

import asyncio
import logging
from collections import deque

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from chat.close_codes import CLOSE_SERVER_ERROR
from chat.consumers.support import DATABASE_FAILURES, database_failed, service
from chat.services.batched_sends import messages_send

logger = logging.getLogger(__name__)

MAX_SENDS_IN_FLIGHT = 32


class ConcurrentSends:
    """Mixed into a consumer whose ``receive`` calls ``run_frame`` for each frame."""

    send_frames = frozenset({"message.send"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sends_in_flight: set[asyncio.Task] = set()
        self._send_lanes: dict = {}  # lane -> its last send task

    async def run_frame(self, frame, handle):
        """Run ``handle()`` (a coroutine function: the frame's handler and its error
        frames) for ``frame`` under the rules above."""
        in_flight, lanes = self._sends_in_flight, self._send_lanes
        if frame["type"] not in self.send_frames:
            if in_flight:
                await asyncio.wait(list(in_flight))
            await handle()
            return
        while len(in_flight) >= MAX_SENDS_IN_FLIGHT:
            await asyncio.wait(list(in_flight), return_when=asyncio.FIRST_COMPLETED)
        lane = frame.get("chat") if isinstance(frame.get("chat"), str) else None
        task = asyncio.ensure_future(self._send_after(lanes.get(lane), handle))
        in_flight.add(task)
        lanes[lane] = task

        def finished(done, lane=lane):
            in_flight.discard(done)
            if lanes.get(lane) is done:
                del lanes[lane]

        task.add_done_callback(finished)

    async def _send_after(self, before, handle):
        if before is not None:
            await asyncio.wait([before])
        try:
            await handle()
        except Exception:
            # What escaping the consumer would have done: logged, the socket closed.
            logger.exception("message.send failed")
            message = _("That message could not be sent. Reconnecting…")
            await self.send_json({"type": "error", "code": "server_error", "message": message})
            await self.close(code=CLOSE_SERVER_ERROR)


class SendBatches:
    """The ``message.send`` calls of every socket of this process (of one event loop),
    so that the ones waiting for the database at the same moment go in one call
    (``chat.services.batched_sends``: one statement on PostgreSQL).

    A send starts at once while fewer than ``calls`` are running, alone: at an ordinary
    load nothing waits for anything. Past that, sends queue up, and when a call ends the
    next takes everything queued (up to ``size``, one message per chat; another of the
    same chat waits for the call after): the busier the desk, the fewer statements per
    message, which is what keeps it up at its peak.

    A send whose socket went away before its call started is dropped, as a plain
    ``socket_db`` call would be; once started it runs to its end and its events go out.
    """

    _per_loop: dict = {}
    # What one call runs (benchmarks/floor reuses the batching with a plain INSERT).
    store_many = staticmethod(messages_send)

    def __init__(self, calls: int, size: int):
        self.calls, self.size = max(1, calls), max(1, size)
        self._queue: deque = deque()  # (request, future)
        self._running: set[asyncio.Task] = set()

    @classmethod
    def of_this_loop(cls) -> "SendBatches":
        loop = asyncio.get_running_loop()
        batches = cls._per_loop.get(loop)
        if batches is None:
            for old in [other for other in cls._per_loop if other.is_closed()]:
                del cls._per_loop[old]  # test runs make a loop per test
            desk = settings.LIBDESK
            calls = min(desk["MESSAGE_BATCH_CALLS"], desk["SOCKET_DB_THREADS"])
            batches = cls._per_loop[loop] = cls(calls, desk["MESSAGE_BATCH_SIZE"])
        return batches

    async def send(self, **request):
        """``message_send(**request)``'s result, as a call of its own would give it."""
        future = asyncio.get_running_loop().create_future()
        # The caller's language, for the words of a refusal (services.batched_sends).
        self._queue.append(({**request, "language": translation.get_language()}, future))
        self._start()
        return await future

    def _start(self) -> None:
        while self._queue and len(self._running) < self.calls:
            batch, later, chats = [], [], set()
            while self._queue and len(batch) < self.size:
                request, future = item = self._queue.popleft()
                if future.done():
                    continue  # its socket went away before it started
                if request["chat_id"] in chats:
                    later.append(item)
                else:
                    chats.add(request["chat_id"])
                    batch.append(item)
            self._queue.extendleft(reversed(later))
            if not batch:
                return
            task = asyncio.ensure_future(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task) -> None:
        self._running.discard(task)
        self._start()

    async def _run(self, batch) -> None:
        try:
            results = await service(self.store_many, [request for request, _future in batch])
        except Exception as error:  # the whole call failed (the database thread pool…)
            results = [error] * len(batch)
        if any(isinstance(result, DATABASE_FAILURES) for result in results):
            # Answered, not raised: the other threads' kept connections are checked too.
            database_failed()
        for (_request, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
