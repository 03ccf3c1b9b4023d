"""Websocket consumers: authenticate, join groups, forward events, and map each
incoming frame to one service call. Every frame and reply is in docs/protocol.md.

- ``patron``: the widget's socket (one chat, by its token);
- ``staff``: the dashboard's socket (the operator's departments, chats and internal chats);
- ``base``: what both share (origin and session checks, group bookkeeping, close codes);
- ``frames`` and ``media``: the frames each accepts, as mixins;
- ``sends``: message sends batched and run beside the socket's other work;
- ``support``: the database threads every consumer's service calls run on.

The routing and tests import the two consumers (and the bookkeeping tests wait on) from here."""

from chat.consumers.base import _pending_reconciles, origin_allowed
from chat.consumers.patron import PatronConsumer
from chat.consumers.staff import StaffConsumer, _staff_open, _staff_state

__all__ = [
    "PatronConsumer",
    "StaffConsumer",
    "_pending_reconciles",
    "_staff_open",
    "_staff_state",
    "origin_allowed",
]
