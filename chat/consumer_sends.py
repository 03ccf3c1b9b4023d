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
            await self.close(code=1011)
