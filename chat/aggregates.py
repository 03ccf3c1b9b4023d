"""Database expressions the desk's reads share: a duration in seconds between two
timestamps and a median, computed in SQL on PostgreSQL and on SQLite.

Lives in ``chat`` because both the chat desk (the patron's estimated wait) and
Reference Analytics (durations, wait times) need it, and ``analytics`` builds on
``chat``, never the other way round.
"""

from django.db import connection
from django.db.models import F, FloatField, Func, QuerySet


class SecondsBetween(Func):
    """``end - start`` in seconds (float), in SQL, for PostgreSQL and SQLite."""

    output_field = FloatField()

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL and others
        return super().as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class PercentileCont(Func):
    """PostgreSQL's ordered-set aggregate ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``."""

    function = "percentile_cont"
    contains_aggregate = True
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction=0.5, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def median(qs: QuerySet, expression) -> float | None:
    """The median of ``expression`` over ``qs`` (NULLs ignored), computed in the database;
    None when there are no rows.

    PostgreSQL: one ``percentile_cont(0.5)`` aggregate. SQLite: a COUNT, then the one or
    two middle rows by ORDER BY … LIMIT/OFFSET (an index on the expression helps).
    """
    qs = qs.annotate(_median_value=expression).filter(_median_value__isnull=False)
    if connection.vendor == "postgresql":
        return qs.aggregate(m=PercentileCont(F("_median_value")))["m"]
    n = qs.count()
    if not n:
        return None
    ordered = qs.order_by("_median_value").values_list("_median_value", flat=True)
    if n % 2:
        return float(ordered[n // 2])
    low, high = ordered[n // 2 - 1 : n // 2 + 1]
    return (float(low) + float(high)) / 2
