"""Staff sign-in with the campus identity: LDAP / Active Directory (django-auth-ldap),
SAML 2.0 (djangosaml2 on pysaml2) and OpenID Connect (mozilla-django-oidc), each
configured from the environment (libdesk.settings, "Campus sign-in") and inert when it
is not. Every provider hands what it verified to chat.services.identity.staff_sign_in,
the one place that creates and updates desk accounts from the campus."""

from importlib.util import find_spec
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

# The session remembers which provider signed the person in (logout at that provider).
SESSION_PROVIDER = "libdesk_campus_provider"


def ldap_enabled() -> bool:
    """Configured, and django-auth-ldap installed (the "ldap" extra)."""
    return bool(settings.CAMPUS_SIGN_IN["LDAP"]["SERVER_URI"]) and bool(
        find_spec("django_auth_ldap")
    )


def saml_enabled() -> bool:
    saml = settings.CAMPUS_SIGN_IN["SAML"]
    return bool(saml["IDP_METADATA_URL"] or saml["IDP_METADATA_FILE"])


def oidc_enabled() -> bool:
    return bool(settings.CAMPUS_SIGN_IN["OIDC"]["CLIENT_ID"])


def local_login_for_everyone() -> bool:
    return settings.CAMPUS_SIGN_IN["LOCAL_LOGIN"] != "superusers"


def redirect_providers(next_url: str = "") -> list[dict]:
    """The "Sign in with …" buttons of the login page (LDAP uses the page's own form)."""
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    buttons = []
    if saml_enabled():
        name = settings.CAMPUS_SIGN_IN["SAML"]["NAME"]
        buttons.append({"key": "saml", "name": name, "url": reverse("saml2_login") + query})
    if oidc_enabled():
        name = settings.CAMPUS_SIGN_IN["OIDC"]["NAME"]
        buttons.append(
            {"key": "oidc", "name": name, "url": reverse("oidc_authentication_init") + query}
        )
    return buttons


class ActiveUsersOnly:
    """An authentication backend mixin: a session of a deactivated (deprovisioned)
    account is no session. django-auth-ldap's and mozilla-django-oidc's ``get_user``
    do not look."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None
