"""Benchmark fixture, run in the benchmark database's environment (never the demo's):

    python -m benchmarks.fixture --operators 8 [--chats 3000 --tokens FILE]

Creates the ``bench`` department, operators ``bench-op-<i>`` (password below), the
floor's table, and optionally N waiting chats through ``chat.services.chat_start`` (the
one write path), writing their tokens as JSON to FILE.
"""

import argparse
import json
import os
import secrets
import sys

import django

PASSWORD = "bench-desk-password-0"
DEPARTMENT = "bench"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--operators", type=int, default=0)
    parser.add_argument("--chats", type=int, default=0)
    parser.add_argument("--tokens", default="")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "libdesk.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from benchmarks.floor.consumer import create_table_sql
    from chat import services
    from chat.models import Department, Membership, Operator

    with connection.cursor() as cursor:
        cursor.execute(create_table_sql(connection.vendor))
    department, _ = Department.objects.get_or_create(
        slug=DEPARTMENT, defaults={"name": "Benchmark Desk", "greeting": "Benchmark"}
    )
    User = get_user_model()
    password = make_password(PASSWORD)  # hash once: PBKDF2 per user would take seconds
    for i in range(args.operators):
        user, _ = User.objects.get_or_create(username=f"bench-op-{i}")
        user.first_name, user.is_staff, user.password = f"Op{i}", True, password
        user.save()
        operator, _ = Operator.objects.get_or_create(user=user)
        Membership.objects.get_or_create(operator=operator, department=department)
    tokens = []
    if args.chats > 50:
        # Idle-capacity fixture: many waiting chats at once. chat_start is the write path
        # (and is used below for small numbers); for thousands, insert the same rows in
        # bulk: a chat, its token digest, and the question as message 1.
        from chat.models import Chat, Message, hash_token

        secrets_ = [secrets.token_urlsafe(32) for _ in range(args.chats)]
        chats = Chat.objects.bulk_create(
            [Chat(department=department, patron_token_digest=hash_token(t)) for t in secrets_],
            batch_size=500,
        )
        if any(c.pk is None for c in chats):  # SQLite before RETURNING: read them back
            by_digest = dict(Chat.objects.values_list("patron_token_digest", "pk"))
            for c in chats:
                c.pk = by_digest[c.patron_token_digest]
        Chat.objects.filter(pk__in=[c.pk for c in chats]).update(last_seq=1)
        Message.objects.bulk_create(
            [
                Message(
                    chat_id=c.pk,
                    seq=1,
                    sender="patron",
                    client_id=f"idle-q-{i}",
                    body=f"idle question {i}",
                )
                for i, c in enumerate(chats)
            ],
            batch_size=500,
        )
        tokens = [
            {"chat": str(c.public_id), "token": t} for c, t in zip(chats, secrets_, strict=True)
        ]
        args.chats = 0
    for i in range(args.chats):
        chat, token = services.chat_start(
            department=department, question=f"idle question {i}", client_id=f"idle-q-{i}"
        )
        tokens.append({"chat": str(chat.public_id), "token": token})
    if args.tokens:
        with open(args.tokens, "w") as fh:
            json.dump(tokens, fh)
    print(f"fixture: department {department.slug}, {args.operators} operators, {len(tokens)} chats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
