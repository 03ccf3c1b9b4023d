"""The data behind ``benchmarks/pages.py``: a year of a busy desk, written by PostgreSQL
itself (INSERT … SELECT over number series), so a million messages take seconds to a few
minutes, not a million Python objects. Run only inside pages.py's own database.

Spread: D departments, O operators (each in one to three of them), chats over the last
365 days (ids grow with time; nearly all closed, the newest few ended, active or
waiting), 1–19 messages each (about ``messages / chats`` on average), tickets with a
thread and an audit trail, and Reference Analytics entries: one for most claimed chats,
the rest desk, phone and email questions, over every location, mode, question type,
READ level, staff member and referral kind.
"""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

BENCH_OPERATOR = "bench-pages"
PASSWORD = "bench-pages-password-0"
DEPARTMENTS = 8
OPERATORS = 40
WAITING, ACTIVE, ENDED = 40, 60, 200  # the newest chats: not yet closed


def _array(ids) -> str:
    return "ARRAY[" + ",".join(str(int(i)) for i in ids) + "]::bigint[]"


def _pick(ids, key_sql: str) -> str:
    """SQL choosing one of ``ids`` from a non-negative integer expression."""
    return f"({_array(ids)})[1 + (({key_sql}) % {len(ids)})]"


def _run(label, sql, params=None):
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    print(f"  {label:<38} {rows:>10,} rows  {time.perf_counter() - t0:6.1f} s", flush=True)


def people():
    """Departments, operators and memberships (a few dozen rows, through the ORM), and the
    measured operator ``bench-pages`` in the first two departments."""
    from chat.models import Department, Membership, Operator

    User = get_user_model()
    departments = [
        Department.objects.get_or_create(
            slug=f"bench-d{i}", defaults={"name": f"Bench Department {i}"}
        )[0]
        for i in range(DEPARTMENTS)
    ]
    password = make_password(PASSWORD)
    operators = []
    for i in range(OPERATORS):
        user, _ = User.objects.get_or_create(
            username=f"bench-op-{i}",
            defaults={"first_name": f"Op{i}", "is_staff": True, "password": password},
        )
        operator, _ = Operator.objects.get_or_create(user=user)
        operators.append(operator)
        for k in range(1 + i % 3):
            Membership.objects.get_or_create(
                operator=operator, department=departments[(i + k) % DEPARTMENTS]
            )
    user, _ = User.objects.get_or_create(
        username=BENCH_OPERATOR,
        defaults={"first_name": "Bench", "is_staff": True, "password": password},
    )
    me, _ = Operator.objects.get_or_create(user=user)
    for department in departments[:2]:
        Membership.objects.get_or_create(operator=me, department=department)
    return departments, operators, me


