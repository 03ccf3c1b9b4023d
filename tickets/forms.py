"""Staff forms of the ticket page (rendered with crispy-forms) and the desk's filters."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.models import Department, Operator
from tickets.models import Ticket


def _helper(action: str, button: str, form_id: str) -> FormHelper:
    helper = FormHelper()
    helper.form_action = action
    helper.form_method = "post"
    helper.form_id = form_id
    helper.add_input(Submit("submit", button, css_class="button primary"))
    return helper


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Reply to the patron (emailed)"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=settings.LIBDESK["MAX_MESSAGE_LENGTH"],
    )

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Send reply"), "reply-form")


class NoteForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Internal note (never emailed)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=settings.LIBDESK["MAX_MESSAGE_LENGTH"],
    )

    def __init__(self, *args, action="", **kwargs):
        # Its own ids: the reply form on the same page has a "body" too, and a label
        # must name one box ("Internal note" labelled the reply box before).
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Add note"), "note-form")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=Operator.objects.none(),
        required=False,
        empty_label=gettext_lazy("Unassigned"),
        label=gettext_lazy("Assignee"),
    )

    def __init__(self, *args, department_id=None, action="", **kwargs):
        super().__init__(*args, **kwargs)
        queryset = Operator.objects.filter(departments=department_id).select_related("user")
        self.fields["assignee"].queryset = queryset
        self.fields["assignee"].label_from_instance = lambda op: (
            op.user.get_full_name() or op.public_name
        )
        self.helper = _helper(action, _("Assign"), "assign-form")


class QueueForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True),
        empty_label=None,
        label=gettext_lazy("Queue"),
    )

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Change queue"), "queue-form")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices, label=gettext_lazy("Status"))

    def __init__(self, *args, action="", **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(action, _("Change status"), "status-form")


class FilterForm(forms.Form):
    """The ticket desk's filters (GET)."""

    view = forms.ChoiceField(
        choices=[
            ("", gettext_lazy("All tickets")),
            ("mine", gettext_lazy("Mine")),
            ("unassigned", gettext_lazy("Unassigned")),
        ],
        required=False,
        label=gettext_lazy("Show"),
    )
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my departments"),
        label=gettext_lazy("Department"),
    )
    status = forms.ChoiceField(
        choices=[("", gettext_lazy("Any status")), *Ticket.Status.choices],
        required=False,
        label=gettext_lazy("Status"),
    )
    q = forms.CharField(required=False, label=gettext_lazy("Search"), max_length=200)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if departments is not None:
            self.fields["department"].queryset = departments


class CreateFromChatForm(forms.Form):
    """The dashboard's Create Ticket (JSON, validated here)."""

    chat = forms.UUIDField()
    department = forms.ModelChoiceField(queryset=Department.objects.filter(is_active=True))
    assignee = forms.ModelChoiceField(queryset=Operator.objects.all(), required=False)
    notes = forms.CharField(required=False, max_length=settings.LIBDESK["MAX_MESSAGE_LENGTH"])
