"""The staff ticket desk, the dashboard's Create Ticket, the widget's offline form and
email request, and the inbound-mail webhook. Writes go through tickets.services."""

import hmac
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chat import ratelimit
from chat import selectors as chat_selectors
from chat.exceptions import DeskError, InvalidInput
from chat.http import json_body
from chat.models import Department
from tickets import forms, selectors, services
from tickets.models import Ticket, parse_reference
from tickets.provider_inbound import read_inbound_body


def staff_view(view):
    """Logged in, active staff with an operator profile: ``request.operator``."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        operator = chat_selectors.operator_for_user(request.user)
        if operator is None:
            return render(request, "chat/not_operator.html", status=403)
        request.operator = operator
        return view(request, *args, **kwargs)

    return wrapped


def _text(data, key) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


# --- The staff desk -----------------------------------------------------------------------


@require_GET
@staff_view
def ticket_list(request):
    departments = selectors.staff_departments(request.operator)
    form = forms.FilterForm(request.GET or None, departments=departments)
    filters = form.cleaned_data if form.is_valid() else {}
    department = filters.get("department")
    page = selectors.ticket_list(
        request.operator,
        view=filters.get("view", ""),
        department_id=department.pk if department else None,
        status=filters.get("status", ""),
        q=filters.get("q", ""),
        page=request.GET.get("page", 1),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/list.html",
        {
            "page": page,
            "filter_form": form,
            "query": query.urlencode(),
            "assigned_open": selectors.open_assigned_count(request.operator),
        },
    )


def _ticket_or_404(request, reference) -> Ticket:
    ticket_id = parse_reference(reference)
    ticket = selectors.ticket_for_staff(request.operator, ticket_id) if ticket_id else None
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _detail_forms(ticket, data=None, which=None):
    ref = ticket.reference

    def bound(name):
        return data if which == name else None

    return {
        "reply_form": forms.ReplyForm(bound("reply"), action=reverse("tickets:reply", args=[ref])),
        "note_form": forms.NoteForm(bound("note"), action=reverse("tickets:note", args=[ref])),
        "assign_form": forms.AssignForm(
            bound("assign"),
            department_id=ticket.department_id,
            action=reverse("tickets:assign", args=[ref]),
            initial={"assignee": ticket.assignee_id},
        ),
        "queue_form": forms.QueueForm(
            bound("queue"),
            action=reverse("tickets:queue", args=[ref]),
            initial={"department": ticket.department_id},
        ),
        "status_form": forms.StatusForm(
            bound("status"),
            action=reverse("tickets:status", args=[ref]),
            initial={"status": ticket.status},
        ),
    }


def _render_detail(request, ticket, status=200, **form_overrides):
    context = {"ticket": ticket, **_detail_forms(ticket), **form_overrides}
    return render(request, "tickets/detail.html", context, status=status)


@require_GET
@staff_view
def ticket_detail(request, reference):
    return _render_detail(request, _ticket_or_404(request, reference))


def _ticket_action(context_name, perform, success):
    """A POST from one of the ticket page's forms: validate, one service call, redirect
    (or the page again with the form's errors)."""

    @require_POST
    @staff_view
    def view(request, reference):
        ticket = _ticket_or_404(request, reference)
        form = _detail_forms(ticket, request.POST, which=context_name)[f"{context_name}_form"]
        if form.is_valid():
            try:
                perform(request, ticket, form.cleaned_data)
            except DeskError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, success)
                return redirect("tickets:detail", ticket.reference)
        return _render_detail(request, ticket, status=400, **{f"{context_name}_form": form})

    view.__name__ = f"ticket_{context_name}"
    return view


ticket_reply = _ticket_action(
    "reply",
    lambda r, t, d: services.ticket_reply(ticket_id=t.pk, actor=r.operator, body=d["body"]),
    gettext_lazy("Reply queued: it is being emailed to the patron."),
)
ticket_note = _ticket_action(
    "note",
    lambda r, t, d: services.ticket_add_note(ticket_id=t.pk, actor=r.operator, body=d["body"]),
    gettext_lazy("Internal note added."),
)
ticket_assign = _ticket_action(
    "assign",
    lambda r, t, d: services.ticket_assign(
        ticket_id=t.pk, actor=r.operator, assignee=d["assignee"]
    ),
    gettext_lazy("Assignee changed."),
)
ticket_queue = _ticket_action(
    "queue",
    lambda r, t, d: services.ticket_change_queue(
        ticket_id=t.pk, actor=r.operator, department=d["department"]
    ),
    gettext_lazy("Queue changed."),
)
ticket_status = _ticket_action(
    "status",
    lambda r, t, d: services.ticket_set_status(
        ticket_id=t.pk, actor=r.operator, status=d["status"]
    ),
    gettext_lazy("Status changed."),
)


@require_POST
@staff_view
def reply_retry(request, reference, message_id):
    message_id = int(message_id)
    ticket = _ticket_or_404(request, reference)
    message = next((m for m in ticket.messages.all() if m.pk == message_id), None)
    if message is None:
        raise Http404(_("No such reply."))
    services.reply_retry(message_id=message.pk, actor=request.operator)
    messages.success(request, _("Sending the reply again."))
    return redirect("tickets:detail", ticket.reference)


@require_GET
@staff_view
def attachment_download(request, pk):
    """Always a download, never rendered: a patron's file could be anything."""
    attachment = selectors.attachment_for_staff(request.operator, pk)
    if attachment is None:
        raise Http404(_("No such attachment."))
    return _download(attachment.file, attachment.filename)


