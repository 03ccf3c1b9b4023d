"""Chat History's word search at volume: server time and SQL queries of one search over
100,000 chats and 1,000,000 messages on PostgreSQL (target: ≤ 100 ms, a fixed number
of queries).

    python -m benchmarks.history_search [--chats 100000 --per-chat 10] [--reseed]
        [--repeat 15] [--explain]

PostgreSQL only, in a database of its own (``libdesk_bench_history``, created and
migrated here, so the GIN index is the one history's migration makes; reused when it
holds the requested volume). The rows are written by PostgreSQL itself (INSERT …
SELECT over generate_series), the index dropped for the load and built again after, as
a restore would. Message bodies are eight words drawn log-uniformly from a vocabulary
of 20,000 (so some words are in one message in ten, others in a few dozen), with a few
plain library words mixed in.

Measured in this process through ``django.test.Client`` (the real middleware, a
logged-in operator in 2 of the 8 departments, and a superuser who sees all): median and
max of ``--repeat`` requests of ``/history/?words=…`` after a warm-up, the rows found and
the queries of one request.
"""

import argparse
import os
import re
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_HISTORY_DB", "libdesk_bench_history")
DEPARTMENTS = 8
VOCABULARY = 20_000
LIBRARY_WORDS = ["atlas", "thesis", "microfilm", "renewal", "archive", "journal", "citation"]


def database_url() -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + DB_NAME, "", ""))


