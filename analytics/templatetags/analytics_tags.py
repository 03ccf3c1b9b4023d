from django import template

register = template.Library()


@register.filter
def minutes(value):
    """A number of minutes for people: 7.5 → "7.5 min"; None → "—"."""
    if value is None:
        return "—"
    return f"{value:.1f} min" if value % 1 else f"{int(value)} min"


@register.filter
def seconds(value):
    if value is None:
        return "—"
    value = float(value)
    if value < 60:
        return f"{value:.0f} s"
    return f"{int(value // 60)} min {value % 60:.0f} s"