def _download(stored_file, filename: str) -> FileResponse:
    """A stored file as a download that no browser renders or sniffs."""
    try:
        handle = stored_file.open("rb")
    except FileNotFoundError:
        raise Http404(_("That file is gone.")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- For the Chat Dashboard (static/tickets/dashboard.js) ---------------------------------


@require_GET
@staff_view
def dashboard_summary(request):
    return JsonResponse(
        {
            "queues": selectors.queues(),
            "assigned_open": selectors.open_assigned_count(request.operator),
            "url": reverse("tickets:list"),
            "mine_url": reverse("tickets:list") + "?view=mine",
        }
    )


@require_POST
@staff_view
def create_from_chat(request):
    try:
        data = json_body(request)
        form = forms.CreateFromChatForm(
            {
                "chat": _text(data, "chat"),
                "department": data.get("department"),
                "assignee": data.get("assignee") or "",
                "notes": _text(data, "notes"),
            }
        )
        if not form.is_valid():
            first = next(iter(form.errors.items()))
            raise InvalidInput(f"{first[0]}: {first[1][0]}")
        chat = chat_selectors.chat_for_staff(request.operator, form.cleaned_data["chat"])
        if chat is None:
            return JsonResponse(
                {"type": "error", "code": "not_found", "message": _("No such chat.")}, status=404
            )
        ticket = services.ticket_create_from_chat(
            chat_id=chat.pk,
            department=form.cleaned_data["department"],
            assignee=form.cleaned_data["assignee"],
            notes=form.cleaned_data["notes"],
            actor=request.operator,
        )
    except DeskError as error:
        return JsonResponse(error.as_frame(), status=400)
    return JsonResponse(
        {
            "ticket": ticket.reference,
            "url": reverse("tickets:detail", args=[ticket.reference]),
            "department": ticket.department.name,
            "email_requested": not ticket.patron_email,
        },
        status=201,
    )


# --- For the patron widget (cross-site iframe: no cookies, no CSRF token) ------------------


@csrf_exempt
@require_POST
def offline_question(request, slug):
    """The widget's offline form. A filled honeypot gets a success that stores nothing."""
    department = Department.objects.filter(slug=slug, is_active=True).first()
    if department is None:
        raise Http404(_("No such department."))
    try:
        data = json_body(request)
        if _text(data, "website").strip():
            return JsonResponse({"ticket": None}, status=201)
        ticket = services.ticket_create_from_offline_form(
            department=department,
            # The widget's language, sent as Accept-Language (docs/protocol.md).
            language=translation.get_language(),
            name=_text(data, "name"),
            email=_text(data, "email"),
            question=_text(data, "question"),
            remote_addr=ratelimit.client_address(request),
        )
    except DeskError as error:
        status = {"rate_limited": 429, "blocked": 403}.get(error.code, 400)
        return JsonResponse(error.as_frame(), status=status)
    return JsonResponse({"ticket": ticket.reference}, status=201)


def _patron_chat(data):
    chat = chat_selectors.chat_for_token(data.get("token"))
    if chat is None:
        raise InvalidInput(_("That chat was not found."), code="bad_token")
    return chat


@csrf_exempt
@require_POST
def patron_email_needed(request):
    """Does a ticket made from the patron's chat still need their email address?"""
    try:
        chat = _patron_chat(json_body(request))
    except DeskError as error:
        return JsonResponse(error.as_frame(), status=403 if error.code == "bad_token" else 400)
    needed = selectors.email_needed_for_chat(chat.pk)
    return JsonResponse({"needed": needed is not None, **(needed or {})})


@csrf_exempt
@require_POST
def patron_email(request):
    """The patron's answer to the widget's request for an email address."""
    try:
        data = json_body(request)
        chat = _patron_chat(data)
        tickets = services.ticket_set_patron_email(chat_id=chat.pk, email=_text(data, "email"))
    except DeskError as error:
        return JsonResponse(error.as_frame(), status=403 if error.code == "bad_token" else 400)
    return JsonResponse({"tickets": [t.reference for t in tickets]})


# --- Inbound mail -------------------------------------------------------------------------


@csrf_exempt
@require_POST
def inbound_email(request):
    """A mail gateway POSTs one raw RFC 822 message; header X-LibDesk-Secret must be
    the configured secret (an empty configured secret refuses everything). A 2xx
    means the mail is stored (201) or was already (200, same Message-ID); anything
    else makes the gateway keep it and try again."""
    expected = settings.TICKETS["INBOUND_SECRET"]
    given = request.headers.get("X-LibDesk-Secret", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponseForbidden(_("Wrong or missing X-LibDesk-Secret."))
    raw = read_inbound_body(request)
    if raw is None:
        return HttpResponse(_("Message too large."), status=413)
    if not raw.strip():
        return JsonResponse(
            InvalidInput(_("Send the raw message as the body.")).as_frame(), status=400
        )
    try:
        message, created = services.ticket_receive_email_once(raw=raw)
    except DeskError as error:
        # No department to put it in: the gateway should keep the mail and retry.
        return JsonResponse(error.as_frame(), status=503)
    return JsonResponse(
        {"stored": True, "duplicate": not created, "ticket": message.ticket.reference},
        status=201 if created else 200,
    )


@require_GET
@staff_view
def original_download(request, pk):
    """The email as it arrived (raw RFC 822): a download, never rendered."""
    message = selectors.original_for_staff(request.operator, pk)
    if message is None or not message.original:
        raise Http404(_("No such email."))
    return _download(message.original, f"{message.ticket.reference}-email-{message.pk}.eml")
