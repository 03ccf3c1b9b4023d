"""A backup of the running stack (deploy.stack backup: pg_dump of the one database, a
tar of the uploaded files) restored into a fresh database and folder (deploy.stack
restore) has every row and every file: chats, messages, tickets, Reference Analytics
entries, chat and ticket attachments."""

import email
import hashlib
import json
import os
import uuid

import psycopg

from deploy.stack import Stack, _libpq_url, read_env_file
from tests import liveserver
from tests.e2e.stack.conftest import INBOUND_SECRET, fetch
from tests.realworld import corpus, files

# What a restore must bring back, each with rows in it.
DOMAIN_TABLES = [
    "chat_chat",
    "chat_message",
    "chat_attachment",
    "tickets_ticket",
    "tickets_ticketmessage",
    "tickets_ticketattachment",
    "analytics_interaction",
]

A_FINISHED_CHAT = """
import json
from analytics.models import Location, Mode
from analytics.services import interaction_record
from chat.models import Department, Operator
from chat.services import chat_claim, chat_end, chat_start, message_send
desk = Department.objects.get(slug="reference")
alice = Operator.objects.get(user__username="alice")
chat, token = chat_start(department=desk, question="Kept in the backup?", patron_name="Backed Up")
chat_claim(chat_id=chat.pk, operator=alice)
message_send(chat_id=chat.pk, body="Yes, every word.", client_id="b-1", sender="operator",
             operator=alice)
print(json.dumps({"chat": chat.pk, "token": token}))
"""

ENDED_AND_RECORDED = """
from analytics.models import Location, Mode
from analytics.services import interaction_record
from chat.models import Chat, Operator
from chat.services import chat_end
alice = Operator.objects.get(user__username="alice")
chat = chat_end(chat_id={chat}, by="operator", operator=alice)
interaction_record(recorded_by=alice.user, chat=chat, data={{"location": Location.objects.first(),
                   "mode": Mode.objects.first(), "duration_minutes": 4}})
"""


def multipart(field, name, content):
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def table_checksums(database_url) -> dict[str, tuple[int, str]]:
    with psycopg.connect(_libpq_url(database_url)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        sums = {}
        for table in tables:
            sums[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                f' FROM "{table}" t'
            ).fetchone()
        return sums


def file_hashes(folder) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def a_real_pdf() -> bytes:
    """The PDF a real-world mail carries (mikel/mail's fixture)."""
    message = email.message_from_bytes(
        corpus("mikel_mail", "attachment_emails", "attachment_pdf_lf.eml").read_bytes()
    )
    for part in message.walk():
        if part.get_content_type() == "application/pdf":
            return part.get_payload(decode=True)
    raise AssertionError("the fixture has no PDF")


def last_line(text):
    return text.strip().splitlines()[-1]


def test_a_backup_of_the_running_stack_restores_every_row_and_file(stack, stack_url, tmp_path):
    # Tickets with attachments: real-world mails, as the mail gateway posts them.
    mails = files("mikel_mail", "attachment_emails", pattern="*.eml")
    stored = 0
    for mail in mails:
        status, _, body = fetch(
            f"{stack_url}/tickets/inbound/email",
            data=mail.read_bytes(),
            headers={"X-LibDesk-Secret": INBOUND_SECRET, "Content-Type": "message/rfc822"},
        )
        # 201 stored, 200 the same mail again (a fixture repeats a Message-ID), 202
        # kept nowhere (no ticket), 400 refused: never a 500.
        assert status in (200, 201, 202, 400), (mail.name, status, body[:300])
        stored += status == 201
    assert stored >= 5
    # A chat with a file the patron sent through the proxy, ended, with its entry.
    made = json.loads(
        last_line(stack.run_once(["python", "manage.py", "shell", "-c", A_FINISHED_CHAT]))
    )
    body, content_type = multipart("file", "scan.pdf", a_real_pdf())
    status, _, answer = fetch(
        f"{stack_url}/widget/attachments",
        data=body,
        headers={"Authorization": f"Bearer {made['token']}", "Content-Type": content_type},
    )
    assert status in (200, 201), answer[:300]
    stack.run_once(
        ["python", "manage.py", "shell", "-c", ENDED_AND_RECORDED.format(chat=made["chat"])]
    )

    # The backup, taken while every process runs (the worker, beat and sockets write).
    before = table_checksums(stack.file_env["DATABASE_URL"])
    stack.backup(tmp_path / "backup")
    after = table_checksums(stack.file_env["DATABASE_URL"])
    media = stack.media_root()
    original_files = file_hashes(media)
    assert len(original_files) >= 2

    # Restored where an admin restores it: a new, empty database and an empty folder.
    restored_url = liveserver.create_postgres_database(
        os.environ["DATABASE_URL"], f"libdesk_restored_{os.getpid()}"
    )
    try:
        env_file = tmp_path / "restored.env"
        settings = read_env_file(stack.env_file)
        settings.update(DATABASE_URL=restored_url, MEDIA_ROOT=str(tmp_path / "restored-media"))
        env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        restored = Stack(env_file, tmp_path / "restored")
        restored.restore(tmp_path / "backup")

        sums = table_checksums(restored_url)
        assert set(sums) == set(before)
        changed = [table for table in sums if sums[table] not in (before[table], after[table])]
        assert not changed, f"rows differ from the running database in: {changed}"
        for table in DOMAIN_TABLES:
            assert sums[table][0] > 0, f"{table} is empty: nothing was tested"
        assert file_hashes(tmp_path / "restored-media") == original_files
        with psycopg.connect(_libpq_url(restored_url)) as conn:
            named = [
                row[0]
                for table in ("tickets_ticketattachment", "chat_attachment")
                for row in conn.execute(f"SELECT file FROM {table}")
            ]
        assert named and set(named) <= set(original_files)  # every row's file came back

        # And the restored desk reads them: the chat's file opens, the entry is linked.
        check = (
            "from chat.models import Attachment; from analytics.models import Interaction;"
            f" a = Attachment.objects.filter(chat_id={made['chat']}).get();"
            " print(len(a.file.open('rb').read()),"
            f" Interaction.objects.filter(chat_id={made['chat']}).count())"
        )
        out = last_line(restored.run_once(["python", "manage.py", "shell", "-c", check]))
        assert out == f"{len(a_real_pdf())} 1"
    finally:
        liveserver.drop_postgres_database(restored_url)
