"""Pages and the widget's small HTTP API. Writes go through chat.services."""

import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chat import blocks, extensions, ratelimit, selectors, services
from chat.exceptions import DeskError, RateLimited
from chat.http import error_response, json_body
from chat.models import Department
from libdesk.i18n import widget_language


def _widget_frame_ancestors():
    allowed = settings.WIDGET_ALLOWED_EMBEDDERS
    return "*" if "*" in allowed else " ".join(["'self'", *allowed])


@login_required
def dashboard(request):
    """The Chat Dashboard. Everything live arrives over the staff socket."""
    operator = selectors.operator_for_user(request.user)
    if operator is None:
        return render(request, "chat/not_operator.html", status=403)
    return render(
        request,
        "chat/dashboard.html",
        {
            "operator": operator,
            "extension_modules": extensions.dashboard_modules(),
            "max_message_length": settings.LIBDESK["MAX_MESSAGE_LENGTH"],
        },
    )


@xframe_options_exempt
@require_GET
def widget(request, slug):
    """The patron's chat, loaded in an iframe by static/widget/loader.js, in the language
    libdesk.i18n.widget_language decides (``?lang=``, else Accept-Language, else the
    library's default)."""
    department = get_object_or_404(Department, slug=slug, is_active=True)
    language = widget_language(request)
    with translation.override(language):
        response = render(
            request,
            "widget/chat.html",
            {
                "department": department,
                "max_message_length": settings.LIBDESK["MAX_MESSAGE_LENGTH"],
                "max_file_bytes": settings.ATTACHMENTS["MAX_BYTES"],
            },
        )
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language"])
    response.csp_frame_ancestors = _widget_frame_ancestors()  # see libdesk.middleware
    return response


def offline_message(department) -> str:
    """The department's offline message in the active language, else the standard one."""
    return department.offline_message or _("Nobody is available to chat right now.")


@require_GET
def department_status(request, slug):
    department = get_object_or_404(Department, slug=slug, is_active=True)
    return JsonResponse(
        {
            "department": department.name,
            "online": selectors.department_is_online(department),
            # In the request's language (the widget sends its own as Accept-Language).
            "greeting": department.greeting,
            "offline_message": offline_message(department),
            # Who answers a new chat: this department, its fallback when it is offline,
            # or None (the widget shows its offline state).
            "answering": selectors.department_routing(department)["answering"],
        }
    )


# The widget is a cross-site iframe: no cookie reaches it in many browsers, so there is
# no session and nothing for a CSRF token to protect. The patron's token is the proof.
@csrf_exempt
@require_POST
def chat_start(request, slug):
    department = Department.objects.filter(slug=slug, is_active=True).first()
    if department is None:
        raise Http404(_("No such department."))
    try:
        data = json_body(request)
    except DeskError as error:
        return error_response(error)
    fields = {
        "question": data.get("question"),
        "patron_name": data.get("name") if isinstance(data.get("name"), str) else "",
        "patron_email": data.get("email") if isinstance(data.get("email"), str) else "",
        "client_id": data.get("client_id") if isinstance(data.get("client_id"), str) else "",
    }
    # A retry (same client_id) first: it is answered with the chat already started, even
    # when the first attempt used up the address's starts or nobody is online any more.
    try:
        retried = services.chat_start_retried(**fields)
    except DeskError as error:
        return JsonResponse(error.as_frame(), status=409 if error.code == "start_conflict" else 400)
    if retried is not None:
        return _started(*retried)
    limits = settings.LIBDESK_LIMITS
    client_address = ratelimit.client_address(request)
    address = ratelimit.address_key(client_address)
    if not ratelimit.allow(
        "chat-start",
        address,
        limit=limits["CHATS_PER_ADDRESS"],
        window_seconds=limits["CHATS_WINDOW_SECONDS"],
    ):
        return JsonResponse(
            RateLimited(
                _(
                    "You have started several chats in a short time. Please wait a few "
                    "minutes, or continue in the chat you already have."
                )
            ).as_frame(),
            status=429,
        )
    answering = selectors.answering_department(department)  # itself, or its fallback
    if answering is None:
        return JsonResponse(
            {"type": "error", "code": "offline", "message": offline_message(department)},
            status=409,
        )
    try:
        chat, token = services.chat_start(
            department=answering,
            page_url=data.get("page_url") if isinstance(data.get("page_url"), str) else "",
            **fields,
            origin_digest=blocks.address_digest(client_address),
            # The widget's language, which it sends as Accept-Language (docs/protocol.md);
            # chat_start keeps it to a shipped one.
            language=translation.get_language() or "",
        )
    except blocks.Blocked as error:
        return JsonResponse(error.as_frame(), status=403)
    except DeskError as error:
        return JsonResponse(error.as_frame(), status=409 if error.code == "start_conflict" else 400)
    return _started(chat, token)


def _started(chat, token):
    """The answer to a start, and the same answer to its retries."""
    return JsonResponse({"chat": str(chat.public_id), "token": token}, status=201)


@require_GET
def demo(request):
    """A sample library home page embedding the widget exactly as a library site would.

    ``?page_lang=es`` makes it a Spanish page of the site (its ``<html lang>``), and
    ``?embed_lang=ar`` gives the embed snippet a ``data-lang``: the two ways a library's
    site tells the widget its language (docs/protocol.md, "Languages")."""
    department = Department.objects.filter(is_active=True).order_by("pk").first()

    def language_tag(name, default=""):
        value = request.GET.get(name, "")
        return value if _LANGUAGE_TAG.fullmatch(value) else default

    return render(
        request,
        "demo/index.html",
        {
            "department": department,
            "page_lang": language_tag("page_lang", "en"),
            "embed_lang": language_tag("embed_lang"),
        },
    )


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,3}")


# --- Email transcript (issue 6) -----------------------------------------------------------


@login_required
@require_POST
def transcript_email_staff(request, public_id):
    """The dashboard's **Email transcript**: JSON ``{"email": ""}`` (empty: the patron's
    own address). CSRF-protected (the dashboard sends X-CSRFToken)."""
    operator = selectors.operator_for_user(request.user)
    chat = selectors.chat_for_staff(operator, public_id) if operator else None
    if chat is None:
        return JsonResponse(
            {"type": "error", "code": "not_found", "message": _("No such chat.")}, status=404
        )
    try:
        data = json_body(request)
        email = services.transcript_email_request(
            chat_id=chat.pk, email=data.get("email") or "", requested_by=operator
        )
    except DeskError as error:
        return error_response(error)
    return JsonResponse({"status": "queued", "email": email}, status=202)


# The widget is a cross-site iframe without cookies: the patron's token is the proof, in
# an ``Authorization: Bearer`` header (or the JSON body), never a cookie.
@csrf_exempt
@require_POST
def transcript_email_patron(request):
    """The widget's "Email me this transcript": JSON ``{"email": "…"}``."""
    try:
        data = json_body(request)
    except DeskError as error:
        return error_response(error)
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else data.get("token")
    chat = selectors.chat_for_token(token)
    if chat is None:
        return JsonResponse(
            {"type": "error", "code": "bad_token", "message": _("That chat could not be found.")},
            status=403,
        )
    try:
        email = services.transcript_email_request(
            chat_id=chat.pk, email=data.get("email") or "", requested_by=None
        )
    except DeskError as error:
        return error_response(error)
    return JsonResponse({"status": "queued", "email": email}, status=202)
