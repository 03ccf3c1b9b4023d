from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def count(value):
    """A count for people, grouped in the active language's way: 1,234 / 1.234."""
    if value is None:
        return "—"
    return number_format(value, force_grouping=True)


def _decimal(value: float) -> str:
    """One decimal where there is one (7.5 / 7,5), none for a whole number."""
    return number_format(value, 1) if value % 1 else number_format(int(value))


@register.filter
def minutes(value):
    """A number of minutes for people: 7.5 → "7.5 min" ("7,5 min"); None → "—"."""
    if value is None:
        return "—"
    return _("%(minutes)s min") % {"minutes": _decimal(round(float(value), 1))}


@register.filter
def seconds(value):
    """A wait for people: 42 → "42 s", 75 → "1 min 15 s"; None → "—"."""
    if value is None:
        return "—"
    value = round(float(value))
    if value < 60:
        return _("%(seconds)s s") % {"seconds": number_format(value)}
    return _("%(minutes)s min %(seconds)s s") % {
        "minutes": number_format(value // 60),
        "seconds": number_format(value % 60),
    }
