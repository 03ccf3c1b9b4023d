"""Forms of the staff pages (validation only: saving goes through chat.services)."""

from django import forms
from django.utils.translation import gettext_lazy

from chat.models import CannedMessage


class PersonalCannedForm(forms.ModelForm):
    """Title, shortcut and body of an operator's own canned message. The instance must
    already carry scope=personal and its operator, so the model's checks run in full."""

    class Meta:
        model = CannedMessage
        fields = ["title", "shortcut", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}
        help_texts = {
            "shortcut": gettext_lazy(
                "Optional. Starts with “/” and has no spaces, e.g. /hours. "
                "Typing it in the message box offers this reply."
            ),
        }
