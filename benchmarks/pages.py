"""Pages at volume: server time and SQL queries of the Chat Dashboard (page and the staff
socket's first ``dashboard.state``), the ticket list and the Reference Analytics
reports, over 100,000 chats and 1,000,000 messages; then requests per second of a light
page and the dashboard under Daphne (ASGI) and Gunicorn (WSGI).

    python -m benchmarks.pages [--chats 100000 --messages 1000000 --tickets 5000
        --entries 300000] [--reseed] [--repeat 15] [--explain] [--http-only | --no-http]

PostgreSQL only, in a database of its own (``libdesk_bench_pages``, created and migrated
here; reused when it already holds the requested volume, rebuilt with ``--reseed``).
Server time is measured in this process through ``django.test.Client`` (the real
middleware, a logged-in session), after a warm-up: median and max of ``--repeat``
requests, and the number of SQL queries of one request (CaptureQueriesContext).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_PAGES_DB", "libdesk_bench_pages")


def database_url() -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + DB_NAME, "", ""))


def _environment():
    """The benchmark's settings: its own PostgreSQL database; no Redis (in-memory layer,
    local cache), so nothing here touches a shared Redis."""
    for name in ("REDIS_URL", "SQLITE_PATH", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ["DATABASE_URL"] = database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "libdesk.settings"
    os.environ.setdefault("LIBDESK_VAR_DIR", "/tmp/libdesk-bench-pages")
    os.environ.setdefault("EMAIL_BACKEND", "locmem")


def _stored_volume() -> dict:
    """What an earlier run seeded (``bench_pages_volume``), or {}."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            return {}
    with psycopg.connect(database_url()) as conn:
        if conn.execute("SELECT to_regclass('bench_pages_volume')").fetchone()[0] is None:
            return {}
        return dict(conn.execute("SELECT name, n FROM bench_pages_volume").fetchall())


def _recreate_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def seed(args):
    """Reuse the database when it holds the requested volume; otherwise build it again
    (drop, create, migrate, fill), before Django opens any connection to it."""
    wanted = {
        "chats": args.chats,
        "messages": args.messages,
        "tickets": args.tickets,
        "entries": args.entries,
    }
    reuse = not args.reseed and _stored_volume() == wanted
    if not reuse:
        _recreate_database()
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)  # also applies new migrations to a reused database
    if reuse:
        print(f"reusing {DB_NAME}: " + ", ".join(f"{v:,} {k}" for k, v in wanted.items()))
        return
    from benchmarks import pages_seed

    t0 = time.perf_counter()
    pages_seed.fill(**wanted)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_pages_volume (name text PRIMARY KEY, n bigint)")
        cursor.executemany("INSERT INTO bench_pages_volume VALUES (%s, %s)", list(wanted.items()))
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would: visibility map, statistics
        cursor.execute("SELECT count(*) FROM chat_message")
        print(
            f"seeded in {time.perf_counter() - t0:.0f} s; "
            f"{cursor.fetchone()[0]:,} messages in the database"
        )


def sync(socket_call):
    """The plain function behind a socket's database call (``socket_db`` or Channels'
    ``database_sync_to_async``), to run it in this thread."""
    return getattr(socket_call, "__wrapped__", None) or socket_call.func


# --- In-process server time ----------------------------------------------------------


def _time(label, call, repeat, explain, check=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm-up: templates, pool, PostgreSQL's caches
        call()
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = call()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    with CaptureQueriesContext(connection) as queries:
        result = call()
    if check is not None:
        check(result)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default=None)
    row = {
        "page": label,
        "queries": len(queries),
        "median": statistics.median(times),
        "max": max(times),
        "cpu": statistics.median(cpu),
        "slowest_ms": float(slowest["time"]) * 1000 if slowest else 0.0,
    }
    print(
        f"{label:<44} {row['queries']:>4} {row['median']:>9.1f} {row['max']:>9.1f}"
        f" {row['cpu']:>9.1f} {row['slowest_ms']:>11.1f}",
        flush=True,
    )
    if explain and slowest is not None and slowest["sql"].lstrip().startswith(("SELECT", "WITH")):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            print("    " + "\n    ".join(r[0] for r in cursor.fetchall()))
    return row


def _ok(response):
    if response.status_code != 200:
        sys.exit(f"unexpected status {response.status_code} for {response.request['PATH_INFO']}")


