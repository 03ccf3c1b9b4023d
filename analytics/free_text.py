"""Who reads an entry's free text: its question, answer and internal note.

Free text can identify a patron, so it stays with the entry's department: its staff
(any role), whoever answered or recorded the entry, Desk admins (the permission
``analytics.view_all_free_text``, which the Desk admin group holds) and superusers read
it; anyone else reads the entry's figures only, with the text withheld. A Desk admin
may make free text library-wide (``FormSettings.free_text_library_wide``, in /admin/).
Counts are library-wide either way: reports never show free text.

Every place that shows free text asks here: the CSV export, the admin's entries.
"""

from django.db.models import Q

from analytics.models import FormSettings
from chat.models import Membership

PERMISSION = "analytics.view_all_free_text"
FIELDS = ("question", "answer", "note")


def readable_entries(user) -> Q | None:
    """The entries whose free text ``user`` reads, as a filter; None: every entry."""
    if user.is_superuser or user.has_perm(PERMISSION):
        return None
    if FormSettings.current().free_text_library_wide:
        return None
    departments = list(
        Membership.objects.filter(operator__user=user).values_list("department_id", flat=True)
    )
    return Q(department_id__in=departments) | Q(staff=user) | Q(recorded_by=user)


def can_read(user, interaction) -> bool:
    """Whether ``user`` reads this entry's free text (one query at most)."""
    readable = readable_entries(user)
    if readable is None:
        return True
    return type(interaction).objects.filter(readable, pk=interaction.pk).exists()
