"""The desk's languages: which one a widget speaks, the JavaScript modules' strings,
and the catalogs compiled without GNU gettext.

The widget's language (docs/protocol.md, "Languages"): the iframe's ``?lang=`` (what the
loader passes: the patron's own choice made in the widget, else the embed snippet's
``data-lang``, else the host page's ``<html lang>``), else the browser's
Accept-Language; a language the desk does not ship gives the library's default
(settings.LANGUAGE_CODE).
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import pgettext
from django.views.i18n import JavaScriptCatalog


def supported_language(code: str | None) -> str | None:
    """The shipped language ``code`` names ("es-MX" → "es"), or None."""
    if not code or not isinstance(code, str) or len(code) > 35:
        return None
    try:
        return translation.get_supported_language_variant(code.strip().replace("_", "-"))
    except LookupError:
        return None


def widget_language(request) -> str:
    """The language the widget's iframe is rendered in (see the module docstring)."""
    asked = request.GET.get("lang")
    if asked:
        return supported_language(asked) or settings.LANGUAGE_CODE
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def text_direction(code: str) -> str:
    return "rtl" if translation.get_language_info(code)["bidi"] else "ltr"


def language_choices() -> list[dict]:
    """The shipped languages for a language picker: code, own name, direction."""
    return [
        {"code": code, "name": name, "dir": text_direction(code)}
        for code, name in settings.LANGUAGES
    ]


def set_language(request):
    """The Language menu (Django's ``set_language``: the cookie the interface follows),
    and for an operator the choice kept on their record too, so that mail to them
    (chat.services.operator_set_language) is written in it."""
    from django.views.i18n import set_language as set_language_cookie

    from chat.models import Operator
    from chat.services import operator_set_language

    response = set_language_cookie(request)
    chosen = supported_language(request.POST.get("language"))
    if request.method == "POST" and chosen and request.user.is_authenticated:
        operator = Operator.objects.filter(user=request.user).first()
        if operator is not None:
            operator_set_language(operator=operator, language=chosen)
    return response


# The operator's kept language, put in the session when they log in (chat.signals).
SESSION_LANGUAGE_KEY = "libdesk_operator_language"


def remember_operator_language(request, user) -> None:
    """At log in: the language the operator chose before (on any browser), for
    ``OperatorLanguageMiddleware`` to follow where this browser has no choice of its own."""
    from chat.models import Operator

    language = Operator.objects.filter(user=user).values_list("language", flat=True).first() or ""
    if supported_language(language):
        request.session[SESSION_LANGUAGE_KEY] = language


class OperatorLanguageMiddleware:
    """A browser with no language cookie (a new one, after log in) speaks the operator's
    kept language rather than its Accept-Language, and gets the cookie, which the
    dashboard's socket reads too (``socket_language``). A browser's own choice (the
    cookie) still wins. Runs after LocaleMiddleware; costs nothing but a session read,
    and only where the cookie is missing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        kept = None
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and hasattr(request, "session"):
            kept = supported_language(request.session.get(SESSION_LANGUAGE_KEY))
        if kept is None:
            return self.get_response(request)
        translation.activate(kept)
        request.LANGUAGE_CODE = kept
        response = self.get_response(request)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            kept,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response


def alternatives(items) -> str:
    """``items`` joined as alternatives in the active language: "a or b", "a, b or c"
    ("a, b o c", "a، b أو c"). The patterns are the translators', so the words and the
    commas are each language's own."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    text = pgettext("a list of alternatives: its last two", "%(first)s or %(last)s") % {
        "first": items[-2],
        "last": items[-1],
    }
    for item in reversed(items[:-2]):
        before = pgettext("a list of alternatives: one before the last two", "%(first)s, %(rest)s")
        text = before % {"first": item, "rest": text}
    return text


# --- The JavaScript modules' strings ------------------------------------------------------


@lru_cache(maxsize=1)
def catalog_version() -> str:
    """A digest of the compiled catalogs: part of the catalog's URL, so that a browser
    keeps a catalog for long and still gets a new one when the translations change."""
    digest = hashlib.sha256()
    for path in sorted(Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/*.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


CATALOG_MAX_AGE = 7 * 24 * 3600


def javascript_catalog(request, lang, version=""):
    """``django.gettext`` & co. for one language (Django's JavaScriptCatalog, domain
    djangojs): a static script, so the CSP stays ``script-src 'self'``; cacheable for a
    week by browsers and proxies (the URL carries the catalogs' version)."""
    code = supported_language(lang)
    if code is None or code != lang:
        raise Http404("No such language.")  # i18n: not user-facing (a 404 page)
    with translation.override(code):
        response = JavaScriptCatalog.as_view(domain="djangojs")(request)
        response["Content-Language"] = code
    patch_cache_control(response, public=True, max_age=CATALOG_MAX_AGE)
    return response


# --- Catalogs: .po in the repository, .mo compiled at install ----------------------------


def compile_catalogs(locale_dir: Path | None = None, *, force: bool = False) -> list[Path]:
    """Compile every ``locale/<lang>/LC_MESSAGES/*.po`` to its ``.mo`` with polib (pure
    Python: ``make demo`` needs no GNU gettext). Skips catalogs whose .mo is newer unless
    ``force``. Fuzzy entries are left out, as msgfmt does. Returns what was written."""
    import polib

    locale_dir = Path(locale_dir or settings.LOCALE_PATHS[0])
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalog = polib.pofile(str(po_path))
        for entry in catalog.fuzzy_entries():
            catalog.remove(entry)
        catalog.save_as_mofile(str(mo_path))
        written.append(mo_path)
    catalog_version.cache_clear()
    return written


def context(request):
    """Templates' context: the active language's direction and its catalog's URL."""
    from django.urls import reverse

    code = translation.get_language() or settings.LANGUAGE_CODE
    code = supported_language(code) or settings.LANGUAGE_CODE
    return {
        "language_dir": text_direction(code),
        "javascript_catalog_url": reverse(
            "javascript_catalog", kwargs={"lang": code, "version": catalog_version()}
        ),
        "desk_languages": language_choices(),
    }


def socket_language(scope) -> str:
    """A websocket's language before it knows better (the patron's chat has its own):
    ``?lang=`` on the socket's URL, else the staff's chosen language (the language
    cookie), else the browser's Accept-Language, else the library's default."""
    from http.cookies import SimpleCookie
    from urllib.parse import parse_qs

    from django.utils.translation.trans_real import parse_accept_lang_header

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = (query.get("lang") or [""])[0]
    if asked:
        return supported_language(asked) or settings.LANGUAGE_CODE
    headers = dict(scope.get("headers") or [])
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
    except Exception:  # a malformed cookie header names no language
        cookie = SimpleCookie()
    chosen = cookie.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen and supported_language(chosen.value):
        return supported_language(chosen.value)
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    for code, _quality in parse_accept_lang_header(accept[:1000]):
        if code != "*" and supported_language(code):
            return supported_language(code)
    return settings.LANGUAGE_CODE
