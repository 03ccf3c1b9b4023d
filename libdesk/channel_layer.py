"""The desk's channel layer on Redis: channels-redis's pub/sub layer, with its
publishes pipelined.

channels-redis sends each ``group_send`` as one ``PUBLISH`` and waits for its reply
under the connection's lock before the next may start: one round trip per event, one
after the other, however many are waiting (a batch of 32 stored messages is 32 events).
Here the publishes waiting at the same moment go in one round trip (a pipeline, not a
transaction): the first is sent at once, and whatever queues while it is on its way
goes together in the next, in the order it was queued. The busier the process, the
fewer round trips per event; alone, an event costs what it did. ``group_send`` still
returns once Redis has taken the event (or raises if it could not), so a caller that
awaits one event before sending the next sees the same order as before.

``group_send_many`` queues several events at once (the events of one service call,
``chat.event_sending.send_committed``), so that they share round trips too.

Receiving, groups and channels are channels-redis's own.
"""

import asyncio

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts


class PipelinedShardConnection(RedisSingleShardConnection):
    """One Redis host's connections, with ``publish`` queued and sent in pipelines."""

    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future]] = []
        self._sender: asyncio.Task | None = None

    async def publish(self, channel, message):
        await self.publish_many([(channel, message)])

    async def publish_many(self, items) -> None:
        """PUBLISH each ``(channel, message)`` of ``items`` in order; returns once Redis
        took them all."""
        loop = asyncio.get_running_loop()
        taken = loop.create_future()
        self._outbox.extend((channel, message, taken) for channel, message in items)
        if self._sender is None:
            self._sender = loop.create_task(self._send_outbox())
        await taken

    async def _send_outbox(self) -> None:
        try:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                try:
                    async with self._lock:
                        self._ensure_redis()
                        if len(batch) == 1:
                            await self._redis.publish(batch[0][0], batch[0][1])
                        else:
                            pipe = self._redis.pipeline(transaction=False)
                            for channel, message, _taken in batch:
                                pipe.publish(channel, message)
                            await pipe.execute()
                except BaseException as error:
                    for *_item, taken in batch:
                        if not taken.done():
                            taken.set_exception(error)
                    if not isinstance(error, Exception):  # cancelled: the loop is ending
                        raise
                else:
                    for *_item, taken in batch:
                        if not taken.done():
                            taken.set_result(None)
        finally:
            self._sender = None
            for *_item, taken in self._outbox:  # only if cancelled
                if not taken.done():
                    taken.cancel()
            self._outbox = []


class PipelinedLoopLayer(RedisPubSubLoopLayer):
    """channels-redis's per-event-loop layer, on ``PipelinedShardConnection``."""

    def __init__(self, hosts=None, prefix="asgi", **kwargs):
        super().__init__(hosts, prefix, **kwargs)
        self._shards = [PipelinedShardConnection(host, self) for host in decode_hosts(hosts)]

    async def group_send_many(self, items) -> None:
        """``group_send(group, message)`` for each ``(group, message)`` of ``items``, in
        order, in as few round trips as the shards allow."""
        by_shard: dict = {}
        for group, message in items:
            group_channel = self._get_group_channel_name(group)
            by_shard.setdefault(self._get_shard(group_channel), []).append(
                (group_channel, self.channel_layer.serialize(message))
            )
        for shard, published in by_shard.items():
            await shard.publish_many(published)


class PipelinedPubSubChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with pipelined publishes
    (see the module's docstring); configured exactly as that layer is."""

    async def group_send_many(self, items) -> None:
        await self._get_layer().group_send_many(items)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = PipelinedLoopLayer(
                *self._args, **self._kwargs, channel_layer=self
            )
            _wrap_close(self, loop)
            return layer
