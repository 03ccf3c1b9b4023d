"""Geometry for the report's charts, drawn as inline SVG by our own templates (no chart
library, no external service). Each chart sits beside a table of the same numbers."""

WIDTH = 640
HEIGHT = 200
LABEL_WIDTH = 180
BAR_HEIGHT = 22
GAP = 6


def columns(rows: list[dict], value_key="count") -> dict:
    """Vertical bars, one per row (interactions per day)."""
    n = max(len(rows), 1)
    top = max((row[value_key] for row in rows), default=0) or 1
    slot = WIDTH / n
    width = max(slot * 0.8, 1)
    bars = []
    for i, row in enumerate(rows):
        h = round(row[value_key] / top * (HEIGHT - 20), 2)
        bars.append(
            {
                "x": round(i * slot + (slot - width) / 2, 2),
                "y": round(HEIGHT - h, 2),
                "w": round(width, 2),
                "h": h,
                "row": row,
            }
        )
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "max": top}


def bars(rows: list[dict], value_key="count") -> dict:
    """Horizontal bars with their labels (counts by mode, location, …)."""
    top = max((row[value_key] for row in rows), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 60
    out = []
    for i, row in enumerate(rows):
        y = i * (BAR_HEIGHT + GAP)
        out.append(
            {
                "y": y,
                "text_y": y + BAR_HEIGHT * 0.7,
                "w": round(max(row[value_key] / top * room, 0), 2),
                "value_x": LABEL_WIDTH + round(row[value_key] / top * room, 2) + 6,
                "row": row,
            }
        )
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP)
    return {
        "width": WIDTH,
        "height": height,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
        "bars": out,
    }


def heat_level(value: int, top: int) -> int:
    """0 (none) to 5 (busiest): a CSS class, so no inline styles are needed."""
    if not value or not top:
        return 0
    return min(5, 1 + int(4 * value / top))
