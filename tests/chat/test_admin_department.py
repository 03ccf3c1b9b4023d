"""/admin/ for a Department admin (an operator whose membership has that role): their own
departments' settings, canned messages and chats, and nothing else. Through Django's
test client, with real permissions."""

from io import StringIO

import pytest
from django.urls import reverse

from chat import services
from chat.models import CannedMessage, Chat, Department, Membership
from chat.services import departments
from tests.factories import (
    DepartmentFactory,
    canned_message,
    desk_admin_user,
    named_operator,
    start_chat,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return DepartmentFactory(name="Reference Desk", slug="reference", greeting="Hello.")


@pytest.fixture
def maps():
    return DepartmentFactory(name="Maps", slug="maps", greeting="Maps here.")


@pytest.fixture
def alice(reference, maps):
    """Department admin of the Reference Desk, plain operator of Maps."""
    alice = named_operator("alice", [maps])
    departments.department_save(department=reference, memberships=[(alice, Membership.Role.ADMIN)])
    return alice


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


def _department_form(department, **changes):
    data = {
        "description": department.description,
        "greeting": department.greeting,
        "offline_message": department.offline_message,
        "fallback": "",
        "screenshare_mode": department.screenshare_mode,
        **changes,
    }
    # One greeting and offline message field per language (chat/translation.py): these
    # are the library's default language's.
    for field in ("greeting", "offline_message"):
        data[f"{field}_en"] = data.pop(field)
    return data


def test_the_index_offers_their_departments_canned_messages_and_chats(alice_client):
    page = alice_client.get(reverse("admin:index")).content.decode()
    for name in ("Departments", "Canned messages", "Chats"):
        assert name in page, name
    assert "Operators" not in page and "Users" not in page and "Groups" not in page
    assert alice_client.get(reverse("admin:chat_operator_changelist")).status_code == 403


def test_the_dashboard_links_to_the_admin_for_a_department_admin_only(alice_client, client, maps):
    assert 'href="/admin/"' in alice_client.get(reverse("chat:dashboard")).content.decode()
    bob = named_operator("bob", [maps])
    client.force_login(bob.user)
    assert 'href="/admin/"' not in client.get(reverse("chat:dashboard")).content.decode()


def test_they_change_their_departments_settings_not_its_name_nor_who_works_there(
    alice_client, alice, reference, maps
):
    listing = alice_client.get(reverse("admin:chat_department_changelist")).content.decode()
    assert "Reference Desk" in listing and "Maps" not in listing
    change = reverse("admin:chat_department_change", args=[reference.pk])
    page = alice_client.get(change).content.decode()
    assert 'name="greeting_en"' in page and 'name="greeting_es"' in page
    assert 'name="name"' not in page and 'name="is_active"' not in page  # shown, not editable
    assert "membership_set" not in page
    response = alice_client.post(
        change,
        _department_form(
            reference,
            greeting="Ask the Reference Desk anything.",
            name="Renamed",
            slug="renamed",
            # An inline they are not offered, posted all the same: ignored.
            **{"membership_set-TOTAL_FORMS": "1", "membership_set-INITIAL_FORMS": "0"},
            **{"membership_set-0-operator": str(alice.pk), "membership_set-0-role": "admin"},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    reference.refresh_from_db()
    assert reference.greeting == "Ask the Reference Desk anything."
    assert (reference.name, reference.slug, reference.is_active) == (
        "Reference Desk",
        "reference",
        True,
    )
    assert list(Membership.objects.filter(department=reference).values_list("role")) == [("admin",)]
    # Another department (theirs as a plain operator): out of reach, even by address.
    other = reverse("admin:chat_department_change", args=[maps.pk])
    assert alice_client.get(other).status_code == 302  # "doesn't exist", back to the index
    alice_client.post(other, _department_form(maps, greeting="Hijacked"))
    maps.refresh_from_db()
    assert maps.greeting == "Maps here."
    assert alice_client.get(reverse("admin:chat_department_add")).status_code == 403
    delete = reverse("admin:chat_department_delete", args=[reference.pk])
    assert alice_client.post(delete, {"post": "yes"}).status_code == 403
    assert Department.objects.filter(pk=reference.pk).exists()


def test_they_write_their_departments_canned_messages_only(alice_client, reference, maps):
    everyone = canned_message(title="For everyone")
    theirs = canned_message(title="Reference welcome", department=reference)
    others = canned_message(title="Maps welcome", department=maps)
    listing = alice_client.get(reverse("admin:chat_cannedmessage_changelist")).content.decode()
    assert "Reference welcome" in listing
    assert "Maps welcome" not in listing and "For everyone" not in listing

    add = reverse("admin:chat_cannedmessage_add")
    page = alice_client.get(add).content.decode()
    assert 'name="scope"' not in page and 'name="operator"' not in page
    assert "Reference Desk" in page and ">Maps<" not in page  # the departments offered
    data = {"title": "Opening hours", "shortcut": "/hours", "body": "We open at nine."}
    refused = alice_client.post(add, {**data, "department": str(maps.pk)})
    assert (
        refused.status_code == 200
        and not CannedMessage.objects.filter(title="Opening hours").exists()
    )
    missing = alice_client.post(add, {**data, "department": ""})
    assert missing.status_code == 200
    # Asking for another scope changes nothing: theirs is "One department".
    made = alice_client.post(add, {**data, "department": str(reference.pk), "scope": "global"})
    assert made.status_code == 302
    row = CannedMessage.objects.get(title="Opening hours")
    assert (row.scope, row.department_id, row.operator_id) == ("department", reference.pk, None)

    change = reverse("admin:chat_cannedmessage_change", args=[theirs.pk])
    edited = alice_client.post(change, {**data, "title": "Welcome!", "department": reference.pk})
    assert edited.status_code == 302
    theirs.refresh_from_db()
    assert theirs.title == "Welcome!"
    for row in (everyone, others):
        url = reverse("admin:chat_cannedmessage_change", args=[row.pk])
        assert alice_client.get(url).status_code == 302  # not found for them
        alice_client.post(url, {**data, "title": "Hijacked", "department": reference.pk})
        row.refresh_from_db()
        assert row.title != "Hijacked"
        delete = reverse("admin:chat_cannedmessage_delete", args=[row.pk])
        alice_client.post(delete, {"post": "yes"})
        assert CannedMessage.objects.filter(pk=row.pk).exists()
    delete = reverse("admin:chat_cannedmessage_delete", args=[theirs.pk])
    assert alice_client.post(delete, {"post": "yes"}).status_code == 302
    assert not CannedMessage.objects.filter(pk=theirs.pk).exists()


def test_they_read_their_departments_chats_and_no_others(alice_client, alice, reference, maps):
    theirs, _ = start_chat(reference, question="Where are the atlases?", name="Pat")
    services.chat_claim(chat_id=theirs.pk, operator=alice)
    others, _ = start_chat(maps, question="A map of Lyon?", name="Sam", client_id="q-2")
    listing = alice_client.get(reverse("admin:chat_chat_changelist")).content.decode()
    assert "Pat" in listing and "Sam" not in listing
    page = alice_client.get(reverse("admin:chat_chat_change", args=[theirs.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Where are the atlases?" in text and "Alice has joined the chat." in text
    assert 'name="_save"' not in text
    assert alice_client.get(reverse("admin:chat_chat_change", args=[others.pk])).status_code == 302
    assert alice_client.get(reverse("admin:chat_chat_add")).status_code == 403
    delete = reverse("admin:chat_chat_delete", args=[theirs.pk])
    assert alice_client.post(delete, {"post": "yes"}).status_code == 403
    assert Chat.objects.filter(pk=theirs.pk).exists()


def test_the_role_taken_away_takes_the_admin_away(alice_client, alice, reference, maps):
    assert alice_client.get(reverse("admin:chat_department_changelist")).status_code == 200
    departments.department_save(
        department=reference, memberships=[(alice, Membership.Role.OPERATOR)]
    )
    assert alice_client.get(reverse("admin:chat_department_changelist")).status_code == 403
    assert alice_client.get(reverse("admin:chat_chat_changelist")).status_code == 403
    page = alice_client.get(reverse("admin:index")).content.decode()
    assert "have permission to view or edit anything" in page


def test_a_desk_admin_still_sees_every_department_and_message(client, reference, maps, alice):
    canned_message(title="For everyone")
    canned_message(title="Maps welcome", department=maps)
    client.force_login(desk_admin_user())
    listing = client.get(reverse("admin:chat_department_changelist")).content.decode()
    assert "Reference Desk" in listing and "Maps" in listing
    messages = client.get(reverse("admin:chat_cannedmessage_changelist")).content.decode()
    assert "For everyone" in messages and "Maps welcome" in messages
    page = client.get(reverse("admin:chat_department_change", args=[reference.pk]))
    assert 'name="name"' in page.content.decode() and "membership_set" in page.content.decode()


def test_the_demo_has_a_department_admin(client):
    from django.core.management import call_command

    call_command("seed_demo", stdout=(out := StringIO()))
    assert "Special Collections (its Department admin, /admin/)" in out.getvalue()
    client.login(username="carmen", password="carmen-desk-demo")
    listing = client.get(reverse("admin:chat_department_changelist")).content.decode()
    assert "Special Collections" in listing and "Reference Desk" not in listing
    call_command("seed_demo", stdout=StringIO())  # again: the same roles
    roles = Membership.objects.filter(operator__user__username="carmen").values_list("role")
    assert list(roles) == [("admin",)]
