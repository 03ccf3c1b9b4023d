"""The Reference Analytics form (crispy, bootstrap5 template pack, our own CSS) and the
reports' filter form."""

from datetime import date, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.models import (
    FormSettings,
    Interaction,
    Location,
    Mode,
    PatronType,
    QuestionType,
    Topic,
)
from analytics.services import ENTRY_FIELDS
from chat.models import Department, Operator

FUTURE_TOLERANCE = timedelta(minutes=5)
READ_SCALE_CHOICES = [
    ("", "—"),
    (1, gettext_lazy("1 · Answer with no specialized knowledge")),
    (2, gettext_lazy("2 · Some knowledge of resources")),
    (3, gettext_lazy("3 · Reference knowledge and skills")),
    (4, gettext_lazy("4 · Consultation, several resources")),
    (5, gettext_lazy("5 · More time, expertise, research")),
    (6, gettext_lazy("6 · In-depth research, collaboration")),
]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _choices(model, current_id=None):
    """Active choices, plus the entry's own choice if it has been retired since."""
    condition = Q(is_active=True)
    if current_id:
        condition |= Q(pk=current_id)
    return model.objects.filter(condition)


class InteractionForm(forms.ModelForm):
    """Required: Location, Mode, Duration; the rest as the admin's FormSettings say.

    ``chat``: the entry is for that chat (no department field; Mode preselects Chat;
    Duration and Question prefilled by the view). ``settings``: a FormSettings.
    """

    class Meta:
        model = Interaction
        fields = list(ENTRY_FIELDS)  # what analytics.services accepts, no more
        widgets = {
            "occurred_at": DateTimeLocalInput(),
            "referral_kind": forms.RadioSelect,
            "question": forms.Textarea(attrs={"rows": 3}),
            "answer": forms.Textarea(attrs={"rows": 3}),
            "note": forms.Textarea(attrs={"rows": 2}),
            "ticket_ref": forms.HiddenInput,
        }
        labels = {
            "occurred_at": gettext_lazy("Time"),
            "duration_minutes": gettext_lazy("Duration (minutes)"),
            "referral_kind": gettext_lazy("Referred by"),
            "referred_by_operator": gettext_lazy("Referring operator"),
            "referred_by_department": gettext_lazy("Referring department"),
            "referred_by_text": gettext_lazy("Referred by (other)"),
            "read_scale": gettext_lazy("READ scale"),
            "note": gettext_lazy("Internal note"),
        }
        help_texts = {
            "occurred_at": gettext_lazy("Now, unless you are recording an earlier interaction."),
            "note": gettext_lazy("Staff only; never shown to the patron."),
        }

    def __init__(self, *args, chat=None, settings: FormSettings | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chat = chat
        self.form_settings = settings or FormSettings.current()
        instance = self.instance
        f = self.fields
        f["location"].queryset = _choices(Location, instance.location_id)
        f["mode"].queryset = _choices(Mode, instance.mode_id)
        f["question_type"].queryset = _choices(QuestionType, instance.question_type_id)
        f["patron_type"].queryset = _choices(PatronType, instance.patron_type_id)
        f["topic"].queryset = _choices(Topic, instance.topic_id)
        f["department"].queryset = Department.objects.filter(is_active=True)
        f["referred_by_department"].queryset = Department.objects.filter(is_active=True)
        f["referred_by_operator"].queryset = Operator.objects.select_related("user")
        f["referred_by_operator"].label_from_instance = lambda op: (
            f"{op.public_name} ({op.user.get_username()})"
        )
        f["read_scale"] = forms.TypedChoiceField(
            label=_("READ scale"),
            choices=READ_SCALE_CHOICES,
            coerce=int,
            empty_value=None,
            required=False,
            help_text=_("Reference Effort Assessment Data: 1 (least) to 6 (most effort)."),
        )
        f["occurred_at"].required = False
        f["duration_minutes"].widget.attrs.update(
            {"min": 0, "max": 24 * 60, "inputmode": "numeric"}
        )
        for name in ("location", "mode"):
            f[name].empty_label = _("Choose…")
        f["referral_kind"].choices = Interaction.Referral.choices
        if chat is not None:
            del f["department"]
        required = self.form_settings.required_fields()
        for name in required:
            if name == "referral":
                continue  # checked in clean(): "Nobody" is not an answer then
            f[name].required = True
        self.helper = self._helper()

    def _helper(self):
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        names = set(self.fields)
        when = ["occurred_at"] + (["department"] if "department" in names else [])
        helper.layout = Layout(
            Div(Field("location"), Field("mode"), Field("duration_minutes"), css_class="ra-row"),
            Fieldset(
                _("Who referred this question to you?"),
                Field("referral_kind"),
                Div(
                    Field("referred_by_operator"),
                    Field("referred_by_department"),
                    Field("referred_by_text"),
                    css_class="ra-row",
                ),
                css_class="ra-referral",
            ),
            Div(
                Field("question_type"),
                Field("read_scale"),
                Field("patron_type"),
                Field("topic"),
                css_class="ra-row",
            ),
            Field("question"),
            Field("answer"),
            Field("note"),
            Div(*[Field(name) for name in when], css_class="ra-row"),
            Field("ticket_ref"),
        )
        return helper

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now() + FUTURE_TOLERANCE:
            raise forms.ValidationError(_("The time cannot be in the future."), code="future")
        return value

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("referral_kind") or ""
        target = {
            Interaction.Referral.OPERATOR: "referred_by_operator",
            Interaction.Referral.DEPARTMENT: "referred_by_department",
            Interaction.Referral.OTHER: "referred_by_text",
        }.get(kind)
        if target and not cleaned.get(target):
            self.add_error(target, _("Say who referred this question to you."))
        if "referral" in self.form_settings.required_fields() and not kind:
            self.add_error("referral_kind", _("Say who referred this question to you."))
        # Only the chosen kind of referral is kept.
        for name in ("referred_by_operator", "referred_by_department"):
            if name != target:
                cleaned[name] = None
        if target != "referred_by_text":
            cleaned["referred_by_text"] = ""
        return cleaned

    def entry_data(self) -> dict:
        """The cleaned data in the shape ``services.interaction_record`` takes."""
        return {name: self.cleaned_data.get(name) for name in self.fields}


class _ListedChoices(ModelChoiceIterator):
    """A short choice list read with one plain query (Django's own iterator uses
    ``.iterator()``: on PostgreSQL a server-side cursor, three round trips a list)."""

    def _objects(self) -> list:
        if not hasattr(self, "_listed"):
            self._listed = list(self.queryset)
        return self._listed

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._objects():
            yield self.choice(obj)

    def __len__(self):  # the {% for %} tag asks first: no COUNT query for it
        return len(self._objects()) + (self.field.empty_label is not None)


class _ListedChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoices


# The dates a report may cover: desk records start long after 1900, and a date such as
# 0001-01-01 or 9999-12-31 (typed to mean "everything") is outside what the date
# arithmetic of a report can reach (the day after 9999-12-31 does not exist).
REPORT_FIRST_DAY = date(1900, 1, 1)
REPORT_LAST_DAY = date(2999, 12, 31)
REPORT_PAGE_MAX_DAYS = 10 * 365 + 3  # ten years, leap days included


class ReportFilterForm(forms.Form):
    """The reports' filters (GET). Empty dates: the last 30 days."""

    start = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    department = _ListedChoiceField(
        queryset=Department.objects.all(), required=False, empty_label=gettext_lazy("All")
    )
    location = _ListedChoiceField(
        queryset=Location.objects.all(), required=False, empty_label=gettext_lazy("All")
    )
    mode = _ListedChoiceField(
        queryset=Mode.objects.all(), required=False, empty_label=gettext_lazy("All")
    )
    staff = _ListedChoiceField(
        label=gettext_lazy("Staff member"),
        queryset=get_user_model().objects.filter(is_staff=True).order_by("username"),
        required=False,
        empty_label=gettext_lazy("All"),
    )
    question_type = _ListedChoiceField(
        queryset=QuestionType.objects.all(), required=False, empty_label=gettext_lazy("All")
    )

    def __init__(self, *args, max_days=None, **kwargs):
        """``max_days``: the longest range taken (the report page's chart has a column
        per day); None for any range within the report dates (the CSV export)."""
        super().__init__(*args, **kwargs)
        self.max_days = max_days
        self.fields["staff"].label_from_instance = lambda u: u.get_full_name() or u.get_username()

    def _in_report_range(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not REPORT_FIRST_DAY <= value <= REPORT_LAST_DAY:
            raise forms.ValidationError(
                _("Choose a date from %(first)s to %(last)s.")
                % {
                    "first": date_format(REPORT_FIRST_DAY, "DATE_FORMAT"),
                    "last": date_format(REPORT_LAST_DAY, "DATE_FORMAT"),
                },
                code="out_of_range",
            )
        return value

    def clean_start(self):
        return self._in_report_range("start")

    def clean_end(self):
        return self._in_report_range("end")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("“To” must be on or after “From”."))
        elif (
            self.max_days
            and start
            and (end or timezone.localdate()) - start >= timedelta(days=self.max_days)
        ):
            self.add_error(
                "start",
                _(
                    "A report shows at most %(years)s years at a time; "
                    "the CSV export takes any range."
                )
                % {"years": self.max_days // 365},
            )
        return cleaned
