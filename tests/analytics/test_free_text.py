"""Reference Analytics free text stays in its department (issue 15, failure 14): counts
are library-wide; an entry's question, answer and internal note are for its department's
staff, whoever answered or recorded it, Desk admins and superusers, unless a Desk admin
makes free text library-wide (FormSettings.free_text_library_wide, in /admin/)."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.utils.html import escape

from analytics import services
from analytics.models import FormSettings, Interaction
from chat.models import Membership
from tests import realworld
from tests.factories import (
    DepartmentFactory,
    UserFactory,
    desk_admin_user,
    named_operator,
    record_interaction,
)

pytestmark = pytest.mark.django_db

# Patron-identifying text, as librarians write it; one real-world string in the note.
REFERENCE_TEXT = ("Pat Doe (card 2941) wants her mother's 1952 divorce file", "Sent to county")
SPECIAL_TEXT = ("Sam Roe asked about his late father's letters", "Box 12 of the Roe papers")
NOTE = next(s for s in realworld.naughty_strings() if "<script>" in s)


@pytest.fixture
def desk():
    reference = DepartmentFactory(name="Reference Desk", slug="reference")
    special = DepartmentFactory(name="Special Collections", slug="special")
    people = {
        "alice": named_operator("alice", [reference], is_staff=True),  # operator of A
        "bob": named_operator("bob", [special], is_staff=True),  # operator of B
        "carmen": named_operator("carmen", [special], is_staff=True),  # Department admin of B
        "dana": desk_admin_user("dana", is_staff=True),  # Desk admin
        "root": UserFactory(username="root", is_staff=True, is_superuser=True),
        "erin": named_operator("erin", [reference], is_staff=True),  # records A's entries
        "fay": named_operator("fay", [special], is_staff=True),  # records B's entries
    }
    Membership.objects.filter(operator=people["carmen"], department=special).update(
        role=Membership.Role.ADMIN
    )
    users = {name: getattr(person, "user", person) for name, person in people.items()}
    entries = {
        "reference": record_interaction(
            users["erin"],
            department=reference,
            question=REFERENCE_TEXT[0],
            answer=REFERENCE_TEXT[1],
            note=NOTE,
        ),
        "special": record_interaction(
            users["fay"],
            department=special,
            question=SPECIAL_TEXT[0],
            answer=SPECIAL_TEXT[1],
            note="Asked us not to tell his sister",
        ),
    }
    return users, entries


def library_wide(on: bool):
    settings_row = FormSettings.current()
    settings_row.free_text_library_wide = on
    services.form_settings_save(form_settings=settings_row)


def csv_rows(client, user) -> dict[str, dict]:
    client.force_login(user)
    response = client.get("/analytics/export.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row["department"]: row for row in csv.DictReader(io.StringIO(text))}


def shows(response, text) -> bool:
    """Whether a page shows ``text`` (as written, or escaped as templates write it)."""
    page = response.content.decode()
    return text in page or escape(text) in page


def free_text_of(row) -> tuple[str, str, str, str]:
    return row["question"], row["answer"], row["internal_note"], row["free_text_withheld"]


REFERENCE_ROW = (*REFERENCE_TEXT, NOTE, "")
SPECIAL_ROW = (*SPECIAL_TEXT, "Asked us not to tell his sister", "")
WITHHELD = ("", "", "", "yes")


@pytest.mark.parametrize(
    "who, reference, special",
    [
        ("alice", REFERENCE_ROW, WITHHELD),
        ("bob", WITHHELD, SPECIAL_ROW),
        ("carmen", WITHHELD, SPECIAL_ROW),
        ("dana", REFERENCE_ROW, SPECIAL_ROW),
        ("root", REFERENCE_ROW, SPECIAL_ROW),
    ],
)
def test_the_csv_export_withholds_other_departments_free_text(
    client, desk, who, reference, special
):
    users, _ = desk
    rows = csv_rows(client, users[who])
    assert set(rows) == {"Reference Desk", "Special Collections"}  # counts: library-wide
    assert rows["Reference Desk"]["mode"] == "In person"  # the figures are all there
    assert rows["Special Collections"]["duration_minutes"] == "10"
    assert free_text_of(rows["Reference Desk"]) == reference
    assert free_text_of(rows["Special Collections"]) == special


@pytest.mark.parametrize("who", ["alice", "bob", "carmen", "dana", "root"])
def test_library_wide_free_text_is_everyones(client, desk, who):
    users, _ = desk
    library_wide(True)
    rows = csv_rows(client, users[who])
    assert free_text_of(rows["Reference Desk"]) == REFERENCE_ROW
    assert free_text_of(rows["Special Collections"]) == SPECIAL_ROW


def test_whoever_recorded_an_entry_reads_it_wherever_it_belongs(client, desk):
    users, entries = desk
    own = record_interaction(users["bob"], department=entries["reference"].department)
    Interaction.objects.filter(pk=own.pk).update(question="Bob's own question")
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    (
                        client.force_login(users["bob"]) or client.get("/analytics/export.csv")
                    ).streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    questions = sorted(row["question"] for row in rows)
    assert questions == sorted(["", "Bob's own question", SPECIAL_TEXT[0]])


@pytest.mark.parametrize("who", ["alice", "bob", "carmen"])
def test_report_pages_show_no_free_text(client, desk, who):
    users, _ = desk
    client.force_login(users[who])
    page = client.get("/analytics/")
    assert page.context["r"]["total"] == 2  # both departments counted
    for text in (*REFERENCE_TEXT, *SPECIAL_TEXT, "not to tell his sister"):
        assert not shows(page, text)


# --- The admin ----------------------------------------------------------------------------


def test_a_department_admin_reads_their_departments_entries_only(client, desk):
    users, entries = desk
    client.force_login(users["carmen"])
    listing = client.get("/admin/analytics/interaction/")
    assert listing.status_code == 200
    shown = list(listing.context["cl"].result_list)
    assert shown == [entries["special"]]
    page = client.get(f"/admin/analytics/interaction/{entries['special'].pk}/change/")
    assert page.status_code == 200
    assert shows(page, SPECIAL_TEXT[0])
    assert shows(page, "Asked us not to tell his sister")
    other = client.get(f"/admin/analytics/interaction/{entries['reference'].pk}/change/")
    assert other.status_code in (302, 404)
    assert not shows(other, REFERENCE_TEXT[0])
    # No way round it by searching either.
    found = client.get("/admin/analytics/interaction/", {"q": "divorce"})
    assert list(found.context["cl"].result_list) == []


@pytest.fixture
def entries_clerk(desk):
    """A staff member of the Reference Desk given the desk-wide "view interaction"
    permission (e.g. a statistics clerk's group), but not the free text's."""
    users, _ = desk
    clerk = named_operator(
        "gil", [Membership.objects.filter(operator__user=users["alice"]).get().department]
    ).user
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(Permission.objects.get(codename="view_interaction"))
    return clerk


def test_desk_wide_entry_readers_see_other_departments_entries_without_free_text(
    client, desk, entries_clerk
):
    users, entries = desk
    client.force_login(entries_clerk)
    listing = client.get("/admin/analytics/interaction/")
    assert len(listing.context["cl"].result_list) == 2  # every entry, as figures
    special = client.get(f"/admin/analytics/interaction/{entries['special'].pk}/change/")
    assert special.status_code == 200
    assert shows(special, "Special Collections")
    assert not shows(special, SPECIAL_TEXT[0]) and not shows(special, SPECIAL_TEXT[1])
    assert not shows(special, "not to tell his sister")
    own = client.get(f"/admin/analytics/interaction/{entries['reference'].pk}/change/")
    assert shows(own, REFERENCE_TEXT[0])
    # Searching the free text would tell what it says: the search leaves it out.
    found = client.get("/admin/analytics/interaction/", {"q": "letters"})
    assert list(found.context["cl"].result_list) == []
    library_wide(True)
    assert shows(
        client.get(f"/admin/analytics/interaction/{entries['special'].pk}/change/"),
        SPECIAL_TEXT[0],
    )


def test_a_desk_admin_reads_everything_and_makes_free_text_library_wide(client, desk):
    users, entries = desk
    client.force_login(users["dana"])
    special = client.get(f"/admin/analytics/interaction/{entries['special'].pk}/change/")
    assert shows(special, SPECIAL_TEXT[0])
    found = client.get("/admin/analytics/interaction/", {"q": "letters"})
    assert list(found.context["cl"].result_list) == [entries["special"]]
    # The one settings row, as the admin offers it: added the first time, then changed.
    exists = FormSettings.objects.filter(pk=1).exists()
    url = f"/admin/analytics/formsettings/{'1/change' if exists else 'add'}/"
    page = client.get(url)
    assert page.status_code == 200
    assert shows(page, "Free text library-wide")
    response = client.post(url, {"free_text_library_wide": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert FormSettings.current().free_text_library_wide is True
    assert free_text_of(csv_rows(client, users["alice"])["Special Collections"]) == SPECIAL_ROW


@pytest.mark.parametrize("who", ["alice", "carmen"])
def test_operators_and_department_admins_cannot_change_the_setting(client, desk, who):
    users, _ = desk
    client.force_login(users[who])
    for url in ("/admin/analytics/formsettings/add/", "/admin/analytics/formsettings/1/change/"):
        assert client.get(url).status_code in (302, 403, 404)
        client.post(url, {"free_text_library_wide": "on"})
    assert FormSettings.current().free_text_library_wide is False
