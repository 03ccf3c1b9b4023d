"""The supervisor's pages: server-rendered, then kept live by static/supervisor/*.js
over ``/ws/supervisor/`` (supervisor.consumers)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chat import events
from chat import selectors as chat_selectors
from supervisor import selectors


def supervisor_page(view):
    """Desk admins, superusers and Department admins: ``request.supervised`` is their
    departments (None: all). Anyone else gets a page saying whom this is for."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        supervised = selectors.supervised_department_ids(request.user)
        if supervised == []:
            return render(request, "supervisor/forbidden.html", status=403)
        request.supervised = supervised
        return view(request, *args, **kwargs)

    return wrapped


def _live(department_ids) -> dict:
    return {
        "chats": selectors.live_chats(department_ids),
        "staff": selectors.staff_on_duty(department_ids),
    }


@require_GET
@supervisor_page
def overview(request):
    return render(
        request,
        "supervisor/overview.html",
        {
            **_live(request.supervised),
            "departments": selectors.departments(request.supervised),
            "gaps": selectors.coverage_gaps(request.supervised),
            "week_start": selectors.week_start(),
        },
    )


@require_GET
@supervisor_page
def live(request):
    """What the overview's live part shows, as JSON, read again after an event."""
    return JsonResponse(_live(request.supervised))


@require_GET
@supervisor_page
def watch(request, public_id):
    """One chat, read-only, as it happens."""
    chat = selectors.watched_chat(request.supervised, public_id)
    if chat is None:
        raise Http404(_("No such chat."))
    messages = [
        events.message_payload(m) for m in chat_selectors.messages_after(chat, 0, limit=10**6)
    ]
    return render(
        request,
        "supervisor/watch.html",
        {
            "chat": chat,
            "messages_shown": messages,
            "last_seq": messages[-1]["seq"] if messages else 0,
        },
    )
