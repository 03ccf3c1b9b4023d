"""SAML 2.0 sign-in against pysaml2's IdP in a process of its own: the whole protocol
(AuthnRequest, the IdP's login page, its signed Response to the ACS) through the desk's
real views; unsigned, tampered, expired and replayed answers refused and throttled."""

import copy
import re
from html import unescape

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from saml2.metadata import create_metadata_string

from chat.models import CampusIdentity, Membership, SignInMapping
from chat.sign_in.saml import sp_config
from tests.factories import DepartmentFactory, desk_admin_user
from tests.identity.saml_idp import SamlIdp

User = get_user_model()


def attributes(uid, given, surname, groups):
    return {
        "uid": [uid],
        "givenName": [given],
        "sn": [surname],
        "mail": [f"{uid}@library.example"],
        "isMemberOf": groups,
    }


PEOPLE = {
    "maria": {
        "password": "maria-campus-pw",
        "attributes": attributes("maria", "María José", "Carreño Quiñones", ["reference-staff"]),
    },
    "kofi": {
        "password": "kofi-campus-pw",
        "attributes": attributes("kofi", "Kofi", "Mensah", ["students"]),
    },
    "unsigned": {
        "password": "pw",
        "deliver": "unsigned",
        "attributes": attributes("unsigned", "Una", "Signed", ["reference-staff"]),
    },
    "tampered": {
        "password": "pw",
        "deliver": "tampered",
        "attributes": attributes("tampered", "Tam", "Pered", ["reference-staff"]),
    },
    "expired": {
        "password": "pw",
        "deliver": "expired",
        "attributes": attributes("expired", "Ex", "Pired", ["reference-staff"]),
    },
}


def sp_metadata(host="testserver", scheme="http"):
    request = RequestFactory().get("/", HTTP_HOST=host, secure=scheme == "https")
    return create_metadata_string(None, config=sp_config(request)).decode()


@pytest.fixture(scope="module")
def idp(django_db_blocker):
    server = SamlIdp()
    from django.conf import settings

    saved = settings.CAMPUS_SIGN_IN
    settings.CAMPUS_SIGN_IN = copy.deepcopy(saved)  # no IdP yet: the SP's own metadata
    try:
        server.start(sp_metadata(), PEOPLE)
    finally:
        settings.CAMPUS_SIGN_IN = saved
    yield server
    server.stop()


@pytest.fixture
def campus_saml(settings, idp, db):
    conf = copy.deepcopy(settings.CAMPUS_SIGN_IN)
    conf["SAML"].update(IDP_METADATA_URL=idp.metadata_url, NAME="Campus SSO")
    settings.CAMPUS_SIGN_IN = conf
    desk_admin_user("dana")
    reference = DepartmentFactory(name="Reference", slug="reference")
    SignInMapping.objects.create(value="reference-staff", department=reference)
    SignInMapping.objects.create(value="library-it", desk_admin=True)
    return idp


def hidden_fields(page_html):
    return {
        name: unescape(value)
        for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page_html)
    }


def saml_response_for(client, idp, username, password):
    """The desk's AuthnRequest to the IdP, the person signing in there: the IdP's
    answer, as the browser would post it to the ACS."""
    start = client.get("/sso/saml/login/?next=/dashboard/")
    assert start.status_code == 302 and start["Location"].startswith(idp.base_url)
    login_page = requests.get(start["Location"], timeout=10)
    fields = hidden_fields(login_page.text)
    answer = requests.post(
        f"{idp.base_url}/sso/login",
        data={**fields, "username": username, "password": password},
        timeout=10,
    )
    posted = hidden_fields(answer.text)
    assert "SAMLResponse" in posted, answer.text
    return posted


def test_sign_in_creates_the_operator_from_the_assertion(campus_saml):
    client = Client()
    posted = saml_response_for(client, campus_saml, "maria", "maria-campus-pw")
    response = client.post("/sso/saml/acs/", posted)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user = User.objects.get(username="maria")
    assert (user.first_name, user.last_name) == ("María José", "Carreño Quiñones")
    assert list(
        Membership.objects.filter(operator__user=user).values_list("department__name", "role")
    ) == [("Reference", "operator")]
    assert CampusIdentity.objects.get(user=user).provider == "saml"
    assert client.get("/dashboard/").status_code == 200


def test_a_replayed_response_is_refused(campus_saml):
    client = Client()
    posted = saml_response_for(client, campus_saml, "maria", "maria-campus-pw")
    assert client.post("/sso/saml/acs/", posted).status_code == 302
    other_browser = Client()
    replay = other_browser.post("/sso/saml/acs/", posted)
    assert replay.status_code == 403
    assert "could not be trusted" in replay.content.decode()
    again = client.post("/sso/saml/acs/", posted)  # the same browser, once more
    assert again.status_code == 403


@pytest.mark.parametrize("username", ["unsigned", "tampered", "expired"])
def test_untrustworthy_responses_are_refused_with_a_clear_page(campus_saml, username):
    client = Client()
    posted = saml_response_for(client, campus_saml, username, "pw")
    response = client.post("/sso/saml/acs/", posted)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Sign-in with Campus SSO did not work" in page
    assert "could not be trusted" in page
    assert not User.objects.filter(username=username).exists()
    assert "_auth_user_id" not in client.session


def test_someone_of_no_mapped_group_is_told_so(campus_saml):
    client = Client()
    posted = saml_response_for(client, campus_saml, "kofi", "kofi-campus-pw")
    response = client.post("/sso/saml/acs/", posted)
    assert response.status_code == 403
    assert "no access to the chat desk" in response.content.decode()
    assert not User.objects.filter(username="kofi").exists()


def test_refused_responses_are_throttled_like_bad_passwords(settings, campus_saml):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    good = saml_response_for(client, campus_saml, "maria", "maria-campus-pw")
    for _ in range(2):
        posted = saml_response_for(client, campus_saml, "tampered", "pw")
        assert client.post("/sso/saml/acs/", posted).status_code in (403, 429)
    # Locked out now: even a good answer is not looked at, and sign-in does not start.
    locked = client.post("/sso/saml/acs/", good)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert client.get("/sso/saml/login/").status_code == 429
    assert not User.objects.filter(username="maria").exists()


def test_the_metadata_names_the_external_https_addresses_behind_the_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["desk.library.example"]
    response = Client().get(
        "/sso/saml/metadata/",
        HTTP_HOST="desk.library.example",
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 200
    metadata = response.content.decode()
    assert 'Location="https://desk.library.example/sso/saml/acs/"' in metadata
    assert "http://desk.library.example" not in metadata


def test_log_out_ends_the_desk_session_and_signs_out_at_the_idp(campus_saml):
    client = Client()
    posted = saml_response_for(client, campus_saml, "maria", "maria-campus-pw")
    assert client.post("/sso/saml/acs/", posted).status_code == 302
    response = client.post("/accounts/logout/")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session  # the desk session ended first
    at_idp = re.search(r'content="0;url=([^"]+)"', response.content.decode()).group(1)
    answer = requests.get(unescape(at_idp), allow_redirects=False, timeout=10)
    assert answer.status_code == 302, (answer.text, (campus_saml.folder / "idp.log").read_text())
    assert len(campus_saml.logged_out()) == 1  # the IdP ended its session of maria
    back = client.get(answer.headers["Location"].removeprefix("http://testserver"))
    assert back.status_code == 302 and back["Location"] == "/accounts/login/"
