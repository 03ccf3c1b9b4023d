"""Geometry for the report's charts, drawn as inline SVG by our own templates (no chart
library, no external service). Each chart sits beside a table of the same numbers.

Everything the report template prints from here is already a string (coordinates,
counts, day labels, heat classes): a whole-year report prints thousands of them, and
letting the template localize each number and format each date with ``|date`` was most
of its rendering time. Labels that come from people (mode, location, referral names)
stay in ``row["label"]`` as they were, for the template to escape."""

import html
from datetime import date

from django.utils import dateformat
from django.utils.safestring import mark_safe

WIDTH = 640
HEIGHT = 200
LABEL_WIDTH = 180
BAR_HEIGHT = 22
GAP = 6


def svg_number(value: float) -> str:
    """A coordinate for an SVG attribute: at most two decimals, no trailing zeros
    (``12.5``, ``20``, ``15.4``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _day_names() -> tuple[list[str], list[str]]:
    """The ``|date`` filter's "D" (Mon…Sun) and "M" (Jan…Dec) in the active language,
    formatted once per weekday and month rather than once per day."""
    weekdays = [dateformat.format(date(2024, 1, 1 + i), "D") for i in range(7)]  # a Monday
    months = ["", *(dateformat.format(date(2024, m, 1), "M") for m in range(1, 13))]
    return weekdays, months


def day_rows(per_day: list[dict]) -> list[dict]:
    """The report's days ready to print, as ``|date`` would write them: ``iso``
    ("2025-03-03", 'Y-m-d'), ``title`` ("Mon Mar 3", "D M j"), ``label``
    ("Mon Mar 3, 2025", "D M j, Y"), and ``count`` (the number, as text)."""
    weekdays, months = _day_names()
    rows = []
    for row in per_day:
        day = row["day"]
        title = f"{weekdays[day.weekday()]} {months[day.month]} {day.day}"
        rows.append(
            {
                "day": day,
                "iso": f"{day.year:04d}-{day.month:02d}-{day.day:02d}",
                "title": title,
                "label": f"{title}, {day.year:04d}",
                "count": str(row["count"]),
                "value": row["count"],
            }
        )
    return rows


def columns(rows: list[dict], value_key="count") -> dict:
    """Vertical bars, one per row (interactions per day); ``row`` is kept on each bar."""
    n = max(len(rows), 1)
    top = max((row[value_key] for row in rows), default=0) or 1
    slot = WIDTH / n
    width = max(slot * 0.8, 1)
    w = svg_number(width)
    bars = []
    for i, row in enumerate(rows):
        h = round(row[value_key] / top * (HEIGHT - 20), 2)
        bars.append(
            {
                "x": svg_number(i * slot + (slot - width) / 2),
                "y": svg_number(HEIGHT - h),
                "w": w,
                "h": svg_number(h),
                "row": row,
            }
        )
    return {"width": str(WIDTH), "height": str(HEIGHT), "bars": bars, "max": top}


def bars(rows: list[dict], value_key="count") -> dict:
    """Horizontal bars with their labels (counts by mode, location, …). The label stays
    in ``bar["row"]["label"]``, unescaped: the template escapes it."""
    top = max((row[value_key] for row in rows), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 60
    out = []
    for i, row in enumerate(rows):
        y = i * (BAR_HEIGHT + GAP)
        length = round(row[value_key] / top * room, 2)
        out.append(
            {
                "y": str(y),
                "text_y": svg_number(y + BAR_HEIGHT * 0.7),
                "w": svg_number(max(length, 0)),
                "value_x": svg_number(LABEL_WIDTH + length + 6),
                "count": str(row[value_key]),
                "row": row,
            }
        )
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP)
    return {
        "width": str(WIDTH),
        "height": str(height),
        "label_width": str(LABEL_WIDTH),
        "label_x": str(LABEL_WIDTH - 8),
        "bar_height": str(BAR_HEIGHT),
        "bars": out,
    }


def heat_level(value: int, top: int) -> int:
    """0 (none) to 5 (busiest): a CSS class, so no inline styles are needed."""
    if not value or not top:
        return 0
    return min(5, 1 + int(4 * value / top))


def heat_rows(heatmap: dict) -> list[dict]:
    """The weekday × hour grid ready to print: ``[{"weekday", "cells": [{"count",
    "level"}, …]}, …]``, the weekday named in the active language, count and heat level
    (0–5) as text."""
    top = heatmap["max"]
    # The rows run Monday…Sunday; their names in the active language (2024-01-01: a Monday).
    names = [dateformat.format(date(2024, 1, 1 + i), "l") for i in range(7)]
    return [
        {
            "weekday": names[i],
            "cells": [{"count": str(n), "level": str(heat_level(n, top))} for n in row["cells"]],
        }
        for i, row in enumerate(heatmap["rows"])
    ]


def day_bars_markup(chart: dict) -> str:
    """The per-day chart's bars, as markup: a year is 365 bars of five values each, too
    many template variables to print one by one. Only numbers and dates go in, each
    escaped all the same (with the standard library's ``html.escape``: Django's
    ``format_html`` checks every argument for lazy strings first, which was a fifth of
    a year's report)."""
    return mark_safe(
        "".join(
            f'<rect class="ra-bar" x="{_e(bar["x"])}" y="{_e(bar["y"])}" width="{_e(bar["w"])}"'
            f' height="{_e(bar["h"])}"><title>{_e(bar["row"]["title"])}:'
            f" {_e(bar['row']['count'])}</title></rect>"
            for bar in chart["bars"]
        )
    )


def day_table_markup(days: list[dict]) -> str:
    """The per-day table's body rows, as markup (see day_bars_markup)."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row"><time datetime="{_e(row["iso"])}">{_e(row["label"])}</time>'
            f"</th><td>{_e(row['count'])}</td></tr>"
            for row in days
        )
    )


def _e(value) -> str:
    return html.escape(str(value), quote=True)
