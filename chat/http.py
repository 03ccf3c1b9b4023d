"""Small helpers shared by the JSON endpoints of the chat and tickets apps."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from chat.exceptions import Conflict, DeskError, Forbidden, InvalidInput, NotFound
from chat.text import load_json


def json_body(request) -> dict:
    """The request's JSON object; InvalidInput (``bad_json``) for anything else, and as
    ``chat.text.load_json`` says for text the desk cannot store (``bad_characters``, with
    the field) or nesting too deep (``too_deep``)."""
    try:
        data = load_json(request.body or b"{}")
    except InvalidInput as error:
        if error.code != "bad_json":
            raise
        raise InvalidInput(_("Send a JSON object."), code="bad_json") from None
    if not isinstance(data, dict):
        raise InvalidInput(_("Send a JSON object."), code="bad_json")
    return data


def error_response(error: DeskError) -> JsonResponse:
    """An expected error as JSON, with the HTTP status its kind calls for."""
    if isinstance(error, Conflict):
        status = 409
    elif isinstance(error, Forbidden):
        status = 403
    elif isinstance(error, NotFound):
        status = 404
    else:
        status = 400
    return JsonResponse(error.as_frame(), status=status)
