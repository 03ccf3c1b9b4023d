"""The ticket page's words for its history rows, in the reader's language.

A ticket's history (TicketChange) keeps machine words: the field's key ("status",
"queue") and, for a status, its stored value ("open"). The page shows them as the
reader's words; any other value is the desk's own record (a queue's or person's name,
an address) and is shown as written.
"""

from django import template
from django.utils.translation import pgettext_lazy

from tickets.models import Ticket

register = template.Library()

FIELD_LABELS = {
    "created": pgettext_lazy("ticket history", "created"),
    "queue": pgettext_lazy("ticket history", "queue"),
    "assignee": pgettext_lazy("ticket history", "assignee"),
    "status": pgettext_lazy("ticket history", "status"),
    "notification": pgettext_lazy("ticket history", "notification"),
    "patron_email": pgettext_lazy("ticket history", "patron's email"),
}


@register.filter
def change_field(change) -> str:
    return FIELD_LABELS.get(change.field, change.field)


@register.filter
def change_value(change, which: str) -> str:
    """``which``: "old" or "new"."""
    value = change.old_value if which == "old" else change.new_value
    if change.field == "status" and value in Ticket.Status.values:
        return Ticket.Status(value).label
    return value
