"""The operator's own language (issue 19): the Language menu keeps the choice on their
record (mail to them is written in it); lists of alternatives joined in the reader's
language; the page for an address too long in the reader's language."""

import copy

import pytest
from django.test import Client
from django.utils import translation

from chat.models import Operator
from libdesk.i18n import alternatives
from tests.factories import DepartmentFactory, UserFactory, named_operator

pytestmark = pytest.mark.django_db


def _choose(client, language):
    return client.post("/i18n/language", {"language": language, "next": "/tickets/"})


def test_the_language_menu_keeps_an_operators_choice_on_their_record():
    carmen = named_operator("carmen", [DepartmentFactory()])
    client = Client()
    client.force_login(carmen.user)
    assert Operator.objects.get(pk=carmen.pk).language == ""  # never chosen

    response = _choose(client, "es")
    assert response.status_code == 302 and response["Location"] == "/tickets/"
    assert response.cookies["libdesk_language"].value == "es"  # the interface follows it
    assert Operator.objects.get(pk=carmen.pk).language == "es"  # and so does their mail

    _choose(client, "en")
    assert Operator.objects.get(pk=carmen.pk).language == "en"


def test_a_language_the_desk_does_not_ship_changes_nothing():
    carmen = named_operator("carmen", [DepartmentFactory()])
    client = Client()
    client.force_login(carmen.user)
    _choose(client, "es")
    _choose(client, "fr")
    _choose(client, "<script>")
    assert Operator.objects.get(pk=carmen.pk).language == "es"


def _log_in_on_a_new_browser(username, **headers):
    browser = Client(**headers)
    response = browser.post("/accounts/login/", {"username": username, "password": "pw-for-tests"})
    assert response.status_code == 302, response.content[:500]
    return browser


def test_a_new_browser_speaks_the_language_the_operator_chose_elsewhere():
    carmen = named_operator("carmen", [DepartmentFactory()])
    _choose(_log_in_on_a_new_browser("carmen"), "es")  # chosen on her desk's browser

    laptop = _log_in_on_a_new_browser("carmen", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = laptop.get("/tickets/")
    html = page.content.decode()
    assert '<html lang="es" dir="ltr">' in html
    assert "Cerrar la sesión de Carmen" in html
    assert page.cookies["libdesk_language"].value == "es"  # and the dashboard's socket follows
    assert "Cerrar la sesión de Carmen" in laptop.get("/tickets/").content.decode()

    _choose(laptop, "en")  # this browser's own choice wins from now on, here and on her record
    assert "Log out Carmen" in laptop.get("/tickets/").content.decode()
    assert Operator.objects.get(pk=carmen.pk).language == "en"


def test_an_operator_who_never_chose_follows_the_browser():
    named_operator("diego", [DepartmentFactory()])
    laptop = _log_in_on_a_new_browser("diego", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    page = laptop.get("/tickets/")
    assert "Cerrar la sesión de Diego" in page.content.decode()
    assert "libdesk_language" not in page.cookies  # nothing chosen, nothing set

    english = _log_in_on_a_new_browser("diego", HTTP_ACCEPT_LANGUAGE="en")
    assert "Log out Diego" in english.get("/tickets/").content.decode()


def test_a_user_who_is_no_operator_still_gets_the_cookie():
    client = Client()
    client.force_login(UserFactory(username="clerk"))
    assert _choose(client, "ar").cookies["libdesk_language"].value == "ar"
    assert not Operator.objects.exists()
    assert _choose(Client(), "es").cookies["libdesk_language"].value == "es"  # signed out


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", ["", "SSO", "SSO or LDAP", "SSO, LDAP or Google"]),
        ("es", ["", "SSO", "SSO o LDAP", "SSO, LDAP o Google"]),
        ("ar", ["", "SSO", "SSO أو LDAP", "SSO، LDAP أو Google"]),
    ],
)
def test_alternatives_are_joined_in_the_readers_language(language, expected):
    names = ["SSO", "LDAP", "Google"]
    with translation.override(language):
        assert [alternatives(names[:n]) for n in range(4)] == expected


def test_the_login_page_names_the_campus_sign_ins_in_spanish(settings):
    conf = copy.deepcopy(settings.CAMPUS_SIGN_IN)
    conf["LOCAL_LOGIN"] = "superusers"
    conf["SAML"].update(IDP_METADATA_FILE="/dev/null", NAME="Campus SSO")
    conf["OIDC"].update(CLIENT_ID="desk", NAME="Google")
    settings.CAMPUS_SIGN_IN = conf
    named_operator("sam")
    response = Client().post(
        "/accounts/login/",
        {"username": "sam", "password": "pw-for-tests"},
        HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9",
    )
    assert "Inicie sesión con Campus SSO o Google." in response.content.decode()


def test_an_address_too_long_is_answered_in_the_readers_language(settings):
    long_address = "/tickets/?q=" + "x" * (settings.LIBDESK["MAX_URL_BYTES"] + 1)
    response = Client().get(long_address, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 414
    page = response.content.decode()
    assert response["Content-Language"] == "es"
    assert '<html lang="es" dir="ltr">' in page
    assert "<h1>Esa dirección es demasiado larga</h1>" in page

    client = Client()
    client.cookies["libdesk_language"] = "ar"  # the staff's own choice wins
    page = client.get(long_address, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="ar" dir="rtl">' in page and "<h1>هذا العنوان طويل جدًا</h1>" in page

    page = Client().get(long_address).content.decode()
    assert '<html lang="en" dir="ltr">' in page and "<h1>That address is too long</h1>" in page
