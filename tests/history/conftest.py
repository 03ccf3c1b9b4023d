import pytest

from chat import services
from tests.factories import DepartmentFactory, named_operator, start_chat


@pytest.fixture
def desk(db):
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special-collections")
    alice = named_operator("alice", [reference])
    carmen = named_operator("carmen", [special])
    return {"reference": reference, "special": special, "alice": alice, "carmen": carmen}


def answered_chat(department, operator, lines, *, name="Pat", email="", end=True, client="c"):
    """A chat with the patron's question ``lines[0]`` and alternate replies after it,
    claimed by ``operator`` and ended (unless ``end`` is False)."""
    chat, _ = start_chat(
        department, question=lines[0], name=name, email=email, client_id=f"{client}-0"
    )
    services.chat_claim(chat_id=chat.pk, operator=operator)
    for i, line in enumerate(lines[1:], start=1):
        sender = "operator" if i % 2 else "patron"
        services.message_send(
            chat_id=chat.pk,
            body=line,
            client_id=f"{client}-{i}",
            sender=sender,
            operator=operator if sender == "operator" else None,
        )
    if end:
        services.chat_end(chat_id=chat.pk, by="operator", operator=operator)
    chat.refresh_from_db()
    return chat