def _reports(get, year, operator, args):
    """The reports page: with no day's figures kept (analytics.rollups), then after
    building every past day (timed): 30 days, a year, a year of one department (kept
    too), and a year filtered by department and mode, by mode, by mode and location, by
    librarian (the entry figures read from the entries but for one mode's kept share;
    the chat figures kept, but by librarian)."""
    # Benchmark setup, not a desk write: start from a database that never built a day.
    # TRUNCATE, not DELETE: a run deleting and rebuilding 1.2 million figure rows left
    # them among ~4 million dead ones (no desk rewrites every day at once), and the
    # reports read through that bloat (~20% slower).
    from django.db import connection

    from analytics.models import ReportDay, ReportDepartmentDay, ReportFigure, ReportMonth
    from analytics.services import report_days_build

    with connection.cursor() as cursor:
        models = (ReportFigure, ReportDepartmentDay, ReportMonth, ReportDay)
        tables = [model._meta.db_table for model in models]
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    rows = [
        _time(
            "GET /analytics/ (30 days, no day kept)",
            lambda: get("/analytics/"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a year, no day kept)",
            lambda: get("/analytics/" + year),
            args.repeat,
            args.explain,
            _ok,
        ),
    ]
    t0 = time.perf_counter()
    built = report_days_build(limit=None)
    print(
        f"  build_report_days: {built['built']} days kept, {built['open']} leaving open chats out, "
        f"{time.perf_counter() - t0:.1f} s, {ReportFigure.objects.count():,} figure rows"
    )
    with connection.cursor() as cursor:  # as autovacuum soon would: the planner's statistics
        cursor.execute(
            "VACUUM ANALYZE analytics_reportday, analytics_reportfigure,"
            " analytics_reportdepartmentday, analytics_reportmonth"
        )
    department = operator.departments.order_by("pk").first()
    from analytics.models import Location, Mode

    mode = Mode.objects.order_by("pk").first()
    location = Location.objects.order_by("pk").first()
    rows += [
        _time(
            "GET /analytics/ (last 30 days)",
            lambda: get("/analytics/"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a whole year)",
            lambda: get("/analytics/" + year),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a year, one department)",
            lambda: get(f"/analytics/{year}&department={department.pk}"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a year, department + mode)",
            lambda: get(f"/analytics/{year}&department={department.pk}&mode={mode.pk}"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (30 days, one mode)",
            lambda: get(f"/analytics/?mode={mode.pk}"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a year, one mode)",
            lambda: get(f"/analytics/{year}&mode={mode.pk}"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a year, mode + location)",
            lambda: get(f"/analytics/{year}&mode={mode.pk}&location={location.pk}"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /analytics/ (a year, one librarian)",
            lambda: get(f"/analytics/{year}&staff={operator.user_id}"),
            args.repeat,
            args.explain,
            _ok,
        ),
    ]
    return rows


def measure(args):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from benchmarks.pages_seed import BENCH_OPERATOR
    from chat import consumers, events, selectors, services
    from chat.consumers.frames import staff_state_extras

    user = get_user_model().objects.get(username=BENCH_OPERATOR)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    operator = selectors.operator_for_user(user)
    get = client.get
    today = timezone.localdate()
    year = f"?start={today - timedelta(days=364)}&end={today}"

    channels = []

    def socket_state():
        """What StaffConsumer.connect sends: _staff_open (registers the connection,
        builds dashboard.state) and the issue-4 extras (connections closed afterwards)."""
        channels.append(f"bench-pages-socket-{len(channels)}")
        open_socket, extras = sync(consumers._staff_open), sync(staff_state_extras)
        if hasattr(events, "after_call"):  # the consumer sends these from its loop
            open_socket, _ = events.after_call(open_socket)
        department_ids, _mine, state = open_socket(operator, channels[-1])
        state.update(extras(operator, department_ids))
        return state

    uptime = open("/proc/loadavg").read().split()[:3]
    print(
        f"\nserver time, in process (median/max of {args.repeat}), load average {' '.join(uptime)}"
    )
    print(
        f"{'page':<44} {'SQL':>4} {'median ms':>9} {'max ms':>9} {'py cpu ms':>9}"
        f" {'slowest SQL':>11}"
    )
    rows = [
        _time("GET /dashboard/", lambda: get("/dashboard/"), args.repeat, args.explain, _ok),
        _time("dashboard socket: dashboard.state", socket_state, args.repeat, args.explain),
    ]
    for name in channels:
        services.connection_close(channel_name=name)
    rows += [
        _time("GET /tickets/", lambda: get("/tickets/"), args.repeat, args.explain, _ok),
        _time(
            "GET /tickets/?q=atlas",
            lambda: get("/tickets/?q=atlas"),
            args.repeat,
            args.explain,
            _ok,
        ),
        _time(
            "GET /tickets/?view=unassigned&status=open",
            lambda: get("/tickets/?view=unassigned&status=open"),
            args.repeat,
            args.explain,
            _ok,
        ),
    ]
    rows += _reports(get, year, operator, args)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM chat_chat")
        chats = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM chat_message")
        messages = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM analytics_interaction")
        entries = cursor.fetchone()[0]
    print(f"data: {chats:,} chats, {messages:,} messages, {entries:,} entries")
    return rows, client


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each page"
    )
    parser.add_argument("--no-http", action="store_true", help="skip Daphne vs Gunicorn")
    parser.add_argument("--http-only", action="store_true", help="only Daphne vs Gunicorn")
    parser.add_argument("--requests", type=int, default=2000, help="per HTTP measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    _environment()
    seed(args)
    client = None
    if not args.http_only:
        _rows, client = measure(args)
    if not args.no_http:
        from benchmarks import pages_http

        pages_http.compare(database_url(), args.requests, args.concurrency)


if __name__ == "__main__":
    main()
