"""What both websocket consumers share: the Origin check, the session store, frame
parsing and dispatch (``DeskConsumer``), close codes. The consumers themselves are in
``chat.consumers`` (the patron's) and ``chat.consumers.staff`` (the dashboard's)."""

import asyncio
import functools
import json
import logging
from importlib import import_module
from urllib.parse import urlsplit

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import translation
from django.utils.http import is_same_domain
from django.utils.translation import gettext as _

# Close codes (chat.close_codes: 4000-4999, the only ones Daphne sends), importable here.
from chat.close_codes import (  # noqa: F401
    CLOSE_FORBIDDEN,
    CLOSE_HELLO_TIMEOUT,
    CLOSE_SERVER_ERROR,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_UNAUTHENTICATED,
)
from chat.consumers.sends import ConcurrentSends
from chat.exceptions import (
    TRANSIENT_ERRORS,
    DeskError,
    InvalidInput,
    Unavailable,
)
from chat.text import RefusedText, load_json, refused_character
from libdesk.i18n import socket_language

logger = logging.getLogger(__name__)

try:  # what Daphne's websocket library raises on a send to a closed socket
    from autobahn.exception import Disconnected as SOCKET_GONE
except ImportError:  # another server: nothing of the kind to catch
    SOCKET_GONE = ()


# Detached presence checks, kept referenced until they finish (see StaffConsumer.disconnect).
_pending_reconciles: set[asyncio.Task] = set()
_pending_releases: set[asyncio.Task] = set()  # the same for DeskConsumer._release


def socket_is_secure(headers: dict) -> bool:
    """Whether the browser reached this socket over TLS, as Django's
    ``request.is_secure()`` decides it: Daphne gives a websocket scope no scheme, so
    behind a TLS proxy the proxy says so in ``SECURE_PROXY_SSL_HEADER`` (e.g.
    ``X-Forwarded-Proto: https``), the setting the HTTP side already trusts."""
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin1")
        value = headers.get(header, b"").decode("latin1")
        if value:
            return value.split(",", 1)[0].strip() == secure_value
    return False


def socket_own_origin(scope) -> str | None:
    """The desk's origin as this socket's browser addressed it (scheme, host, port: the
    ``Host`` header, or ``X-Forwarded-Host`` with USE_X_FORWARDED_HOST), or None when
    the host is not one of ALLOWED_HOSTS."""
    headers = dict(scope.get("headers", []))
    host = headers.get(b"host", b"")
    if settings.USE_X_FORWARDED_HOST and headers.get(b"x-forwarded-host"):
        host = headers[b"x-forwarded-host"].split(b",")[0].strip()
    try:
        host = host.decode("ascii")
    except UnicodeDecodeError:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    secure = scope.get("scheme") in ("wss", "https") or socket_is_secure(headers)
    return f"{'https' if secure else 'http'}://{host.lower()}"


@functools.cache
def _trusted_origins(_setting_value: tuple) -> CsrfViewMiddleware:
    """Django's own parsing of CSRF_TRUSTED_ORIGINS (exact, and ``*.`` subdomains)."""
    return CsrfViewMiddleware(lambda request: None)


def origin_allowed(scope) -> bool:
    """The socket's Origin must be the desk's own origin, scheme, host and port (both
    the dashboard and the widget iframe are served from this desk), or one listed in
    CSRF_TRUSTED_ORIGINS (e.g. the public address behind a proxy that rewrites Host),
    exactly as Django's CSRF check trusts a form's Origin. Another port or scheme of
    the same host is another site: cookies are not isolated by port, so a service
    there must not drive a librarian's socket."""
    origin = dict(scope.get("headers", [])).get(b"origin")
    if not origin:
        return False
    try:
        origin = origin.decode("ascii")
        parsed = urlsplit(origin)
    except (UnicodeDecodeError, ValueError):
        return False
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return False
    if origin == socket_own_origin(scope):
        return True
    trusted = _trusted_origins(tuple(settings.CSRF_TRUSTED_ORIGINS))
    if origin in trusted.allowed_origins_exact:
        return True
    return any(
        is_same_domain(parsed.netloc, host)
        for host in trusted.allowed_origin_subdomains.get(parsed.scheme, ())
    )


def _plain_id(value) -> bool:
    """A ``ref`` or ``client_id`` an error frame may echo: short, storable, not a bool."""
    if isinstance(value, str):
        return len(value) <= 200 and refused_character(value) is None
    return isinstance(value, int) and not isinstance(value, bool)


def _session_store(session_key):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


MAX_SEQ = 2**31 - 1  # sequence numbers are 32-bit in the database: anything larger is refused


def _int_at_least_zero(value, name) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise InvalidInput(_("%(name)s must be a whole number of at least 0.") % {"name": name})
    return value


