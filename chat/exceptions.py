"""Expected, user-facing failures. Consumers and views turn them into error frames or
responses ``{"type": "error", "code": ..., "message": ...}``; nothing else is caught.

The ``code`` is stable (clients act on it); the ``message`` is for people, translated into
the socket's or request's language when the frame is built (``as_frame``)."""

from django.utils.translation import gettext_lazy as _


class DeskError(Exception):
    code = "error"
    default_message = _("That could not be done.")

    def __init__(self, message=None, *, code=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        super().__init__(self.message)

    def as_frame(self, **extra):
        return {"type": "error", "code": self.code, "message": str(self.message), **extra}


class InvalidInput(DeskError):
    code = "invalid"
    default_message = _("That request is not valid.")


class NotFound(DeskError):
    code = "not_found"
    default_message = _("No such chat.")


class Forbidden(DeskError):
    code = "forbidden"
    default_message = _("You may not do that.")


class Conflict(DeskError):
    code = "conflict"
    default_message = _("That chat has changed; reload it.")


class RateLimited(DeskError):
    code = "rate_limited"
    default_message = _("You are sending too fast. Please wait a moment and try again.")


class AlreadyClaimed(Conflict):
    code = "already_claimed"
    default_message = _("Another librarian has already claimed this chat.")


class Unavailable(DeskError):
    """The database or Redis could not be reached for a moment. Nothing was done (or, if
    the database committed before the connection broke, the retry is answered as a
    duplicate): the client sends the same frame again, same ``client_id``."""

    code = "unavailable"
    default_message = _("The desk could not do that just now. Please try again in a moment.")


def _transient_errors() -> tuple[type[BaseException], ...]:
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


# What a socket frame may fail with while a backing service is away: the consumer turns
# these into ``Unavailable`` (an error frame), not a closed socket.
TRANSIENT_ERRORS = _transient_errors()
