"""/admin/: desk admins run departments, operators and canned messages and read chats;
plain operators reach none of it. Through Django's test client, with real permissions."""

from unittest.mock import ANY

import pytest
from django.urls import reverse

from chat import services
from chat.models import CannedMessage, Chat, Department, Membership, Operator
from tests.factories import (
    DepartmentFactory,
    OperatorFactory,
    UserFactory,
    canned_message,
    desk_admin_user,
    named_operator,
    start_chat,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return DepartmentFactory(name="Reference Desk", slug="reference")


@pytest.fixture
def alice(reference):
    return named_operator("alice", [reference])


@pytest.fixture
def desk_admin(client):
    client.force_login(desk_admin_user())
    return client


@pytest.fixture
def operator_client(client, alice):
    client.force_login(alice.user)
    return client


def test_a_plain_operator_sees_nothing_in_the_admin(operator_client, reference, alice):
    index = operator_client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "have permission to view or edit anything" in index.content.decode()
    row = canned_message(department=reference)
    chat, _ = start_chat(reference)
    for url in (
        reverse("admin:chat_department_changelist"),
        reverse("admin:chat_department_add"),
        reverse("admin:chat_department_change", args=[reference.pk]),
        reverse("admin:chat_operator_changelist"),
        reverse("admin:chat_operator_change", args=[alice.pk]),
        reverse("admin:chat_cannedmessage_changelist"),
        reverse("admin:chat_cannedmessage_add"),
        reverse("admin:chat_cannedmessage_change", args=[row.pk]),
        reverse("admin:chat_chat_changelist"),
        reverse("admin:chat_chat_change", args=[chat.pk]),
    ):
        assert operator_client.get(url).status_code == 403, url
    response = operator_client.post(
        reverse("admin:chat_cannedmessage_add"), {"title": "x", "scope": "global", "body": "y"}
    )
    assert response.status_code == 403
    assert CannedMessage.objects.count() == 1


def test_the_dashboard_shows_the_admin_link_only_to_desk_admins(operator_client, client, alice):
    page = operator_client.get(reverse("chat:dashboard")).content.decode()
    assert 'href="/admin/"' not in page
    admin_user = desk_admin_user()
    OperatorFactory(user=admin_user)
    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get(reverse("chat:dashboard")).content.decode()


def test_the_desk_admin_index_lists_the_desk(desk_admin):
    page = desk_admin.get(reverse("admin:index")).content.decode()
    for name in ("Departments", "Operators", "Canned messages", "Chats"):
        assert name in page
    assert "Users" not in page and "Groups" not in page  # no way to make anyone superuser


def _inline_management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_a_desk_admin_adds_a_department_with_operators_and_sees_its_embed_snippet(
    desk_admin, alice, settings
):
    settings.LIBDESK_PUBLIC_URL = "https://desk.library.example"
    assert desk_admin.get(reverse("admin:chat_department_add")).status_code == 200
    data = {
        "name": "Maps",
        "slug": "maps",
        "description": "",
        "greeting": "Ask about maps.",
        "offline_message": "Back tomorrow.",
        "is_active": "on",
        "fallback": "",
        **_inline_management("membership_set", total=1),
        "membership_set-0-operator": str(alice.pk),
        "membership_set-0-role": "admin",
    }
    response = desk_admin.post(reverse("admin:chat_department_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    maps = Department.objects.get(slug="maps")
    assert Membership.objects.get(department=maps, operator=alice).role == "admin"
    page = desk_admin.get(reverse("admin:chat_department_change", args=[maps.pk])).content.decode()
    assert (
        "&lt;script src=&quot;https://desk.library.example/static/widget/loader.js&quot; "
        "data-department=&quot;maps&quot; async&gt;&lt;/script&gt;"
    ) in page
    assert "readonly" in page


def test_a_fallback_chain_may_not_loop(desk_admin, reference):
    maps = DepartmentFactory(name="Maps", slug="maps", fallback=reference)
    data = {
        "name": reference.name,
        "slug": reference.slug,
        "greeting": "",
        "offline_message": "x",
        "is_active": "on",
        "fallback": str(maps.pk),
        **_inline_management("membership_set"),
    }
    response = desk_admin.post(reverse("admin:chat_department_change", args=[reference.pk]), data)
    assert response.status_code == 200
    assert "go round in a circle" in response.content.decode()
    reference.refresh_from_db()
    assert reference.fallback is None


def test_a_desk_admin_edits_an_operator(desk_admin, alice, reference):
    circulation = DepartmentFactory(name="Circulation", slug="circulation")
    url = reverse("admin:chat_operator_change", args=[alice.pk])
    page = desk_admin.get(url)
    assert page.status_code == 200 and "Name patrons see" in page.content.decode()
    membership = Membership.objects.get(operator=alice)
    data = {
        "user": str(alice.user.pk),
        "display_name": "Ali",
        "max_chats": "3",
        "meeting_url": "zoom.example/j/42",  # typed without its scheme
        **_inline_management("membership_set", total=2, initial=1),
        "membership_set-0-id": str(membership.pk),
        "membership_set-0-operator": str(alice.pk),
        "membership_set-0-department": str(reference.pk),
        "membership_set-0-role": "operator",
        "membership_set-1-operator": str(alice.pk),
        "membership_set-1-department": str(circulation.pk),
        "membership_set-1-role": "admin",
    }
    response = desk_admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    alice.refresh_from_db()
    assert (alice.display_name, alice.max_chats, alice.public_name) == ("Ali", 3, "Ali")
    assert alice.meeting_url == "https://zoom.example/j/42"  # https assumed, not http
    assert set(alice.departments.values_list("slug", flat=True)) == {"reference", "circulation"}


def test_a_desk_admin_adds_edits_and_deletes_canned_messages(desk_admin, reference):
    add = reverse("admin:chat_cannedmessage_add")
    assert desk_admin.get(add).status_code == 200
    data = {
        "title": "OUX welcome",
        "shortcut": "/welcome",
        "scope": "department",
        "department": str(reference.pk),
        "operator": "",
        "body": "Hi {patron_name}, thanks for your question — I'm reading it over now.",
    }
    assert desk_admin.post(add, data).status_code == 302
    row = CannedMessage.objects.get()
    assert (row.scope, row.department_id) == ("department", reference.pk)
    change = reverse("admin:chat_cannedmessage_change", args=[row.pk])
    page = desk_admin.get(change).content.decode()
    assert "Hi Pat, thanks for your question" in page  # the preview

    refused = desk_admin.post(
        change, {**data, "body": "Hi {name} and {x.y}", "shortcut": "welcome"}
    )
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "Unknown placeholders: {name}, {x.y}" in text
    assert "starts with “/”" in text
    wrong_scope = desk_admin.post(change, {**data, "scope": "global"})
    assert "Only a “One department” message has a department." in wrong_scope.content.decode()
    row.refresh_from_db()
    assert row.body.startswith("Hi {patron_name}")

    assert desk_admin.post(change, {**data, "title": "Welcome"}).status_code == 302
    row.refresh_from_db()
    assert row.title == "Welcome"
    delete = reverse("admin:chat_cannedmessage_delete", args=[row.pk])
    assert desk_admin.post(delete, {"post": "yes"}).status_code == 302
    assert not CannedMessage.objects.exists()


def test_chats_are_read_only_with_their_transcript(desk_admin, reference, alice):
    chat, _ = start_chat(reference, question="Where are the atlases?", name="Pat")
    services.chat_claim(chat_id=chat.pk, operator=alice)
    changelist = reverse("admin:chat_chat_changelist")
    listing = desk_admin.get(changelist, {"q": "atlases", "status__exact": "active"})
    assert listing.status_code == 200 and "Pat" in listing.content.decode()
    assert desk_admin.get(changelist, {"department__id__exact": reference.pk}).status_code == 200
    page = desk_admin.get(reverse("admin:chat_chat_change", args=[chat.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Where are the atlases?" in text and "Alice has joined the chat." in text
    assert 'name="_save"' not in text  # nothing to save
    assert chat.patron_token_digest not in text
    assert "Patron minute" not in text  # the message rate limit's counter
    before = Chat.objects.get(pk=chat.pk).patron_name
    desk_admin.post(reverse("admin:chat_chat_change", args=[chat.pk]), {"patron_name": "Changed"})
    assert Chat.objects.get(pk=chat.pk).patron_name == before
    assert (
        desk_admin.post(
            reverse("admin:chat_chat_delete", args=[chat.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert desk_admin.get(reverse("admin:chat_chat_add")).status_code == 403


def test_a_superuser_still_reaches_everything(client, reference):
    root = UserFactory(username="root", is_superuser=True)
    client.force_login(root)
    for url in (
        reverse("admin:chat_department_add"),
        reverse("admin:chat_operator_add"),
        reverse("admin:chat_cannedmessage_add"),
    ):
        assert client.get(url).status_code == 200
    assert Operator.objects.count() == 0


def test_the_desk_admin_group_has_exactly_the_desk_permissions():
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    migration = importlib.import_module("chat.migrations.0003_desk_admin_group")
    Group.objects.filter(name="Desk admin").delete()
    migration.create_group(apps, None)
    codenames = set(
        Group.objects.get(name="Desk admin").permissions.values_list("codename", flat=True)
    )
    assert {
        "add_cannedmessage",
        "change_department",
        "delete_operator",
        "add_membership",
    } <= codenames
    assert {"view_chat", "view_message", "view_chataudit"} <= codenames
    assert not {"change_chat", "delete_chat", "change_message", "delete_message"} & codenames
    assert not any(code.endswith("_user") or code.endswith("_group") for code in codenames)


# --- Saves go through chat.services.departments, and the live desk hears of them -------


def _department_data(department=None, **overrides):
    data = {
        "name": department.name if department else "Maps",
        "slug": department.slug if department else "maps",
        "description": "",
        "greeting": "",
        "offline_message": "Back tomorrow.",
        "is_active": "on",
        "fallback": "",
        **_inline_management("membership_set"),
    }
    data.update(overrides)
    # The greeting and offline message have one field per language (chat/translation.py):
    # these are the library's default language's.
    for field in ("greeting", "offline_message"):
        data[f"{field}_en"] = data.pop(field)
    return {key: value for key, value in data.items() if value is not None}


def _sent(captured, kind):
    return [(groups, event) for groups, event in captured if event["type"] == kind]


def test_a_new_department_reaches_dashboards_and_widgets_on_commit(
    desk_admin, alice, captured_events, django_capture_on_commit_callbacks
):
    services.connection_open(operator=alice, channel_name="admin-test-alice")
    services.presence_set(operator=alice, status="online")
    captured_events.clear()
    data = _department_data(
        **_inline_management("membership_set", total=1),
        **{"membership_set-0-operator": str(alice.pk), "membership_set-0-role": "operator"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(reverse("admin:chat_department_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    maps = Department.objects.get(slug="maps")
    assert list(maps.operators.all()) == [alice]

    [(groups, event)] = _sent(captured_events, "departments.changed")
    assert groups == ["staff"]
    listed = {row["slug"]: row for row in event["departments"]}
    assert listed["maps"]["online"] is True and listed["maps"]["operators"] == ["Alice"]
    widget = [
        event
        for groups, event in _sent(captured_events, "department.presence")
        if groups == [f"dept-{maps.pk}-presence"]
    ]
    assert widget == [
        {
            "type": "department.presence",
            "department": "maps",
            "online": True,
            "answering": {"name": "Maps", "slug": "maps"},
            "as_of": ANY,  # when it was read (chat.events.broadcast_snapshot_after_commit)
        }
    ]


def test_nothing_is_broadcast_when_the_admin_refuses_the_form(
    desk_admin, reference, captured_events, django_capture_on_commit_callbacks
):
    maps = DepartmentFactory(name="Maps", slug="maps", fallback=reference)
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(
            reverse("admin:chat_department_change", args=[reference.pk]),
            _department_data(reference, fallback=str(maps.pk)),
        )
    assert response.status_code == 200 and "go round in a circle" in response.content.decode()
    assert captured_events == []


def test_the_service_refuses_a_fallback_loop_whoever_calls_it(reference):
    from chat.exceptions import InvalidInput
    from chat.services import departments

    maps = DepartmentFactory(name="Maps", slug="maps", fallback=reference)
    reference.fallback = maps
    with pytest.raises(InvalidInput) as refused:
        departments.department_save(department=reference)
    assert refused.value.code == "fallback_loop"
    assert Department.objects.get(pk=reference.pk).fallback_id is None


def test_a_deactivated_department_tells_its_widgets_nobody_answers(
    desk_admin, reference, alice, captured_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(
            reverse("admin:chat_department_change", args=[reference.pk]),
            _department_data(
                reference,
                is_active=None,
                greeting="Closed for the summer.",
                **_inline_management("membership_set", total=1, initial=1),
                **{
                    "membership_set-0-id": str(Membership.objects.get(operator=alice).pk),
                    "membership_set-0-department": str(reference.pk),
                    "membership_set-0-operator": str(alice.pk),
                    "membership_set-0-role": "admin",
                },
            ),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    reference.refresh_from_db()
    assert (reference.is_active, reference.greeting) == (False, "Closed for the summer.")
    assert Membership.objects.get(operator=alice, department=reference).role == "admin"
    assert (
        [f"dept-{reference.pk}-presence"],
        {
            "type": "department.presence",
            "department": "reference",
            "online": False,
            "answering": None,
            "as_of": ANY,
        },
    ) in captured_events
    [(_groups, event)] = _sent(captured_events, "departments.changed")
    assert "reference" not in {row["slug"] for row in event["departments"]}


def test_departments_deleted_one_by_one_or_in_bulk_go_through_the_service(
    desk_admin, reference, alice, captured_events, django_capture_on_commit_callbacks
):
    maps = DepartmentFactory(name="Maps", slug="maps")
    music = DepartmentFactory(name="Music", slug="music")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(
            reverse("admin:chat_department_delete", args=[maps.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Department.objects.filter(pk=maps.pk).exists()
    assert (
        [f"dept-{maps.pk}-presence"],
        {
            "type": "department.presence",
            "department": "maps",
            "online": False,
            "answering": None,
            "as_of": ANY,
        },
    ) in captured_events
    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(
            reverse("admin:chat_department_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [str(music.pk), str(reference.pk)],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Department.objects.exists() and not Membership.objects.exists()
    gone = {groups[0] for groups, _event in _sent(captured_events, "department.presence")}
    assert {f"dept-{music.pk}-presence", f"dept-{reference.pk}-presence"} <= gone
    assert _sent(captured_events, "departments.changed")[-1][1]["departments"] == []


def test_an_operator_saved_in_the_admin_is_announced_with_their_departments(
    desk_admin, alice, reference, captured_events, django_capture_on_commit_callbacks
):
    circulation = DepartmentFactory(name="Circulation", slug="circulation")
    membership = Membership.objects.get(operator=alice)
    data = {
        "user": str(alice.user.pk),
        "display_name": "Ali",
        "max_chats": "",
        "shift_ends_at": "17:30",
        **_inline_management("membership_set", total=2, initial=1),
        "membership_set-0-id": str(membership.pk),
        "membership_set-0-operator": str(alice.pk),
        "membership_set-0-department": str(reference.pk),
        "membership_set-0-role": "operator",
        "membership_set-0-DELETE": "on",
        "membership_set-1-operator": str(alice.pk),
        "membership_set-1-department": str(circulation.pk),
        "membership_set-1-role": "operator",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(reverse("admin:chat_operator_change", args=[alice.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    alice.refresh_from_db()
    assert alice.public_name == "Ali" and str(alice.shift_ends_at) == "17:30:00"
    assert list(alice.departments.values_list("slug", flat=True)) == ["circulation"]
    [(groups, event)] = _sent(captured_events, "presence.changed")
    assert groups == ["staff"] and event["operator"]["name"] == "Ali"
    # The history shows what changed, as for any admin save.
    from django.contrib.admin.models import LogEntry

    assert (
        "Deleted membership “Ali in Reference Desk”"
        in LogEntry.objects.latest("action_time").get_change_message()
    )


def test_an_operator_added_and_deleted_in_the_admin(
    desk_admin, reference, captured_events, django_capture_on_commit_callbacks
):
    user = UserFactory(username="bob", first_name="Bob")
    data = {
        "user": str(user.pk),
        "display_name": "",
        "max_chats": "2",
        **_inline_management("membership_set", total=1),
        "membership_set-0-department": str(reference.pk),
        "membership_set-0-role": "admin",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(reverse("admin:chat_operator_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    bob = Operator.objects.get(user=user)
    assert (bob.max_chats, bob.status) == (2, "offline")
    assert Membership.objects.get(operator=bob).role == "admin"
    assert _sent(captured_events, "presence.changed")[0][1]["operator"]["name"] == "Bob"

    captured_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_admin.post(
            reverse("admin:chat_operator_delete", args=[bob.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Operator.objects.filter(pk=bob.pk).exists() and not Membership.objects.exists()
    assert _sent(captured_events, "departments.changed")