@transaction.atomic
def fill(*, chats: int, messages: int, tickets: int, entries: int):
    from analytics.models import Location, Mode, QuestionType

    departments, operators, me = people()
    dep_ids = [d.pk for d in departments]
    op_ids = [o.pk for o in operators]
    user_ids = [o.user_id for o in operators]
    span = max(1, 2 * round(messages / max(chats, 1)) - 1)  # 1..span messages, mean ~ratio
    new = chats - WAITING - ACTIVE - ENDED
    hsh = "((i::bigint * 2654435761) % 4294967296)"  # a cheap, repeatable scramble of i

    print(
        f"seeding {chats:,} chats, ~{messages:,} messages, {tickets:,} tickets, "
        f"{entries:,} entries",
        flush=True,
    )
    # Chats: created over the year in id order; the newest are waiting, active, ended.
    status = (
        f"CASE WHEN i > {chats - WAITING} THEN 'waiting' WHEN i > {chats - WAITING - ACTIVE}"
        f" THEN 'active' WHEN i > {new} THEN 'ended' ELSE 'closed' END"
    )
    abandoned = f"(i <= {new} AND {hsh} % 20 = 0)"  # ended before anyone claimed it
    operator = (
        f"CASE WHEN i > {chats - WAITING} OR {abandoned} THEN NULL"
        f" WHEN i > {new} AND i % 4 = 0 THEN {me.pk} ELSE {_pick(op_ids, hsh)} END"
    )
    _run(
        "chat_chat",
        f"""
        INSERT INTO chat_chat (public_id, department_id, status, patron_token_digest,
            patron_name, patron_email, page_url, operator_id, last_seq, created_at,
            claimed_at, ended_at, ended_by, closed_at)
        SELECT gen_random_uuid(), {_pick(dep_ids, hsh + " / 7")}, s,
               encode(sha256(('bench-pages-' || i)::bytea), 'hex'),
               'Patron ' || i, CASE WHEN i % 3 = 0 THEN 'p' || i || '@example.org' ELSE '' END,
               'https://library.example/catalogue', op,
               CASE WHEN s = 'waiting' THEN 1 ELSE 1 + ({hsh} % {span}) END,
               t,
               CASE WHEN op IS NULL THEN NULL ELSE t + make_interval(secs => 5 + {hsh} % 300) END,
               CASE WHEN s IN ('ended', 'closed')
                    THEN t + make_interval(secs => 600 + {hsh} % 1800) END,
               CASE WHEN s IN ('ended', 'closed') THEN 'operator' ELSE '' END,
               CASE WHEN s = 'closed' THEN t + make_interval(secs => 2400 + {hsh} % 1800) END
        FROM (
            SELECT i, {status} AS s, {operator} AS op,
                   now() - make_interval(secs => ({chats} - i) * (31536000.0 / {chats})) AS t
            FROM generate_series(1, {chats}) AS i
        ) AS g
        """,
    )
    _run(
        "chat_message",
        """
        INSERT INTO chat_message (chat_id, seq, sender, operator_id, client_id, body, created_at)
        SELECT c.id, s,
               CASE WHEN s % 2 = 1 OR c.operator_id IS NULL THEN 'patron' ELSE 'operator' END,
               CASE WHEN s % 2 = 0 THEN c.operator_id END,
               'bench-' || s,
               CASE WHEN s = 1 THEN 'Do you have the 1902 atlas of the county? Question ' || c.id
                    ELSE 'Benchmark reply number ' || s || ' about the atlas and its maps' END,
               c.created_at + make_interval(secs => 20 * s)
        FROM chat_chat c CROSS JOIN LATERAL generate_series(1, c.last_seq) AS s
        WHERE c.patron_token_digest <> ''
        """,
    )
    _fill_tickets(tickets, dep_ids, op_ids, user_ids)
    _fill_entries(entries, dep_ids, op_ids, user_ids, Location, Mode, QuestionType)
    with connection.cursor() as cursor:
        for table in (
            "chat_chat",
            "chat_message",
            "tickets_ticket",
            "tickets_ticketmessage",
            "tickets_ticketchange",
            "analytics_interaction",
        ):
            cursor.execute(f"ANALYZE {table}")


def _fill_tickets(tickets, dep_ids, op_ids, user_ids):
    hsh = "((i::bigint * 2654435761) % 4294967296)"
    words = ["atlas", "microfilm", "thesis", "interlibrary loan", "archive box", "map"]
    subject = (
        "CASE "
        + " ".join(
            f"WHEN {hsh} % {len(words)} = {k} THEN 'Question about the {w} ' || i"
            for k, w in enumerate(words)
        )
        + " END"
    )
    _run(
        "tickets_ticket",
        f"""
        INSERT INTO tickets_ticket (department_id, assignee_id, status, source, patron_name,
            patron_email, subject, question, chat_id, transcript, created_by_id, origin_digest,
            created_at, updated_at, closed_at)
        SELECT {_pick(dep_ids, hsh + " / 3")},
               CASE WHEN {hsh} % 4 = 0 THEN NULL ELSE {_pick(op_ids, hsh + " / 5")} END,
               st, CASE WHEN i % 10 < 7 THEN 'chat' ELSE 'offline_form' END,
               'Patron ' || i, 'p' || i || '@example.org', {subject},
               'The long question of ticket ' || i || ' about the atlas, in several lines.',
               CASE WHEN i % 10 < 7 THEN (SELECT min(id) FROM chat_chat)
                    + ({hsh} % (SELECT count(*) * 9 / 10 FROM chat_chat)) END,
               'Transcript of the chat', {_pick(user_ids, hsh)}, '', t, t + interval '2 days',
               CASE WHEN st = 'closed' THEN t + interval '3 days' END
        FROM (
            SELECT i,
                   now() - make_interval(secs => ({tickets} - i) * (31536000.0 / {tickets})) AS t,
                   CASE WHEN i > {tickets} - {tickets // 10} THEN 'open'
                        WHEN i > {tickets} - {tickets // 7} THEN 'pending' ELSE 'closed' END AS st
            FROM generate_series(1, {tickets}) AS i
        ) AS g
        """,
    )
    _run(
        "tickets_ticketmessage",
        """
        INSERT INTO tickets_ticketmessage (ticket_id, kind, author_id, from_address, body,
            email_message_id, email_status, email_attempts, email_last_error, created_at)
        SELECT t.id, CASE WHEN s = 1 OR s % 3 = 0 THEN 'patron' WHEN s % 3 = 1 THEN 'reply'
                          ELSE 'note' END,
               CASE WHEN s > 1 AND s % 3 <> 0 THEN t.created_by_id END,
               CASE WHEN s = 1 OR s % 3 = 0 THEN t.patron_email ELSE '' END,
               'Message ' || s || ' of the thread', '<' || t.id || '.' || s || '@bench>',
               CASE WHEN s % 3 = 1 AND s > 1 THEN 'sent' ELSE '' END, 0, '',
               t.created_at + make_interval(hours => s::int)
        FROM tickets_ticket t CROSS JOIN LATERAL generate_series(1, 1 + t.id % 6) AS s
        """,
    )
    _run(
        "tickets_ticketchange",
        """
        INSERT INTO tickets_ticketchange (ticket_id, actor_id, field, old_value, new_value, at)
        SELECT t.id, t.created_by_id, 'status', 'open', t.status, t.updated_at
        FROM tickets_ticket t
        """,
    )


