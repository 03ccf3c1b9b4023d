"""Blocking abuse: a block made from a chat refuses new chats and offline questions
from the same address, with a neutral message, until it expires or is lifted; the
address is never stored."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.blocks import BLOCKED_MESSAGE
from chat.models import Chat, ChatAudit, PatronBlock
from chat.services import blocks
from tests.factories import DepartmentFactory, desk_admin_user, named_operator
from tests.realworld import hostile_strings

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference", block_days=7)
    alice = named_operator("alice", [reference])
    from tests.chat.staffing import bring_online

    bring_online(alice, channel="alice-chan")
    return {"reference": reference, "alice": alice}


def start_over_http(client, department, address=ADDRESS, question="Hello"):
    return client.post(
        reverse("chat:chat_start", args=[department.slug]),
        json.dumps({"question": question, "name": "Pat"}),
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def offline_over_http(client, department, address=ADDRESS):
    return client.post(
        reverse("tickets:offline_question", args=[department.slug]),
        json.dumps({"name": "Pat", "email": "pat@example.org", "question": "Anyone there?"}),
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def blocked_chat(client, desk, reason="Abusive messages"):
    response = start_over_http(client, desk["reference"])
    assert response.status_code == 201
    chat = Chat.objects.get(public_id=response.json()["chat"])
    return chat, blocks.patron_block(chat_id=chat.pk, operator=desk["alice"], reason=reason)


def test_a_blocked_address_starts_no_chat_and_leaves_no_question(client, desk):
    chat, block = blocked_chat(client, desk)
    assert ADDRESS not in chat.origin_digest and len(chat.origin_digest) == 64
    assert abs(block.expires_at - block.created_at - timedelta(days=7)) < timedelta(seconds=5)
    refused = start_over_http(client, desk["reference"])
    assert refused.status_code == 403
    assert refused.json() == {"type": "error", "code": "blocked", "message": BLOCKED_MESSAGE}
    offline = offline_over_http(client, desk["reference"])
    assert offline.status_code == 403 and offline.json()["message"] == BLOCKED_MESSAGE
    # Another address is not affected.
    assert start_over_http(client, desk["reference"], address="198.51.100.4").status_code == 201
    assert ChatAudit.objects.filter(chat=chat, action="blocked", note="Abusive messages").exists()


def test_a_block_expires_and_can_be_lifted(client, desk):
    chat, block = blocked_chat(client, desk)
    PatronBlock.objects.filter(pk=block.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert start_over_http(client, desk["reference"]).status_code == 201
    second = blocks.patron_block(chat_id=chat.pk, operator=desk["alice"], reason="Again")
    assert second.pk != block.pk
    admin = desk_admin_user("dana")
    blocks.block_lift(block_id=second.pk, actor=admin)
    assert start_over_http(client, desk["reference"]).status_code == 201
    assert ChatAudit.objects.filter(chat=chat, action="unblocked", actor=admin).exists()


def test_blocking_twice_keeps_one_block_in_force(client, desk):
    chat, block = blocked_chat(client, desk)
    assert blocks.patron_block(chat_id=chat.pk, operator=desk["alice"], reason="x").pk == block.pk
    assert PatronBlock.objects.count() == 1


def test_only_staff_who_see_the_chat_may_block_it(client, desk):
    response = start_over_http(client, desk["reference"])
    chat = Chat.objects.get(public_id=response.json()["chat"])
    stranger = named_operator("sam", [DepartmentFactory(slug="elsewhere")])
    from chat.exceptions import NotFound

    with pytest.raises(NotFound):
        blocks.patron_block(chat_id=chat.pk, operator=stranger, reason="spam")


def test_any_reason_text_is_kept_as_text(client, desk):
    response = start_over_http(client, desk["reference"])
    chat = Chat.objects.get(public_id=response.json()["chat"])
    client.force_login(desk["alice"].user)
    url = reverse("history:block_from_dashboard", args=[chat.public_id])
    for reason in [s for s in hostile_strings() if s.strip() and "\x00" not in s][:40]:
        PatronBlock.objects.all().delete()
        answer = client.post(url, {"reason": reason}, content_type="application/json")
        if len(reason.strip()) > 500:
            assert answer.status_code == 400
            continue
        assert answer.status_code == 201, answer.content
        assert PatronBlock.objects.get().reason == reason.strip()


def test_blocks_are_listed_in_the_admin_and_lifted_there(client, desk):
    chat, block = blocked_chat(client, desk, reason="Spam links")
    admin = desk_admin_user("dana", is_staff=True)
    client.force_login(admin)
    listing = client.get(reverse("admin:chat_patronblock_changelist")).content.decode()
    assert "Spam links" in listing and "In force" in listing
    client.post(
        reverse("admin:chat_patronblock_changelist"),
        {"action": "lift_blocks", "_selected_action": [block.pk]},
    )
    block.refresh_from_db()
    assert block.lifted_at is not None and block.lifted_by == admin
    assert "Lifted" in client.get(reverse("admin:chat_patronblock_changelist")).content.decode()


def test_retention_scrubs_the_address_digest(client, desk, settings):
    from chat.services import chat_end, retention

    response = start_over_http(client, desk["reference"])
    chat = Chat.objects.get(public_id=response.json()["chat"])
    chat_end(chat_id=chat.pk, by="patron")
    retention.retention_apply(
        now=timezone.now() + timedelta(days=settings.RETENTION["PATRON_DAYS"] + 1)
    )
    chat.refresh_from_db()
    assert chat.origin_digest == "" and chat.patron_scrubbed_at is not None
