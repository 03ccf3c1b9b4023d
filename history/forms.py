"""Chat History's search form and the forms of a transcript page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from chat.models import Chat, Department, Operator
from history.selectors import HistoryFilters, visible_departments, visible_operators

YES_NO = [("", _("Either")), ("yes", _("Yes")), ("no", _("No"))]


class OperatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.user.get_full_name() or obj.user.get_username()
        return f"{obj.public_name} ({name})" if name != obj.public_name else name


class HistorySearchForm(forms.Form):
    words = forms.CharField(label=_("Words in the conversation"), required=False, max_length=200)
    patron = forms.CharField(label=_("Patron name or email"), required=False, max_length=254)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Any"),
    )
    operator = OperatorChoiceField(
        label=_("Librarian"),
        queryset=Operator.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *Chat.Status.choices]
    )
    has_ticket = forms.ChoiceField(label=_("Has a ticket"), required=False, choices=YES_NO)
    has_entry = forms.ChoiceField(
        label=_("Has a Reference Analytics entry"), required=False, choices=YES_NO
    )

    def __init__(self, *args, operator: Operator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = visible_departments(operator)
        self.fields["operator"].queryset = visible_operators(operator)

    def filters(self) -> HistoryFilters:
        """The filters of a valid form (fields that did not validate are left out)."""
        data = getattr(self, "cleaned_data", {}) or {}
        return HistoryFilters(**{k: v for k, v in data.items() if v not in (None, "")})