def _fill_entries(entries, dep_ids, op_ids, user_ids, Location, Mode, QuestionType):
    locations = list(Location.objects.values_list("pk", flat=True))
    modes = list(Mode.objects.values_list("pk", flat=True))
    types = list(QuestionType.objects.values_list("pk", flat=True))
    chat_mode = Mode.objects.filter(slug=Mode.CHAT).values_list("pk", flat=True).first()
    hsh = "((i::bigint * 2654435761) % 4294967296)"
    columns = (
        "occurred_at, recorded_at, staff_id, recorded_by_id, department_id, chat_id, location_id,"
        " mode_id, duration_minutes, question_type_id, read_scale, referral_kind,"
        " referred_by_operator_id, referred_by_department_id, referred_by_text, question,"
        " answer, note, ticket_ref"
    )

    def described(mode_sql):
        """Location, mode, duration, question type, READ level, referral, texts."""
        return f"""
        {_pick(locations, hsh + " / 11")}, {mode_sql}, 1 + {hsh} % 45,
        CASE WHEN {hsh} % 9 = 0 THEN NULL ELSE {_pick(types, hsh + " / 13")} END,
        CASE WHEN {hsh} % 8 = 0 THEN NULL ELSE 1 + {hsh} % 6 END,
        CASE {hsh} % 20 WHEN 0 THEN 'operator' WHEN 1 THEN 'department' WHEN 2 THEN 'other'
             ELSE '' END,
        CASE WHEN {hsh} % 20 = 0 THEN {_pick(op_ids, hsh + " / 17")} END,
        CASE WHEN {hsh} % 20 = 1 THEN {_pick(dep_ids, hsh + " / 19")} END,
        CASE WHEN {hsh} % 20 = 2 THEN 'Circulation desk' ELSE '' END,
        'Benchmark question ' || i, 'Benchmark answer', '', ''
        """

    # One entry for 7 in 10 claimed, finished chats (the after-chat form), …
    # Written to a scratch table first, then into the entries' table in time order, as a
    # desk records them (the heap's order matters to range scans).
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE bench_entries AS SELECT {columns} FROM analytics_interaction"
            " WITH NO DATA"
        )
    linked_sql = f"""
        INSERT INTO bench_entries ({columns})
        SELECT c.ended_at, c.ended_at, o.user_id, o.user_id, c.department_id, c.id,
               {described(chat_mode)}
        FROM (SELECT c.*, c.id AS i FROM chat_chat c
              WHERE c.operator_id IS NOT NULL AND c.status IN ('ended', 'closed')
                AND c.id % 10 < 7
              ORDER BY c.id LIMIT {int(entries)}) AS c
        JOIN chat_operator o ON o.id = c.operator_id
    """
    with connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute(linked_sql)
        linked = cursor.rowcount
    print(
        f"  {'analytics_interaction (chats)':<38} {linked:>10,} rows  "
        f"{time.perf_counter() - t0:6.1f} s",
        flush=True,
    )
    rest = max(0, entries - linked)
    _run(
        "analytics_interaction (desk)",
        f"""
        INSERT INTO bench_entries ({columns})
        SELECT w, w, {_pick(user_ids, hsh + " / 3")}, {_pick(user_ids, hsh + " / 3")},
               {_pick(dep_ids, hsh + " / 7")}, NULL, {described(_pick(modes, hsh + " / 23"))}
        FROM (SELECT i, now() - make_interval(secs => {hsh} % 31536000) AS w
              FROM generate_series(1, {rest}) AS i) AS g
        """,
    )
    _run(
        "analytics_interaction (in time order)",
        f"INSERT INTO analytics_interaction ({columns}) SELECT {columns} FROM bench_entries"
        " ORDER BY occurred_at; DROP TABLE bench_entries",
    )
