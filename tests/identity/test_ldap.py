"""LDAP sign-in against Debian's slapd: the login form, the group → department mapping,
a locked account refused, and the directory's changes taking effect."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from chat.models import CampusIdentity, Membership, Operator, SignInMapping
from chat.sign_in import ldap as campus_ldap
from tests.factories import DepartmentFactory, desk_admin_user
from tests.identity.conftest import hostile_people
from tests.security.test_sessions import dashboard_socket, expect_closed_for_session_end

User = get_user_model()


@pytest.fixture
def mapping(db):
    desk_admin_user("dana")  # makes the Desk admin group again after a flush
    reference = DepartmentFactory(name="Reference", slug="reference")
    archives = DepartmentFactory(name="Special Collections", slug="archives")
    SignInMapping.objects.create(value="reference-staff", department=reference)
    SignInMapping.objects.create(value="ARCHIVES-STAFF", department=archives, role="admin")
    SignInMapping.objects.create(value="library-it", desk_admin=True)
    # Only for people signing in through SAML: never matches an LDAP sign-in.
    SignInMapping.objects.create(provider="saml", value="students", department=reference)
    return {"reference": reference, "archives": archives}


def sign_in(username, password):
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response


def memberships(username):
    return sorted(
        Membership.objects.filter(operator__user__username=username).values_list(
            "department__name", "role"
        )
    )


@pytest.mark.django_db
def test_first_sign_in_creates_the_operator_in_the_mapped_department(campus_ldap, mapping):
    client, response = sign_in("rosa", "rosa-campus-pw")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user = User.objects.get(username="rosa")
    assert (user.first_name, user.last_name, user.email) == (
        "Rosa",
        "Parkes-Ivanova",
        "rosa@library.example",
    )
    assert user.is_staff and not user.has_usable_password()
    assert Operator.objects.get(user=user).public_name == "Rosa"  # first name only
    assert memberships("rosa") == [("Reference", "operator")]
    assert client.get("/dashboard/").status_code == 200
    assert client.session.get_expiry_age() <= 8 * 3600  # a campus session is bounded


@pytest.mark.django_db
def test_groups_give_roles_and_the_desk_admin_group(campus_ldap, mapping):
    client, response = sign_in("omar", "omar-campus-pw")
    assert response.status_code == 302
    assert memberships("omar") == [("Special Collections", "admin")]
    user = User.objects.get(username="omar")
    assert list(user.groups.values_list("name", flat=True)) == ["Desk admin"]
    assert client.get("/admin/chat/signinmapping/").status_code == 200


@pytest.mark.django_db
def test_a_locked_account_and_a_person_of_no_mapped_group_are_refused(campus_ldap, mapping):
    _client, locked = sign_in("lena", "lena-campus-pw")
    _client, unmapped = sign_in("jo", "jo-campus-pw")
    _client, wrong = sign_in("rosa", "not-her-password")
    for response in (locked, unmapped, wrong):
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()
    assert not User.objects.filter(username__in=["lena", "jo", "rosa"]).exists()


@pytest.mark.django_db
def test_later_sign_ins_follow_the_directory(campus_ldap, mapping):
    sign_in("omar", "omar-campus-pw")
    campus_ldap.set_given_name("omar", "Omari")
    campus_ldap.remove_from_group("omar", "library-it")
    campus_ldap.add_to_group("omar", "reference-staff")
    _client, response = sign_in("omar", "omar-campus-pw")
    assert response.status_code == 302
    user = User.objects.get(username="omar")
    assert user.first_name == "Omari"
    assert memberships("omar") == [("Reference", "operator"), ("Special Collections", "admin")]
    assert not user.groups.exists()
    assert CampusIdentity.objects.filter(user=user, provider="ldap").count() == 1


@pytest.mark.django_db(transaction=True)
async def test_a_group_removal_ends_the_open_session_and_the_next_sign_in(campus_ldap, mapping):
    client, response = await sync_to_async(sign_in)("rosa", "rosa-campus-pw")
    assert response.status_code == 302
    socket = await dashboard_socket(client)

    await sync_to_async(campus_ldap.remove_from_group)("rosa", "reference-staff")
    result = await sync_to_async(campus_ldap_recheck)()
    assert result == {"checked": 1, "deprovisioned": 1}
    await expect_closed_for_session_end(socket)

    page = await sync_to_async(client.get)("/dashboard/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    _again, refused = await sync_to_async(sign_in)("rosa", "rosa-campus-pw")
    assert refused.status_code == 200
    assert await sync_to_async(memberships)("rosa") == []

    # The campus gives the desk back: the next sign-in brings the account back.
    await sync_to_async(campus_ldap.add_to_group)("rosa", "reference-staff")
    _back, response = await sync_to_async(sign_in)("rosa", "rosa-campus-pw")
    assert response.status_code == 302
    assert await sync_to_async(memberships)("rosa") == [("Reference", "operator")]


def campus_ldap_recheck():
    return campus_ldap.recheck_directory()


@pytest.mark.django_db
def test_a_locked_account_is_deprovisioned_at_the_re_check(campus_ldap, mapping):
    sign_in("omar", "omar-campus-pw")
    sign_in("rosa", "rosa-campus-pw")
    campus_ldap.lock("omar")
    assert campus_ldap_recheck() == {"checked": 2, "deprovisioned": 1}
    omar, rosa = User.objects.get(username="omar"), User.objects.get(username="rosa")
    assert not omar.is_active and rosa.is_active
    assert memberships("omar") == [] and not omar.groups.exists()
    assert CampusIdentity.objects.get(user=omar).deprovisioned_at is not None
    _client, response = sign_in("omar", "omar-campus-pw")
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_account_an_admin_deactivated_stays_deactivated(campus_ldap, mapping):
    sign_in("rosa", "rosa-campus-pw")
    User.objects.filter(username="rosa").update(is_active=False)
    _client, response = sign_in("rosa", "rosa-campus-pw")
    assert response.status_code == 200
    assert not User.objects.get(username="rosa").is_active


@pytest.mark.django_db
def test_wrong_campus_passwords_are_throttled(settings, campus_ldap, mapping):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [sign_in("rosa", "wrong")[1].status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert sign_in("rosa", "rosa-campus-pw")[1].status_code == 429


@pytest.mark.django_db
def test_names_from_the_directory_are_kept_as_written(campus_ldap, mapping):
    for uid, given, surname, password, _groups in hostile_people():
        client, response = sign_in(uid, password)
        assert response.status_code == 302, given
        user = User.objects.get(username=uid)
        assert (user.first_name, user.last_name) == (given[:150], surname[:150])
        assert Operator.objects.get(user=user).public_name == given[:150]
