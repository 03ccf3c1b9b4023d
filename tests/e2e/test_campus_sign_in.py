"""A librarian signs in with the campus identity in Chromium: "Sign in with …" on the
login page, the identity provider's own page (pysaml2's IdP; django-oauth-toolkit's
OpenID provider, with PKCE), and the Chat Dashboard; Log out ends the desk session and
signs out at the provider. With desk passwords turned off, the form says so."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests import liveserver
from tests.e2e.conftest import DEMO_PASSWORDS
from tests.identity.oidc_op.provider import OpenIdProvider
from tests.identity.saml_idp import SamlIdp

SP_METADATA = """
from django.test import RequestFactory
from saml2.metadata import create_metadata_string
from chat.sign_in.saml import sp_config
request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:{port}")
print(create_metadata_string(None, config=sp_config(request)).decode())
"""
MAPPING = """
from chat.models import Department, SignInMapping
reference = Department.objects.get(slug="reference")
SignInMapping.objects.create(value="reference-staff", department=reference)
SignInMapping.objects.create(provider="oidc", value="archives-staff",
    department=Department.objects.get(slug="special-collections"), role="admin")
"""
SAML_PEOPLE = {
    "maria": {
        "password": "maria-campus-pw",
        "attributes": {
            "uid": ["maria"],
            "givenName": ["María José"],
            "sn": ["Carreño"],
            "mail": ["maria@library.example"],
            "isMemberOf": ["reference-staff", "staff"],
        },
    }
}
OIDC_PEOPLE = {
    "amara": {
        "password": "amara-campus-pw",
        "given_name": "Amara",
        "family_name": "Okafor",
        "groups": ["archives-staff"],
    }
}


@pytest.fixture(scope="module")
def campus_desk(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("campus-desk")
    port = liveserver.free_port()
    url = f"http://127.0.0.1:{port}"
    idp, op = SamlIdp(), OpenIdProvider()
    env = liveserver.desk_env(workdir, LIBDESK_PUBLIC_URL=url, LOCAL_LOGIN="superusers")
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = liveserver.create_postgres_database(
            os.environ["DATABASE_URL"], f"libdesk_campus_{os.getpid()}"
        )
    else:
        env["SQLITE_PATH"] = str(workdir / "desk.sqlite3")
    if os.environ.get("REDIS_URL"):
        env["CHANNELS_PREFIX"] = f"campus{port}"
    processes = []
    try:
        liveserver.manage(env, "migrate", "--noinput", "-v0")
        liveserver.manage(env, "collectstatic", "--noinput", "-v0")  # production mode: manifest
        liveserver.manage(env, "seed_demo")
        liveserver.manage(env, "shell", "-c", MAPPING)
        # The desk's SP metadata is what the campus IdP registers.
        idp.start(
            liveserver.manage(env, "shell", "--no-imports", "-c", SP_METADATA.format(port=port)),
            SAML_PEOPLE,
        )
        op.start(
            OIDC_PEOPLE,
            [
                {
                    "client_id": "libdesk",
                    "client_secret": "libdesk-client-secret",
                    "redirect_uris": [f"{url}/sso/oidc/callback/"],
                    "post_logout_redirect_uris": [f"{url}/accounts/login/"],
                }
            ],
        )
        endpoints = op.endpoints()
        env.update(
            SAML_IDP_METADATA_URL=idp.metadata_url,
            SAML_NAME="Campus SSO",
            OIDC_NAME="Campus account",
            OIDC_CLIENT_ID="libdesk",
            OIDC_CLIENT_SECRET="libdesk-client-secret",
            **{f"OIDC_{name}": value for name, value in endpoints.items()},
        )
        log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed at teardown
        processes.append(liveserver.start_daphne(env, port, log))
        liveserver.wait_for_port(port, processes[0])
        yield {"url": url, "idp": idp, "op": op, "env": env}
    finally:
        liveserver.stop_processes(processes)
        idp.stop()
        op.stop()
        if os.environ.get("DATABASE_URL"):
            liveserver.drop_postgres_database(env["DATABASE_URL"])


def memberships(desk, username):
    """The departments and roles the desk gave the person (read in the desk's database)."""
    code = (
        "from chat.models import Membership;"
        f"print(','.join(f'{{m.department.name}}:{{m.role}}' for m in "
        f"Membership.objects.filter(operator__user__username={username!r})))"
    )
    return liveserver.manage(desk["env"], "shell", "--no-imports", "-c", code).strip()


def test_saml_sign_in_to_the_dashboard_and_single_logout(new_page, campus_desk):
    page = new_page()
    page.goto(f"{campus_desk['url']}/dashboard/")
    page.get_by_role("link", name="Sign in with Campus SSO").click()
    expect(page.get_by_role("heading", name="Campus sign-in")).to_be_visible()
    page.get_by_label("Campus username").fill("maria")
    page.get_by_label("Campus password").fill("maria-campus-pw")
    page.get_by_role("button", name="Sign in at the campus").click()
    expect(page.get_by_role("heading", name="Patron Chats")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Connected")
    expect(page.get_by_role("button", name="Log out María José")).to_be_visible()
    assert memberships(campus_desk, "maria") == "Reference Desk:operator"

    page.get_by_role("button", name="Log out María José").click()
    expect(page.get_by_role("heading", name="Staff log in")).to_be_visible()
    assert len(campus_desk["idp"].logged_out()) == 1  # the IdP heard the logout
    page.goto(f"{campus_desk['url']}/dashboard/")
    expect(page.get_by_role("heading", name="Staff log in")).to_be_visible()


def test_openid_connect_sign_in_with_pkce_to_the_dashboard(new_page, campus_desk):
    page = new_page()
    page.goto(f"{campus_desk['url']}/dashboard/")
    page.get_by_role("link", name="Sign in with Campus account").click()
    expect(page.get_by_role("heading", name="Campus account")).to_be_visible()
    assert "code_challenge_method=S256" in page.url or "code_challenge" in page.url
    page.get_by_label("Campus username").fill("amara")
    page.get_by_label("Campus password").fill("amara-campus-pw")
    page.get_by_role("button", name="Sign in at the campus").click()
    expect(page.get_by_role("heading", name="Patron Chats")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Connected")
    assert memberships(campus_desk, "amara") == "Special Collections:admin"

    page.get_by_role("button", name="Log out Amara").click()
    expect(page.get_by_role("heading", name="Staff log in")).to_be_visible()
    assert page.url.startswith(campus_desk["url"])
    # Signed out at the provider too: signing in again asks for the password.
    page.get_by_role("link", name="Sign in with Campus account").click()
    expect(page.get_by_label("Campus password")).to_be_visible()


def test_with_desk_passwords_off_the_form_says_where_to_sign_in(new_page, campus_desk):
    page = new_page()
    page.goto(f"{campus_desk['url']}/accounts/login/")
    expect(page.get_by_text("Desk passwords are turned off")).to_be_visible()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(DEMO_PASSWORDS["alice"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(
            "Desk passwords are turned off for staff accounts. "
            "Sign in with Campus SSO or Campus account instead."
        )
    )
    # The break-glass superuser still signs in with a desk password.
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(DEMO_PASSWORDS["admin"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Staff log in")).to_have_count(0)
