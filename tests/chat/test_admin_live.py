"""What a desk admin changes in /admin/ reaches the live desk, over the real sockets
(libdesk.asgi): a dashboard's Departments section (``departments.changed``) and a
widget watching the department (``presence``), once the admin's save has committed."""

import pytest
from channels.db import database_sync_to_async as db
from django.test import Client
from django.urls import reverse

from chat.models import Membership
from tests.chat.test_consumers import patron_socket, receive_until
from tests.chat.test_desk_sockets import close_all, online_dashboard
from tests.factories import DepartmentFactory, desk_admin_user, named_operator, start_chat

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_adds_alice_to(department, alice):
    client = Client()
    client.force_login(desk_admin_user())
    response = client.post(
        reverse("admin:chat_department_change", args=[department.pk]),
        {
            "name": "Maps and Atlases",  # renamed too
            "slug": department.slug,
            "description": "",
            "greeting": "",
            "offline_message": "Back tomorrow.",
            "is_active": "on",
            "fallback": "",
            "screenshare_mode": "webrtc",
            "membership_set-TOTAL_FORMS": "1",
            "membership_set-INITIAL_FORMS": "0",
            "membership_set-MIN_NUM_FORMS": "0",
            "membership_set-MAX_NUM_FORMS": "1000",
            "membership_set-0-operator": str(alice.pk),
            "membership_set-0-role": "operator",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


async def test_an_operator_added_in_the_admin_puts_the_department_online_live():
    reference = await db(DepartmentFactory)(name="Reference Desk", slug="reference")
    maps = await db(DepartmentFactory)(name="Maps", slug="maps")
    alice = await db(named_operator)("alice", [reference])
    dashboard, _ = await online_dashboard(alice)
    widget = await patron_socket()
    await widget.send_json_to({"type": "watch", "department": "maps"})
    first, _ = await receive_until(widget, "presence")
    assert (first["online"], first["answering"]) == (False, None)

    await db(_admin_adds_alice_to)(maps, alice)

    # The Departments section redrawn: by departments.changed, or by the fresh
    # dashboard.state Alice's dashboard gets for her new department if that was read
    # later (a snapshot older than what the dashboard shows is dropped).
    while True:
        changed = await dashboard.receive_json_from(timeout=10)
        if changed["type"] in ("departments.changed", "dashboard.state"):
            listed = {row["slug"]: row for row in changed["departments"]}
            if "maps" in listed and listed["maps"]["online"]:
                break
    assert listed["maps"]["name"] == "Maps and Atlases"
    assert listed["maps"]["operators"] == ["Alice"]
    update, _ = await receive_until(widget, "presence")
    while not update["online"]:
        update, _ = await receive_until(widget, "presence")
    assert update["answering"] == {"name": "Maps and Atlases", "slug": "maps"}
    assert await db(Membership.objects.filter(operator=alice, department=maps).exists)()
    await close_all(widget, dashboard)


async def test_an_operator_added_to_a_department_gets_its_queue_live_and_not_after_removal():
    """The dashboard that was open when the admin added its operator to a department
    follows that department's queue without a reload: what was waiting there shows at
    once, new chats arrive live; removed again, its new chats no longer arrive."""
    from chat.services import departments as department_services

    reference = await db(DepartmentFactory)(name="Reference Desk", slug="reference")
    maps = await db(DepartmentFactory)(name="Maps", slug="maps")
    alice = await db(named_operator)("alice", [reference])
    dashboard, state = await online_dashboard(alice)
    earlier, _ = await db(start_chat)(maps, client_id="earlier")
    assert str(earlier.public_id) not in [row["id"] for row in state["waiting"]]

    await db(_admin_adds_alice_to)(maps, alice)
    state, _ = await receive_until(dashboard, "dashboard.state")
    assert str(earlier.public_id) in [row["id"] for row in state["waiting"]]
    later, _ = await db(start_chat)(maps, client_id="later")
    waiting, _ = await receive_until(dashboard, "chat.waiting")
    assert waiting["chat"]["id"] == str(later.public_id)

    await db(department_services.department_save)(department=maps, memberships=[])
    state, _ = await receive_until(dashboard, "dashboard.state")
    assert state["waiting"] == []  # maps' chats are no longer hers to see
    last, _ = await db(start_chat)(maps, client_id="last")
    await dashboard.send_json_to({"type": "ping"})
    _pong, frames = await receive_until(dashboard, "pong")
    assert "chat.waiting" not in [frame["type"] for frame in frames]
    # Reference's queue still reaches her.
    mine, _ = await db(start_chat)(reference, client_id="reference")
    waiting, _ = await receive_until(dashboard, "chat.waiting")
    assert waiting["chat"]["id"] == str(mine.public_id)
    await close_all(dashboard)
