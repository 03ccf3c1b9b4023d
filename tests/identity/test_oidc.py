"""OpenID Connect sign-in against django-oauth-toolkit's provider in a process of its own:
the authorization code flow with PKCE through the desk's real views, the groups claim
mapped; an ID token for another client refused."""

import copy
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.test import Client

from chat.models import Membership, SignInMapping
from chat.sign_in.oidc import CampusOIDCBackend
from tests.factories import DepartmentFactory, desk_admin_user
from tests.identity.oidc_op.provider import OpenIdProvider

User = get_user_model()
DESK_CLIENT = {"client_id": "libdesk", "client_secret": "libdesk-client-secret"}
OTHER_CLIENT = {"client_id": "course-reserves", "client_secret": "other-client-secret"}
OP_PEOPLE = {
    "amara": {
        "password": "amara-campus-pw",
        "given_name": "Amara",
        "family_name": "Okafor",
        "groups": ["reference-staff", "library-it"],
    },
    "theo": {
        "password": "theo-campus-pw",
        "given_name": "Theo",
        "family_name": "Student",
        "groups": ["students"],
    },
}


@pytest.fixture(scope="module")
def provider():
    op = OpenIdProvider()
    op.start(
        OP_PEOPLE,
        [
            {**DESK_CLIENT, "redirect_uris": ["http://testserver/sso/oidc/callback/"]},
            {**OTHER_CLIENT, "redirect_uris": ["http://127.0.0.1/elsewhere/"]},
        ],
    )
    yield op
    op.stop()


@pytest.fixture
def campus_oidc(settings, provider, db):
    conf = copy.deepcopy(settings.CAMPUS_SIGN_IN)
    conf["OIDC"].update(
        NAME="Campus account",
        CLIENT_ID=DESK_CLIENT["client_id"],
        CLIENT_SECRET=DESK_CLIENT["client_secret"],
        **provider.endpoints(),
    )
    settings.CAMPUS_SIGN_IN = conf
    desk_admin_user("dana")
    reference = DepartmentFactory(name="Reference", slug="reference")
    SignInMapping.objects.create(value="reference-staff", department=reference, role="admin")
    SignInMapping.objects.create(provider="oidc", value="library-it", desk_admin=True)
    return provider


def sign_in_at_provider(authorize_url, username, password):
    """The person at the provider: its login page, then back to the client's redirect
    URI with a code (returned, not followed)."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)  # → the provider's login page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    next_url = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
    answer = browser.post(
        page.url,
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": password,
            "next": next_url.replace("&amp;", "&"),
        },
        headers={"Referer": page.url},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    authorize = browser.get(urljoin(page.url, answer.headers["Location"]), allow_redirects=False)
    assert authorize.status_code == 302, authorize.text
    return authorize.headers["Location"]


def test_authorization_code_with_pkce_signs_the_librarian_in(campus_oidc):
    client = Client()
    start = client.get("/sso/oidc/login/?next=/dashboard/")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    back = sign_in_at_provider(start["Location"], "amara", "amara-campus-pw")
    assert back.startswith("http://testserver/sso/oidc/callback/?")
    response = client.get(back.removeprefix("http://testserver"))
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    user = User.objects.get(username="amara")
    assert (user.first_name, user.last_name) == ("Amara", "Okafor")
    assert list(
        Membership.objects.filter(operator__user=user).values_list("department__name", "role")
    ) == [("Reference", "admin")]
    assert list(user.groups.values_list("name", flat=True)) == ["Desk admin"]
    assert client.get("/dashboard/").status_code == 200


def test_someone_of_no_mapped_group_is_told_so(campus_oidc):
    client = Client()
    start = client.get("/sso/oidc/login/")
    back = sign_in_at_provider(start["Location"], "theo", "theo-campus-pw")
    response = client.get(back.removeprefix("http://testserver"))
    assert response.status_code == 403
    assert "no access to the chat desk" in response.content.decode()
    assert not User.objects.filter(username="theo").exists()


def test_a_code_used_twice_is_refused(campus_oidc):
    client = Client()
    start = client.get("/sso/oidc/login/")
    back = sign_in_at_provider(start["Location"], "amara", "amara-campus-pw")
    assert client.get(back.removeprefix("http://testserver")).status_code == 302
    again = Client().get(back.removeprefix("http://testserver"))
    assert again.status_code == 403
    assert "could not be trusted" in again.content.decode()


def id_token_for(provider, client, username, password):
    """An ID token the provider really issued to ``client`` (code flow with PKCE)."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import urlencode

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    redirect_uri = client["redirect_uris"][0]
    authorize = f"{provider.issuer}/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": redirect_uri,
            "scope": "openid profile email",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge.decode(),
            "code_challenge_method": "S256",
        }
    )
    back = sign_in_at_provider(authorize, username, password)
    code = parse_qs(urlsplit(back).query)["code"][0]
    tokens = requests.post(
        f"{provider.issuer}/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["id_token"]


def test_an_id_token_for_another_client_is_refused(campus_oidc, settings):
    other = {**OTHER_CLIENT, "redirect_uris": ["http://127.0.0.1/elsewhere/"]}
    token = id_token_for(campus_oidc, other, "amara", "amara-campus-pw")
    with pytest.raises(SuspiciousOperation, match="(?i)audience"):
        CampusOIDCBackend().verify_token(token, nonce="n")
    # The same token is good for the client it was issued to: only the audience is wrong.
    settings.CAMPUS_SIGN_IN["OIDC"]["CLIENT_ID"] = OTHER_CLIENT["client_id"]
    assert CampusOIDCBackend().verify_token(token, nonce="n")["aud"] == "course-reserves"


def test_an_id_token_from_another_issuer_is_refused(campus_oidc, settings):
    desk = {**DESK_CLIENT, "redirect_uris": ["http://testserver/sso/oidc/callback/"]}
    token = id_token_for(campus_oidc, desk, "amara", "amara-campus-pw")
    settings.CAMPUS_SIGN_IN["OIDC"]["ISSUER"] = "https://login.elsewhere.example"
    with pytest.raises(SuspiciousOperation, match="(?i)issuer"):
        CampusOIDCBackend().verify_token(token, nonce="n")
