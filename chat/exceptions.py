"""Expected, user-facing failures. Consumers and views turn them into error frames or
responses ``{"type": "error", "code": ..., "message": ...}``; nothing else is caught."""


class DeskError(Exception):
    code = "error"
    default_message = "That could not be done."

    def __init__(self, message=None, *, code=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        super().__init__(self.message)

    def as_frame(self, **extra):
        return {"type": "error", "code": self.code, "message": self.message, **extra}


class InvalidInput(DeskError):
    code = "invalid"
    default_message = "That request is not valid."


class NotFound(DeskError):
    code = "not_found"
    default_message = "No such chat."


class Forbidden(DeskError):
    code = "forbidden"
    default_message = "You may not do that."


class Conflict(DeskError):
    code = "conflict"
    default_message = "That chat has changed; reload it."


class RateLimited(DeskError):
    code = "rate_limited"
    default_message = "You are sending too fast. Please wait a moment and try again."


class AlreadyClaimed(Conflict):
    code = "already_claimed"
    default_message = "Another librarian has already claimed this chat."
