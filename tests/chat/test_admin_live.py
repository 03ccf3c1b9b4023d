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
from tests.factories import DepartmentFactory, desk_admin_user, named_operator

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

    changed, _ = await receive_until(dashboard, "departments.changed")
    listed = {row["slug"]: row for row in changed["departments"]}
    assert listed["maps"]["name"] == "Maps and Atlases"
    assert listed["maps"]["online"] is True and listed["maps"]["operators"] == ["Alice"]
    update, _ = await receive_until(widget, "presence")
    while not update["online"]:
        update, _ = await receive_until(widget, "presence")
    assert update["answering"] == {"name": "Maps and Atlases", "slug": "maps"}
    assert await db(Membership.objects.filter(operator=alice, department=maps).exists)()
    await close_all(widget, dashboard)
