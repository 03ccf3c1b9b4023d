"""The ticket page's words for its history rows, in the reader's language.

A ticket's history (TicketChange) keeps machine words: the field's key ("status",
"queue"), for a status its stored value ("open"), and for its creation the desk's
fixed record of where it came from ("offline form, queue Special Collections", written
by tickets.services). The page shows them as the reader's words; any other value is the
desk's own record (a queue's or person's name, an address) and is shown as written.
"""

import re

from django import template
from django.utils.translation import pgettext, pgettext_lazy

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


# How tickets.services records a creation: "<source>, queue <department name>".
CREATED = re.compile(r"^(from chat|offline form|email), queue (.+)$", re.S)


def _created(value: str) -> str:
    match = CREATED.match(value)
    if not match:
        return value
    source, queue = match.groups()
    if source == "from chat":
        text = pgettext("ticket history", "from a chat, queue %(queue)s")
    elif source == "offline form":
        text = pgettext("ticket history", "from the offline form, queue %(queue)s")
    else:
        text = pgettext("ticket history", "by email, queue %(queue)s")
    return text % {"queue": queue}


@register.filter
def change_field(change) -> str:
    return FIELD_LABELS.get(change.field, change.field)


@register.filter
def change_value(change, which: str) -> str:
    """``which``: "old" or "new"."""
    value = change.old_value if which == "old" else change.new_value
    if change.field == "status" and value in Ticket.Status.values:
        return Ticket.Status(value).label
    if change.field == "created":
        return _created(value)
    return value
