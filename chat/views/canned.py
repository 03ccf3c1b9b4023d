"""Canned messages for operators: the JSON the dashboard's Canned Messages list reads
(filled for the open chat) and writes, and the "My canned messages" pages.

Session + CSRF like every staff page; writes go through chat.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from chat import canned, selectors, services
from chat.exceptions import DeskError, Forbidden, NotFound
from chat.forms import PersonalCannedForm
from chat.http import json_body
from chat.models import CannedMessage


def _error(error: DeskError, status: int) -> JsonResponse:
    return JsonResponse(error.as_frame(), status=status)


def _operator_or_error(request):
    if not request.user.is_authenticated:
        return None, JsonResponse(
            {"type": "error", "code": "not_authenticated", "message": _("Please log in again.")},
            status=401,
        )
    operator = selectors.operator_for_user(request.user)
    if operator is None:
        return None, _error(Forbidden(_("Only operators have canned messages.")), 403)
    return operator, None


def _payload(row: CannedMessage, context: dict, operator) -> dict:
    return {
        "id": row.pk,
        "title": row.title,
        "shortcut": row.shortcut,
        "scope": row.scope,
        "department": row.department.name if row.department_id else None,
        "language": row.language,
        "body": row.body,
        "text": canned.fill(row.body, context),
        "editable": row.scope == CannedMessage.Scope.PERSONAL and row.operator_id == operator.pk,
    }


def _json_fields(request) -> dict:
    data = json_body(request)
    return {
        "title": data.get("title", ""),
        "body": data.get("body", ""),
        "shortcut": data.get("shortcut", "") or "",
    }


@require_http_methods(["GET", "POST"])
def canned_collection(request):
    """GET: the canned messages this operator may use, filled for ``?chat=<uuid>``.
    POST (JSON): create a personal one."""
    operator, refusal = _operator_or_error(request)
    if refusal:
        return refusal
    if request.method == "POST":
        try:
            row = services.canned_personal_create(operator=operator, **_json_fields(request))
        except DeskError as error:
            return _error(error, 400)
        return JsonResponse(
            _payload(row, canned.context_for(operator=operator), operator), status=201
        )
    chat = None
    chat_id = request.GET.get("chat")
    if chat_id:
        chat = selectors.chat_for_staff(operator, chat_id)
        if chat is None:
            return _error(NotFound(), 404)
    context = canned.context_for(chat=chat, operator=operator)
    rows = selectors.canned_for_operator(operator, chat=chat)
    return JsonResponse(
        {
            "chat": str(chat.public_id) if chat else None,
            "canned": [_payload(row, context, operator) for row in rows],
        }
    )


@require_http_methods(["POST", "DELETE"])
def canned_item(request, pk):
    """POST (JSON): edit one of my personal canned messages. DELETE: delete it."""
    operator, refusal = _operator_or_error(request)
    if refusal:
        return refusal
    try:
        if request.method == "DELETE":
            services.canned_personal_delete(operator=operator, canned_id=pk)
            return JsonResponse({}, status=204)
        row = services.canned_personal_update(
            operator=operator, canned_id=pk, **_json_fields(request)
        )
    except NotFound as error:
        return _error(error, 404)
    except Forbidden as error:
        return _error(error, 403)
    except DeskError as error:
        return _error(error, 400)
    return JsonResponse(_payload(row, canned.context_for(operator=operator), operator))


# --- "My canned messages" pages ---------------------------------------------------------


def _operator_or_404(request):
    operator = selectors.operator_for_user(request.user)
    if operator is None:
        raise Http404(_("Only operators have canned messages."))
    return operator


def _own_or_404(operator, pk) -> CannedMessage:
    for row in selectors.canned_personal(operator):
        if row.pk == pk:
            return row
    raise Http404(_("No such canned message of yours."))


@login_required
@require_http_methods(["GET", "POST"])
def canned_manage(request):
    """My canned messages: the list, with a form to add one."""
    operator = _operator_or_404(request)
    blank = CannedMessage(scope=CannedMessage.Scope.PERSONAL, operator=operator)
    form = PersonalCannedForm(request.POST or None, instance=blank)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = services.canned_personal_create(operator=operator, **form.cleaned_data)
            except DeskError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Saved “{row.title}”.")
                return redirect("chat:canned_manage")
        status = 400
    shared = [
        row
        for row in selectors.canned_for_operator(operator)
        if row.scope != CannedMessage.Scope.PERSONAL
    ]
    return render(
        request,
        "chat/canned_manage.html",
        {
            "operator": operator,
            "mine": selectors.canned_personal(operator),
            "shared": shared,
            "form": form,
            "placeholders": canned.PLACEHOLDERS,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def canned_edit(request, pk):
    operator = _operator_or_404(request)
    row = _own_or_404(operator, pk)
    form = PersonalCannedForm(request.POST or None, instance=row)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.canned_personal_update(
                    operator=operator, canned_id=pk, **form.cleaned_data
                )
            except DeskError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Saved “{form.cleaned_data['title']}”.")
                return redirect("chat:canned_manage")
        status = 400
    return render(
        request,
        "chat/canned_edit.html",
        {"form": form, "row": row, "placeholders": canned.PLACEHOLDERS},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def canned_delete(request, pk):
    operator = _operator_or_404(request)
    row = _own_or_404(operator, pk)
    if request.method == "POST":
        services.canned_personal_delete(operator=operator, canned_id=pk)
        messages.success(request, f"Deleted “{row.title}”.")
        return redirect("chat:canned_manage")
    return render(request, "chat/canned_delete.html", {"row": row})