def _environment():
    for name in ("REDIS_URL", "SQLITE_PATH", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ["DATABASE_URL"] = database_url()
    os.environ["DJANGO_SETTINGS_MODULE"] = "libdesk.settings"
    os.environ.setdefault("LIBDESK_VAR_DIR", "/tmp/libdesk-bench-history")
    os.environ.setdefault("EMAIL_BACKEND", "locmem")


def _stored_volume():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            return None
    with psycopg.connect(database_url()) as conn:
        if conn.execute("SELECT to_regclass('bench_history_volume')").fetchone()[0] is None:
            return None
        return tuple(conn.execute("SELECT chats, per_chat FROM bench_history_volume").fetchone())


def fill(chats: int, per_chat: int):
    """Departments and operators through the ORM (a handful of rows), then chats and
    messages in two set-based statements."""
    import importlib

    from django.contrib.auth import get_user_model

    from benchmarks.pages_seed import _run  # the same set-based load, timed
    from chat.models import Department, Membership, Operator

    index = importlib.import_module("history.migrations.0001_message_search_index")
    User = get_user_model()
    departments = [
        Department.objects.create(slug=f"bench-d{i}", name=f"Bench Department {i}")
        for i in range(DEPARTMENTS)
    ]
    operators = []
    for i in range(16):
        user = User.objects.create_user(
            f"bench-op-{i}", password="x", is_staff=True, first_name=f"Op{i}"
        )
        operator = Operator.objects.create(user=user)
        Membership.objects.create(operator=operator, department=departments[i % DEPARTMENTS])
        operators.append(operator)
    measured = User.objects.create_user("bench-history", password="x", is_staff=True)
    operator = Operator.objects.create(user=measured)
    for department in departments[:2]:
        Membership.objects.create(operator=operator, department=department)
    User.objects.create_superuser("bench-admin", password="x")
    Operator.objects.create(user=User.objects.get(username="bench-admin"))
    dep_ids = "ARRAY[" + ",".join(str(d.pk) for d in departments) + "]"
    op_ids = "ARRAY[" + ",".join(str(o.pk) for o in operators) + "]"
    _run(
        "chat_chat",
        f"""
        INSERT INTO chat_chat (public_id, department_id, status, patron_token_digest,
            patron_name, patron_email, page_url, operator_id, last_seq, patron_minute,
            patron_minute_messages, created_at, claimed_at, ended_at, ended_by, closed_at,
            origin_digest)
        SELECT gen_random_uuid(), ({dep_ids})[1 + i % {DEPARTMENTS}], 'closed', md5('t' || i),
            'Patron ' || i, 'patron' || (i % 40000) || '@example.org',
            'https://library.example/page/' || (i % 500), ({op_ids})[1 + i % 16],
            {int(per_chat)}, 0, 0,
            now() - make_interval(mins => ({chats} - i) * 5),
            now() - make_interval(mins => ({chats} - i) * 5 - 1),
            now() - make_interval(mins => ({chats} - i) * 5 - 9), 'operator',
            now() - make_interval(mins => ({chats} - i) * 5 - 10), ''
        FROM generate_series(1, {chats}) AS i
        """,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(index.POSTGRES_DROP)
        cursor.execute("SELECT setseed(0.2026)")
    words = "ARRAY[" + ",".join(f"'{w}'" for w in LIBRARY_WORDS) + "]"
    _run(
        "chat_message",
        f"""
        INSERT INTO chat_message (chat_id, seq, sender, operator_id, client_id, body, created_at)
        SELECT c.id, s, CASE WHEN s % 2 = 1 THEN 'patron' ELSE 'operator' END,
            CASE WHEN s % 2 = 0 THEN c.operator_id END, 'b' || s,
            (SELECT string_agg(
                CASE WHEN random() < 0.05
                     THEN ({words})[1 + floor(random() * {len(LIBRARY_WORDS)})::int]
                     ELSE 'term' || floor(exp(random() * ln({VOCABULARY})))::int END, ' ')
             FROM generate_series(1, 8) AS k WHERE k > 0 * s),
            c.created_at + make_interval(secs => 20 * s)
        FROM chat_chat c CROSS JOIN LATERAL generate_series(1, c.last_seq) AS s
        """,
    )
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(index.POSTGRES_CREATE)
    print(f"  {'GIN index built':<34} {'':>10}       {time.perf_counter() - t0:6.1f} s")


def seed(args):
    wanted = (args.chats, args.per_chat)
    reuse = not args.reseed and _stored_volume() == wanted
    if not reuse:
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    if reuse:
        print(f"reusing {DB_NAME}: {args.chats:,} chats x {args.per_chat} messages")
        return
    t0 = time.perf_counter()
    fill(args.chats, args.per_chat)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_history_volume (chats bigint, per_chat int)")
        cursor.execute("INSERT INTO bench_history_volume VALUES (%s, %s)", wanted)
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT count(*) FROM chat_message")
        print(f"seeded in {time.perf_counter() - t0:.0f} s; {cursor.fetchone()[0]:,} messages")


def _document_frequency(word: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM chat_message WHERE to_tsvector('english'::regconfig, "
            "translate(body, '<>', '  ')) @@ plainto_tsquery('english'::regconfig, %s)",
            [word],
        )
        return cursor.fetchone()[0]


def measure(args):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from chat.models import Operator

    searches = [
        ("rare word", "term15000"),
        ("uncommon word", "term900"),
        ("common word", "term7"),
        ("library word", "atlas"),
        ("two words", "atlas term30"),
        ("no match", "zzzunfound"),
        ("words + department filter", "term900"),
    ]
    print("\nword search, /history/?words=… (median / max of", args.repeat, "requests)")
    print(
        f"  {'search':<27} {'who':<11} {'messages':>9} {'chats':>7} {'median':>8} {'max':>8}"
        f" {'SQL med':>8} {'queries':>7}"
    )
    department = Operator.objects.get(user__username="bench-history").departments.first()
    for username in ("bench-history", "bench-admin"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(Operator.objects.get(user__username=username).user)
        for label, words in searches:
            params = {"words": words}
            if "department" in label:
                params["department"] = department.pk
            client.get("/history/", params)  # warm-up
            times, sql_times = [], []
            for _ in range(args.repeat):
                spent = [0.0]

                def timed(execute, sql, params_, many, context, spent=spent):
                    t = time.perf_counter()
                    try:
                        return execute(sql, params_, many, context)
                    finally:
                        spent[0] += time.perf_counter() - t

                t0 = time.perf_counter()
                with connection.execute_wrapper(timed):
                    response = client.get("/history/", params)
                times.append((time.perf_counter() - t0) * 1000)
                sql_times.append(spent[0] * 1000)
                assert response.status_code == 200
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/history/", params)
            status = re.search(r'role="status">([^<]*)<', response.content.decode())[1]
            counted = re.match(r"([\d,]+) chat", status)
            found = f"{int(counted[1].replace(',', '')):,}" if counted else "many"
            who = "2 depts" if username == "bench-history" else "superuser"
            print(
                f"  {label:<27} {who:<11} {_document_frequency(words):>9,} {found:>7} "
                f"{statistics.median(times):>6.1f}ms {max(times):>6.1f}ms "
                f"{statistics.median(sql_times):>6.1f}ms {len(queries):>7}"
            )
            if args.explain and username == "bench-history":
                page_sql = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"]]
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + page_sql[-1])
                    print("\n".join("      " + row[0] for row in cursor.fetchall()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--per-chat", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _environment()
    seed(args)
    measure(args)


if __name__ == "__main__":
    main()
