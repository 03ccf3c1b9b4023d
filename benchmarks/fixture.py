"""Benchmark fixture, run in the benchmark database's environment (never the demo's):

    python -m benchmarks.fixture --operators 8 [--chats 3000 --tokens FILE]

Creates the ``bench`` department, operators ``bench-op-<i>`` (password below), the
floor's table, and optionally N waiting chats through ``chat.services.chat_start`` (the
one write path), writing their tokens as JSON to FILE.
"""

import argparse
import json
import os
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
