"""Reference Analytics pages: the entry form (full page and the dashboard's partial),
the reports and the CSV export. Writes go through analytics.services."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from analytics import charts, export, free_text, reports, selectors, services
from analytics.forms import REPORT_PAGE_MAX_DAYS, InteractionForm, ReportFilterForm
from analytics.models import Mode, chat_location_for
from chat import selectors as chat_selectors
from chat.exceptions import DeskError
from chat.models import Chat


def staff_required(view):
    """Logged-in, active staff (403 page otherwise; login redirect when logged out)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            return render(request, "analytics/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _chat_mode():
    return Mode.objects.filter(slug=Mode.CHAT, is_active=True).first()


def _chat_for(request, public_id) -> Chat:
    operator = chat_selectors.operator_for_user(request.user)
    chat = chat_selectors.chat_for_staff(operator, public_id) if operator else None
    if chat is None:
        raise Http404(_("No such chat."))
    return chat


def _chat_initial(chat: Chat) -> dict:
    return {
        "location": chat_location_for(chat.department_id),
        "mode": _chat_mode(),
        "duration_minutes": services.chat_duration_minutes(chat),
        "question": selectors.first_patron_message(chat),
        "occurred_at": timezone.localtime(chat.ended_at or timezone.now()),
    }


def _manual_initial(request) -> dict:
    initial = {"occurred_at": timezone.localtime()}
    operator = chat_selectors.operator_for_user(request.user)
    if operator is not None:
        initial["department"] = operator.departments.order_by("name").first()
    ticket = request.GET.get("ticket", "")[:64]
    if ticket:
        initial["ticket_ref"] = ticket
        initial["mode"] = Mode.objects.filter(slug="ticket", is_active=True).first()
    if request.GET.get("question"):
        initial["question"] = request.GET["question"][:4000]
    return initial


@staff_required
@require_http_methods(["GET", "POST"])
def chat_entry(request, public_id, partial=False):
    """The entry for one chat. ``partial``: the fragment the dashboard puts in #after-chat
    (200 the form, 422 the form with errors, 201 saved); otherwise a full page."""
    chat = _chat_for(request, public_id)
    template = "analytics/_chat_entry.html" if partial else "analytics/chat_entry.html"
    existing = selectors.interaction_for_chat(chat)
    context = {"chat": chat, "interaction": existing, "partial": partial}
    if existing is not None:
        return render(request, template, context)
    if chat.status not in (Chat.Status.ENDED, Chat.Status.CLOSED):
        context["not_ended"] = True
        return render(request, template, context, status=409 if request.method == "POST" else 200)
    status = 200
    if request.method == "POST":
        form = InteractionForm(request.POST, chat=chat)
        if form.is_valid():
            try:
                interaction = services.interaction_record(
                    recorded_by=request.user, chat=chat, data=form.entry_data()
                )
            except DeskError as error:
                form.add_error(None, error.message)
            else:
                context.update(interaction=interaction, just_saved=True)
                if not partial:
                    return redirect(reverse("analytics:chat_entry", args=[chat.public_id]))
                return render(request, template, context, status=201)
        status = 422
    else:
        form = InteractionForm(initial=_chat_initial(chat), chat=chat)
    context["form"] = form
    return render(request, template, context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def new_entry(request):
    """/analytics/new/: an in-person, phone, email, roaming or ticket interaction."""
    saved = None
    if request.method == "POST":
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                saved = services.interaction_record(
                    recorded_by=request.user, data=form.entry_data()
                )
            except DeskError as error:
                form.add_error(None, error.message)
            else:
                if "add_another" in request.POST:
                    # A busy desk: keep where and how, clear the rest.
                    form = InteractionForm(
                        initial={
                            "location": saved.location,
                            "mode": saved.mode,
                            "department": saved.department,
                            "duration_minutes": saved.duration_minutes,
                            "occurred_at": timezone.localtime(),
                        }
                    )
                    return render(
                        request, "analytics/new_entry.html", {"form": form, "saved": saved}
                    )
                return redirect(f"{reverse('analytics:new')}?saved={saved.pk}")
        status = 422
    else:
        form = InteractionForm(initial=_manual_initial(request))
        status = 200
        if request.GET.get("saved", "").isdigit():
            saved = True
    return render(
        request, "analytics/new_entry.html", {"form": form, "saved": saved}, status=status
    )


@staff_required
@require_GET
def pending(request):
    """The dashboard's list "Ended chats without statistics" (a fragment)."""
    chats = selectors.chats_without_entry(request.user)
    template = (
        "analytics/_pending.html" if request.GET.get("fragment") else "analytics/pending.html"
    )
    return render(request, template, {"chats": chats})


def _filter_from(request, max_days=None):
    form = ReportFilterForm(request.GET or None, max_days=max_days)
    valid = form.is_bound and form.is_valid()
    cleaned = form.cleaned_data if valid else {}
    flt = reports.ReportFilter.from_form(cleaned)
    if form.is_bound and not valid:
        return form, flt  # shown as typed, with its errors
    # Empty dates mean the last 30 days: From and To show the range applied.
    data = request.GET.copy()
    data["start"] = data.get("start") or flt.start.isoformat()
    data["end"] = data.get("end") or flt.end.isoformat()
    shown = ReportFilterForm(data, max_days=max_days)
    shown.is_valid()
    return shown, flt


@staff_required
@require_GET
def report(request):
    form, flt = _filter_from(request, max_days=REPORT_PAGE_MAX_DAYS)
    data = reports.report(flt)
    days = charts.day_rows(data["per_day"])  # labels and numbers as text, once per day
    day_chart = charts.columns(days, value_key="value")
    referral_rows = [
        {
            "label": _("%(source)s (%(kind)s)")
            % {"source": row["label"], "kind": str(row["kind"]).lower()},
            "count": row["count"],
        }
        for row in data["by_referral"]
    ]
    figures = [
        ("mode", _("By mode"), _("Mode"), data["by_mode"]),
        ("location", _("By location"), _("Location"), data["by_location"]),
        ("question-type", _("By question type"), _("Question type"), data["by_question_type"]),
        ("read-scale", _("By READ scale"), _("READ scale"), data["by_read_scale"]),
        ("referral", _("By referral source"), _("Referred by"), referral_rows),
    ]
    return render(
        request,
        "analytics/report.html",
        {
            "form": form,
            "r": data,
            "day_chart": day_chart,
            "day_bars": charts.day_bars_markup(day_chart),
            "day_table": charts.day_table_markup(days),
            "heat_rows": charts.heat_rows(data["heatmap"]),
            "figures": [
                {
                    "id": key,
                    "title": title,
                    "column": column,
                    "rows": rows,
                    "chart": charts.bars(rows),
                }
                for key, title, column, rows in figures
            ],
            "languages": reports.language_rows(data),
            "query": request.GET.urlencode(),
            "hours": [str(h) for h in range(24)],
            "pending_count": len(selectors.chats_without_entry(request.user)),
        },
    )


@staff_required
@require_GET
def export_csv(request):
    """Every entry matching the filters, any date range, streamed as CSV; the free text
    of entries the user may not read is withheld (analytics.free_text)."""
    form, flt = _filter_from(request)
    if form.is_bound and not form.is_valid():
        # Not the default range in place of the one asked for: say what is wrong.
        problems = "; ".join(
            _("%(field)s: %(problem)s")
            % {"field": form[name].label if name in form.fields else _("Filters"), "problem": e[0]}
            for name, e in form.errors.items()
        )
        return HttpResponseBadRequest(
            _("The export's filters are not valid. %(problems)s") % {"problems": problems},
            content_type="text/plain",
        )
    qs = reports.interactions(flt)
    # Every entry's figures; free text only of the entries the user may read.
    readable = free_text.readable_entries(request.user)
    if isinstance(request, ASGIRequest):
        content = export.astream_rows(qs, readable)
    else:
        content = export.stream_rows(qs, readable)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(flt)}"'
    response["Cache-Control"] = "no-store"
    return response
