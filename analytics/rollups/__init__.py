"""The reports, read from figures kept per day and per month.

A report over a year used to scan every entry and chat of the year (~1 s at 300,000
entries and 100,000 chats). The figures of a day — entries per hour, per mode, per
location…, chats claimed, abandoned, waits — add up across days, so once a day is over
they are kept (``ReportDay`` and ``ReportFigure``; each department's share too, in
``ReportDepartmentDay`` and ``ReportFigure.department``), and each month's kept days
from its 1st are added up once more (``ReportMonth``, through the last of them): a year
reads twelve months' rows, and a range that starts or ends inside a month reads the
month less the days outside it where that is fewer rows than the days'. Medians add up
too when the figure is kept as "how many of each value": minutes of duration, whole
seconds of wait.

Which days are kept: ``analytics.services.report_days_build`` (Celery beat hourly,
``manage.py build_report_days``) keeps the days before today; a chat still waiting or
active is left out of its day's figures (``ReportDay.open_chats``: a report counts it
as it is when read, and the day is kept again once they have all finished).
Recording, correcting or deleting an entry marks its day (and its chat's day) changed,
and a changed day (and the month sums that reach it) counts as not kept until it is
built again. A report reads the kept days' and months' figures and computes the others
(today, changed days, days never built) from the entries and chats themselves, with the
same function the build uses (``compute_days``), so the two can only agree.

The unfiltered report and a report filtered by department alone are read this way
(what a library looks at most: a month, a term, a year, a department's); any other
filter (location, mode, staff, question type) takes its entry figures from
``analytics.reports``' one pass over the entries, and its chat figures from here
(``chat_figures``: location, mode and question type describe entries, not chats) but
for a staff filter, which narrows the chats too.
"""

from analytics.rollups.days import (
    FINISHED,
    HOUR_FIGURES,
    KEY_FIELDS,
    SHARE_FIGURES,
    TOTALS,
    DayFigures,
    Figure,
    Key,
    compute_days,
    day_ranges,
    figure_rows,
    key,
    month_days,
    time_zone_name,
)
from analytics.rollups.read import (
    chat_figures,
    report,
    summed_by_value,
    summed_by_weekday_hour,
)
from analytics.rollups.shape import (
    WEEKDAYS,
    busiest,
    entry_figures,
    median_of_counts,
    referral_rows,
)

__all__ = [
    "FINISHED",
    "HOUR_FIGURES",
    "KEY_FIELDS",
    "SHARE_FIGURES",
    "TOTALS",
    "WEEKDAYS",
    "DayFigures",
    "Figure",
    "Key",
    "busiest",
    "chat_figures",
    "compute_days",
    "day_ranges",
    "entry_figures",
    "figure_rows",
    "key",
    "median_of_counts",
    "month_days",
    "referral_rows",
    "report",
    "summed_by_value",
    "summed_by_weekday_hour",
    "time_zone_name",
]
