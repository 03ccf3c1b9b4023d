"""How events leave: after their transaction commits, to the channel layer, from the
thread that committed them or from a consumer's event loop (``after_call``). The events
themselves are declared in ``chat.events``, which re-exports what services call."""

import logging
import time
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def _send_now(groups: list[str], event: dict, chat_pk: int | None) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    envelope = {"type": "desk.event", "event": event, "chat_pk": chat_pk}
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, envelope)
        except Exception:  # the write is committed; clients resume from the database
            logger.exception("Could not broadcast %s to %s", event.get("type"), group)


# Set by ``after_call`` around a service called from a consumer: committed events wait
# here and the consumer's event loop sends them once the call returns.
_committed: ContextVar[list | None] = ContextVar("libdesk_committed_events", default=None)


def _on_commit(group_list: list[str], event: dict, chat_pk: int | None) -> None:
    waiting = _committed.get()
    if waiting is None:
        _send_now(group_list, event, chat_pk)
    else:
        waiting.append((group_list, event, chat_pk))


def broadcast_on_commit(
    groups: list[str] | str, event: dict, *, chat_pk: int | None = None
) -> None:
    """Send ``event`` to ``groups`` once the current transaction commits (never if it
    rolls back). Outside a transaction it is sent at once.

    ``chat_pk`` travels beside the event (never to a browser) so that consumers can
    join the chat's group without a query."""
    group_list = [groups] if isinstance(groups, str) else list(groups)
    transaction.on_commit(lambda: _on_commit(group_list, event, chat_pk))


def broadcast_snapshot_after_commit(build) -> None:
    """For snapshots of who is online (``presence.changed``, ``departments.changed``,
    ``department.presence``): once the current transaction commits, ``build(as_of)``
    reads them and returns ``[(groups, event), …]``, each event carrying ``as_of``
    (``snapshot_time()``, taken before the read). Read after the commit, a snapshot has
    seen that commit and every earlier one, so of two snapshots the one with the later
    ``as_of`` is the truer; consumers drop one older than what they already showed
    (events from two processes, or from a call that finished later, may arrive in
    either order)."""

    def send():
        for groups, event in build(snapshot_time()):
            broadcast_on_commit(groups, event)  # outside a transaction: at once

    transaction.on_commit(send)


def snapshot_time() -> float:
    """``as_of`` of a snapshot read now (seconds; the processes of one desk share a
    clock, or keep theirs in step with NTP)."""
    return time.time()


def after_call(func):
    """``func`` (a service call, run on a database thread by a consumer), changed so
    that the events it commits are kept instead of sent from that thread; returns
    ``(wrapped, committed)``. The consumer then awaits ``send_committed(committed)``
    on its event loop: the database thread never waits for the channel layer, and
    events are still sent only after their commit, in commit order."""
    committed: list = []

    def wrapped(*args, **kwargs):
        token = _committed.set(committed)
        try:
            return func(*args, **kwargs)
        finally:
            _committed.reset(token)

    return wrapped, committed


async def send_committed(committed: list) -> None:
    """Send what a call committed, in commit order. On the desk's Redis layer
    (``libdesk.channel_layer``) all of it is queued at once, so that a batch's events
    share round trips; on another layer, one event after the other."""
    layer = get_channel_layer()
    if layer is None or not committed:
        committed.clear()
        return
    items = []
    while committed:
        group_list, event, chat_pk = committed.pop(0)
        envelope = {"type": "desk.event", "event": event, "chat_pk": chat_pk}
        items += [(group, envelope) for group in group_list]
    send_many = getattr(layer, "group_send_many", None)
    if send_many is not None:
        try:
            await send_many(items)
            return
        except Exception:  # the write is committed; clients resume from the database
            kinds = sorted({envelope["event"].get("type") for _group, envelope in items})
            logger.exception("Could not broadcast %s to %d groups", kinds, len(items))
            return
    for group, envelope in items:
        try:
            await layer.group_send(group, envelope)
        except Exception:  # the write is committed; clients resume from the database
            logger.exception("Could not broadcast %s to %s", envelope["event"].get("type"), group)


async def relay_now(group: str, event: dict, *, chat_pk: int | None = None) -> None:
    """Send an ephemeral event (typing, signalling) from a consumer at once: nothing was
    written, so there is no commit to wait for."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(group, {"type": "desk.event", "event": event, "chat_pk": chat_pk})
    except Exception:  # a lost typing hint or candidate is retried by the browser
        logger.exception("Could not relay %s to %s", event.get("type"), group)