async def release_channel(layer, channel_name) -> None:
    """What a consumer that has ended still holds on the channel layer, let go: its
    place in every group (a consumer that crashed never ran its disconnect) and, on
    Redis pub/sub, the subscription of its own channel. Channels' dispatch loop cancels
    the channel's pending receive when a consumer ends, which unsubscribes it only if
    that receive had started: one created for the next event a moment before the end
    is cancelled before it runs, and the channel stayed subscribed in Redis for good
    (issue 15: ~51 of every 2,000 sockets)."""
    loop_layer = layer._get_layer() if hasattr(layer, "_get_layer") else layer  # pub/sub: per loop
    named = f"{getattr(loop_layer, 'prefix', '')}__group__" if loop_layer is not layer else ""
    for group, members in list(getattr(loop_layer, "groups", {}).items()):
        if channel_name in members:
            await layer.group_discard(group.removeprefix(named), channel_name)
    channels = getattr(loop_layer, "channels", None)
    if isinstance(channels, dict) and channels.pop(channel_name, None) is not None:
        if hasattr(loop_layer, "_get_shard"):  # pub/sub: the Redis subscription
            await loop_layer._get_shard(channel_name).unsubscribe(channel_name)


class DeskConsumer(ConcurrentSends, AsyncWebsocketConsumer):
    """Frame parsing and error frames shared by the patron and staff sockets.

    A frame is a JSON object with a string ``type``; ``frame_<type with . as _>``
    handles it. Anything else gets an error frame and changes nothing.
    """

    frame_types: frozenset[str] = frozenset()
    # The language of this socket's error frames and texts: libdesk.i18n.socket_language
    # at first; the patron's chat's own once it said hello.
    _language: str | None = None

    @property
    def language(self) -> str:
        if self._language is None:
            self._language = socket_language(self.scope)
        return self._language

    @language.setter
    def language(self, code: str) -> None:
        self._language = code

    async def websocket_connect(self, message):
        with translation.override(self.language):
            await super().websocket_connect(message)

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            if getattr(self, "channel_name", None) and self.channel_layer is not None:
                # Its own task, shielded: Daphne cancels a consumer that is slow to end
                # (application_close_timeout) again every second, which would cut the
                # release short; the task finishes whatever happens to this one.
                release = asyncio.ensure_future(self._release())
                _pending_releases.add(release)
                release.add_done_callback(_pending_releases.discard)
                await asyncio.shield(release)

    async def _release(self):
        try:
            await release_channel(self.channel_layer, self.channel_name)
        except Exception:  # Redis away: its subscriptions went with the connection
            logger.warning("could not release %s", self.channel_name, exc_info=True)

    async def dispatch(self, message):
        # Channels' dispatch first runs close_old_connections through sync_to_async on
        # the process's one database thread, for every frame and every group event:
        # a thread hop per message, even for events that never touch the database.
        # Our database work runs only through chat.consumers.support, which settles its
        # thread's connections before and after each call, so the hop is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content):
        try:
            await self.send(text_data=json.dumps(content))
        except SOCKET_GONE:
            # The browser closed while an event was on its way: that frame has nobody to
            # go to. Its websocket.disconnect comes next and runs ``disconnect`` as usual
            # (raised, it ended the consumer without it: its groups and its dashboard
            # connection row stayed behind).
            pass

    async def refuse(self, code, message, close_code):
        await self.accept()
        await self.send_json({"type": "error", "code": code, "message": message})
        await self.close(code=close_code)

    async def receive(self, text_data=None, bytes_data=None):
        with translation.override(self.language):
            await self._receive(text_data)

    async def _receive(self, text_data):
        if text_data is None:
            await self.send_json(
                InvalidInput(_("Send JSON text frames."), code="binary").as_frame()
            )
            return
        limit = settings.LIBDESK["MAX_FRAME_BYTES"]
        if len(text_data) > limit or len(text_data.encode()) > limit:
            await self.send_json(
                InvalidInput(
                    _("Frame too large (limit %(limit)s bytes).") % {"limit": limit},
                    code="frame_too_large",
                ).as_frame()
            )
            return
        try:
            frame = load_json(text_data)
        except InvalidInput as error:
            if error.code == "bad_json":
                error = InvalidInput(_("That frame is not valid JSON."), code="bad_json")
            extra = {}
            if isinstance(error, RefusedText):  # the frame parsed: name what it was for
                frame = json.loads(text_data)
                if isinstance(frame, dict):
                    extra = {k: frame[k] for k in ("ref", "client_id") if _plain_id(frame.get(k))}
            await self.send_json(error.as_frame(**extra))
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_json(
                InvalidInput(
                    _("A frame is a JSON object with a string 'type'."), code="bad_frame"
                ).as_frame()
            )
            return
        ref = frame.get("ref") if isinstance(frame.get("ref"), (str, int)) else None
        extra = {"ref": ref} if ref is not None else {}
        if frame["type"] not in self.frame_types:
            await self.send_json(
                InvalidInput(
                    _("Unknown frame type %(type)s.") % {"type": repr(frame["type"][:40])},
                    code="unknown_type",
                ).as_frame(**extra)
            )
            return
        handler = getattr(self, "frame_" + frame["type"].replace(".", "_"))

        language = self.language

        async def handle():
            try:
                with translation.override(language):
                    await handler(frame)
            except (DeskError, *TRANSIENT_ERRORS) as error:
                if not isinstance(error, DeskError):  # database or Redis away for a moment
                    logger.warning("%s failed, the client will retry: %r", frame["type"], error)
                    error = Unavailable()
                if isinstance(frame.get("client_id"), str):
                    extra["client_id"] = frame["client_id"]
                with translation.override(language):
                    await self.send_json(error.as_frame(**extra))

        # Sends run beside the socket's other work, in order per chat (chat.consumers.sends).
        await self.run_frame(frame, handle)

    async def frame_ping(self, frame):
        await self.send_json({"type": "pong"})
