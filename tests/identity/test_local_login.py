"""Desk passwords can be turned off for everyone but superusers (LOCAL_LOGIN=superusers):
the login form and the admin's then say so, and the break-glass account still works."""

import copy

import pytest
from django.test import Client

from tests.factories import UserFactory, desk_admin_user, named_operator


@pytest.fixture
def passwords_off(settings, db):
    conf = copy.deepcopy(settings.CAMPUS_SIGN_IN)
    conf["LOCAL_LOGIN"] = "superusers"
    conf["SAML"].update(IDP_METADATA_FILE="/dev/null", NAME="Campus SSO")
    settings.CAMPUS_SIGN_IN = conf


def test_a_staff_password_is_refused_with_where_to_sign_in(passwords_off):
    named_operator("sam")
    response = Client().post("/accounts/login/", {"username": "sam", "password": "pw-for-tests"})
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Desk passwords are turned off for staff accounts. Sign in with Campus SSO instead." in page
    )
    assert "Sign in with Campus SSO</a>" in page
    assert "_auth_user_id" not in Client().session


def test_the_admin_login_refuses_a_desk_admin_password_too(passwords_off):
    desk_admin_user("dana")
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "dana", "password": "pw-for-tests"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_the_break_glass_superuser_still_signs_in(passwords_off):
    UserFactory(username="root", is_superuser=True)
    client = Client()
    response = client.post("/accounts/login/", {"username": "root", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_by_default_desk_passwords_work_for_everyone(db):
    named_operator("sam")
    response = Client().post("/accounts/login/", {"username": "sam", "password": "pw-for-tests"})
    assert response.status_code == 302
    page = Client().get("/accounts/login/").content.decode()
    assert "Sign in with" not in page and "turned off" not in page
