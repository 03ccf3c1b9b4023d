"""Requests too long to serve get an answer a person can read, not a dropped
connection: a 414 page for an address past ``MAX_URL_BYTES`` (Django, below), and the
same page from Daphne itself for a request line or headers past what its HTTP server
(Twisted) reads at all (16 KB), where Twisted used to drop the connection without a
word (a request line) or answer a bare, empty 400 (headers).

A long address is almost always a report or list link whose filter values were pasted
in; the page says so and where to go instead."""

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

_PAGES = {
    414: (
        "URI Too Long",
        _("That address is too long"),
        _(
            "The address of this page (its filters or search terms) is longer than the desk "
            "accepts. Go back and shorten the search or filter values, then try again."
        ),
    ),
    431: (
        "Request Header Fields Too Large",  # i18n: not user-facing (HTTP reason phrase)
        _("That request is too large"),
        _(
            "Your browser sent more request headers (often cookies) than the desk accepts. "
            "Clear this site's cookies, then try again."
        ),
    ),
    400: (
        "Bad Request",  # i18n: not user-facing (HTTP reason phrase)
        _("That request could not be read"),
        _("Your browser sent a request the desk could not read. Reload the page and try again."),
    ),
}


def page(status: int, language: str = "") -> bytes:
    """The HTML of the page for ``status`` (414, 431 or 400), in ``language`` (one the
    desk ships; empty: the library's default)."""
    _reason, title, text = _PAGES[status]
    code = language or settings.LANGUAGE_CODE
    with translation.override(code):
        direction = "rtl" if translation.get_language_bidi() else "ltr"
        return (
            f'<!doctype html><html lang="{code}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{title} – LibDesk</title></head><body><main>"
            f"<h1>{title}</h1><p>{text}</p>"
            f'<p><a href="/">{_("Back to the desk")}</a></p></main></body></html>'
        ).encode()


def raw_response(status: int) -> bytes:
    """The whole HTTP response, for the server side that has no Django to ask (and no
    complete headers to read a language from: the library's default language)."""
    body = page(status)
    head = (
        f"HTTP/1.1 {status} {_PAGES[status][0]}\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LongUrlMiddleware:
    """An address (path and query) past ``LIBDESK["MAX_URL_BYTES"]`` gets the 414 page
    before any view parses its query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.LIBDESK["MAX_URL_BYTES"]
        length = len(request.path_info.encode("utf-8", "surrogateescape"))
        length += len(request.META.get("QUERY_STRING", ""))
        if limit and length > limit:
            # Before LocaleMiddleware (nothing has read the request yet): the staff's chosen
            # language (the cookie), else the browser's, as every other page.
            language = translation.get_language_from_request(request)
            response = HttpResponse(
                page(414, language), status=414, content_type="text/html; charset=utf-8"
            )
            response["Content-Language"] = language
            return response
        return self.get_response(request)


def answer_oversized_requests_in_daphne() -> None:
    """Make Twisted's HTTP server (under Daphne) answer with the pages above where it
    used to drop the connection (request line past ``MAX_LENGTH``) or send a bare 400
    (all headers past ``totalHeadersSize``). Called once from ``libdesk.asgi``."""
    from twisted.web import http

    channel = http.HTTPChannel
    if getattr(channel, "libdesk_answers_oversized", False):
        return

    def reading_request_line(self) -> bool:
        return bool(getattr(self, "_HTTPChannel__first_line", 0))

    def answer(self, status):
        self.transport.write(raw_response(status))
        self.loseConnection()

    def lineLengthExceeded(self, line):
        # One line past MAX_LENGTH: the request line (an address too long) or a header.
        answer(self, 414 if reading_request_line(self) else 431)

    def respond_to_bad_request(self):
        if getattr(self, "_receivedHeaderSize", 0) > self.totalHeadersSize:
            path = getattr(self, "_path", b"") or b""
            long_path = reading_request_line(self) or len(path) > self.totalHeadersSize // 2
            answer(self, 414 if long_path else 431)
        else:
            answer(self, 400)

    channel.lineLengthExceeded = lineLengthExceeded
    channel._respondToBadRequestAndDisconnect = respond_to_bad_request
    channel.libdesk_answers_oversized = True
