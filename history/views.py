"""Chat History's pages. Reads through history.selectors; the two actions of a
transcript (Email transcript, Create a ticket) and Block call the existing services."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.exceptions import DeskError, NotFound
from chat.http import json_body
from chat.models import Department, Operator
from chat.services import blocks as block_services
from history import forms, selectors
from tickets import services as ticket_services

# Logged-in staff with an operator profile (request.operator): the desk's one check.
from tickets.views import staff_view


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
@staff_view
def history_search(request):
    """Chat History: the search form and a page of results."""
    form = forms.HistorySearchForm(request.GET or None, operator=request.operator)
    form.is_valid()  # an invalid field is left out of the search and shown with its error
    page = selectors.history_page(request.operator, form.filters(), request.GET.get("page") or 1)
    return render(
        request,
        "history/search.html",
        {
            "form": form,
            "page": page,
            "words": form.filters().words,
            "query": _query_without_page(request),
            "searched": bool(request.GET),
        },
    )


def _chat_or_404(request, public_id):
    chat = selectors.chat_for_history(request.operator, public_id)
    if chat is None:
        raise Http404(_("No such chat."))
    return chat


def _ticket_choices():
    departments = Department.objects.filter(is_active=True)
    colleagues = Operator.objects.select_related("user").order_by("user__username")
    return departments, colleagues


def _render_transcript(request, chat, status=200):
    departments, colleagues = _ticket_choices()
    return render(
        request,
        "history/transcript.html",
        {
            "chat": chat,
            "messages_shown": list(chat.messages.all()),
            "audit": list(chat.audit.all()),
            "tickets": list(chat.tickets.all()),
            "entry": getattr(chat, "interaction", None),
            "departments": departments,
            "colleagues": colleagues,
            "can_block": bool(chat.origin_digest),
        },
        status=status,
    )


@require_GET
@staff_view
def history_transcript(request, public_id):
    """One chat, read-only: its conversation, audit trail, ticket and entry links."""
    return _render_transcript(request, _chat_or_404(request, public_id))


@require_POST
@staff_view
def history_email_transcript(request, public_id):
    chat = _chat_or_404(request, public_id)
    try:
        email = chat_services.transcript_email_request(
            chat_id=chat.pk, email=request.POST.get("email", ""), requested_by=request.operator
        )
    except DeskError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The transcript is on its way to %(email)s.") % {"email": email}
        )
    return redirect("history:transcript", public_id=chat.public_id)


@require_POST
@staff_view
def history_create_ticket(request, public_id):
    chat = _chat_or_404(request, public_id)
    department = Department.objects.filter(pk=request.POST.get("department") or None).first()
    assignee_id = request.POST.get("assignee") or None
    assignee = Operator.objects.filter(pk=assignee_id).first() if assignee_id else None
    try:
        if department is None:
            raise DeskError(_("Choose a queue for the ticket."))
        ticket = ticket_services.ticket_create_from_chat(
            chat_id=chat.pk,
            department=department,
            assignee=assignee,
            notes=request.POST.get("notes", ""),
            actor=request.operator,
        )
    except DeskError as error:
        messages.error(request, error.message)
        return redirect("history:transcript", public_id=chat.public_id)
    messages.success(
        request,
        _("Ticket %(reference)s was created for %(department)s.")
        % {"reference": ticket.reference, "department": department.name},
    )
    return redirect("tickets:detail", reference=ticket.reference)


def _block(request, public_id, reason):
    chat = chat_selectors.chat_for_staff(request.operator, public_id)
    if chat is None:
        raise NotFound()
    return chat, block_services.patron_block(
        chat_id=chat.pk, operator=request.operator, reason=reason
    )


@require_POST
@staff_view
def history_block(request, public_id):
    """Block (from the transcript page): a form post."""
    try:
        chat, block = _block(request, public_id, request.POST.get("reason", ""))
    except DeskError as error:
        messages.error(request, error.message)
    else:
        until = f"{block.expires_at:%Y-%m-%d %H:%M}"
        messages.success(request, _("The patron is blocked until %(until)s.") % {"until": until})
    return redirect("history:transcript", public_id=public_id)


@require_POST
@staff_view
def block_from_dashboard(request, public_id):
    """Block (from the Chat Dashboard): JSON in, JSON out; CSRF header as every
    dashboard call."""
    try:
        data = json_body(request)
        reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
        _, block = _block(request, public_id, reason)
    except DeskError as error:
        status = {"not_found": 404}.get(error.code, 400)
        return JsonResponse(error.as_frame(), status=status)
    return JsonResponse({"blocked_until": block.expires_at.isoformat()}, status=201)


@require_GET
@staff_view
def patron_context(request, public_id):
    """For the Chat Dashboard's header: the page the patron asked from and how many
    earlier chats and tickets they have (same email, not scrubbed, readable)."""
    chat = chat_selectors.chat_for_staff(request.operator, public_id)
    if chat is None:
        return JsonResponse(
            {"type": "error", "code": "not_found", "message": _("No such chat.")}, status=404
        )
    contacts = selectors.patron_contacts(request.operator, chat)
    return JsonResponse(
        {
            "page_url": chat.page_url,  # http(s) only, without its query (services)
            "earlier_chats": len(contacts["chats"]),
            "tickets": len(contacts["tickets"]),
            "url": reverse("history:patron", args=[chat.public_id]),
            "history_url": reverse("history:transcript", args=[chat.public_id]),
            "block_url": reverse("history:block_from_dashboard", args=[chat.public_id]),
        }
    )


@require_GET
@staff_view
def history_patron(request, public_id):
    """The patron's earlier chats and tickets, one click from their chat."""
    chat = chat_selectors.chat_for_staff(request.operator, public_id)
    chat = chat or selectors.chat_for_history(request.operator, public_id)
    if chat is None:
        raise Http404(_("No such chat."))
    return render(
        request,
        "history/patron.html",
        {"chat": chat, "contacts": selectors.patron_contacts(request.operator, chat)},
    )
