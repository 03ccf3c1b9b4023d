"""Files in chats over HTTP (issue 7): upload (patron by bearer token, staff by session
with CSRF) and the one download view, which checks who asks. docs/protocol.md,
"Attachments"."""

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chat import events, selectors
from chat.exceptions import DeskError, InvalidInput
from chat.http import error_response
from chat.models import Message
from chat.services import attachments

# Multipart overhead allowed beyond the file itself before the body is refused unread.
_MULTIPART_SLACK = 64 * 1024


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _error(error: DeskError) -> JsonResponse:
    return error_response(error)


def _too_large(request):
    """Refuse an oversize body before reading it (Content-Length)."""
    limit = settings.ATTACHMENTS["MAX_BYTES"]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + _MULTIPART_SLACK:
        error = InvalidInput(
            _("That file is too large; the limit is %(limit)s.")
            % {"limit": attachments.human_size(limit)},
            code="too_large",
        )
        return JsonResponse(error.as_frame(), status=413)
    return None


def _upload(request, *, chat, sender, operator=None):
    refused = _too_large(request)
    if refused:
        return refused
    upload = request.FILES.get("file")
    if upload is None:
        return _error(InvalidInput(_("Choose a file to send (form field 'file')."), code="no_file"))
    client_id = request.POST.get("client_id", "")
    try:
        message, created = attachments.attachment_send(
            chat_id=chat.pk, upload=upload, sender=sender, operator=operator, client_id=client_id
        )
    except DeskError as error:
        status = 413 if error.code == "too_large" else None
        response = _error(error)
        if status:
            response.status_code = status
        return response
    message = Message.objects.select_related("operator__user", "attachment", "chat").get(
        pk=message.pk
    )
    return JsonResponse(
        {
            "type": "attachment.sent",
            "message": events.message_payload(message),
            "duplicate": not created,
        },
        status=201 if created else 200,
    )


# The widget is a cross-site iframe without cookies: the patron's token, in an
# Authorization header, is the proof (never a cookie), so CSRF does not apply.
@csrf_exempt
@require_POST
def attachment_upload_patron(request):
    """Multipart ``file`` (+ optional ``client_id``), ``Authorization: Bearer <token>``."""
    chat = selectors.chat_for_token(_bearer(request))
    if chat is None:
        return JsonResponse(
            {"type": "error", "code": "bad_token", "message": _("That chat could not be found.")},
            status=403,
        )
    return _upload(request, chat=chat, sender=Message.Sender.PATRON)


@login_required
@require_POST
def attachment_upload_staff(request, public_id):
    """The dashboard's **Attach a file**: session + CSRF (X-CSRFToken), multipart ``file``."""
    operator = selectors.operator_for_user(request.user)
    chat = selectors.chat_for_staff(operator, public_id) if operator else None
    if chat is None:
        return JsonResponse(
            {"type": "error", "code": "not_found", "message": _("No such chat.")}, status=404
        )
    return _upload(request, chat=chat, sender=Message.Sender.OPERATOR, operator=operator)


@never_cache
@require_GET
def attachment_download(request, public_id: uuid.UUID):
    """The only way to a stored file: the chat's patron (bearer token) or staff who may
    see the chat (session). Always a download, never rendered: Content-Disposition
    attachment, nosniff, and a sandboxing CSP. Anyone else: 404, whether or not it exists."""
    token = _bearer(request)
    found = None
    if token:
        found = attachments.attachment_for_patron(token, public_id)
    elif request.user.is_authenticated:
        operator = selectors.operator_for_user(request.user)
        found = attachments.attachment_for_staff(operator, public_id) if operator else None
    else:
        return JsonResponse(
            {
                "type": "error",
                "code": "not_authenticated",
                "message": _("Log in, or use your chat."),
            },
            status=403,
        )
    if found is None:
        return JsonResponse(
            {"type": "error", "code": "not_found", "message": _("No such file.")}, status=404
        )
    try:
        handle = default_storage.open(found.file.name, "rb")
    except (FileNotFoundError, OSError):
        return JsonResponse(
            {"type": "error", "code": "not_found", "message": _("No such file.")}, status=404
        )
    response = FileResponse(handle, content_type=attachments.download_content_type(found))
    response["Content-Length"] = str(found.size)
    response["Content-Disposition"] = content_disposition_header(True, found.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response
