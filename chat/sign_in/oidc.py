"""OpenID Connect sign-in (mozilla-django-oidc): the authorization code flow with PKCE
(S256), state and nonce; the ID token's signature is checked against the provider's
published keys (JWKS), and — which mozilla-django-oidc leaves to its users — its
audience (our client id), issuer and expiry too. The desk account comes from
chat.services.identity."""

import logging

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from chat.models import SignInProvider
from chat.services import identity
from chat.sign_in import SESSION_PROVIDER, ActiveUsersOnly, oidc_enabled, throttle

logger = logging.getLogger(__name__)
PROVIDER = SignInProvider.OIDC
# mozilla-django-oidc's setting names → ours (CAMPUS_SIGN_IN["OIDC"]).
SETTING_NAMES = {
    "OIDC_RP_CLIENT_ID": "CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET": "CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT": "TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT": "USERINFO_ENDPOINT",
    "OIDC_OP_JWKS_ENDPOINT": "JWKS_ENDPOINT",
    "OIDC_RP_SIGN_ALGO": "SIGN_ALGO",
    "OIDC_RP_SCOPES": "SCOPES",
}


def oidc_setting(attr, *default):
    if attr in SETTING_NAMES:
        return settings.CAMPUS_SIGN_IN["OIDC"][SETTING_NAMES[attr]]
    return import_from_settings(attr, *default)


class CampusOIDCBackend(ActiveUsersOnly, OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def authenticate(self, request, **kwargs):
        if not oidc_enabled() or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        """The signature (as mozilla-django-oidc checks it) and the claims it leaves
        alone: a token for another client, from another issuer, or expired, is refused."""
        algorithm = jwt.get_unverified_header(payload).get("alg")
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(
                "The ID token's algorithm is not the one configured."  # i18n: not user-facing
            )
        issuer = settings.CAMPUS_SIGN_IN["OIDC"]["ISSUER"] or None
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=issuer,
                options={"require": ["exp", "iat", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from None

    def get_or_create_user(self, access_token, id_token, payload):
        """The verified ID token's claims (with the userinfo endpoint's) → the desk
        account, through the one write path."""
        claims = {**self.get_userinfo(access_token, id_token, payload), **payload}
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation(
                "The userinfo answer is about someone else."  # i18n: not user-facing
            )
        conf = settings.CAMPUS_SIGN_IN["OIDC"]
        attributes = {
            name: value if isinstance(value, list) else [value]
            for name, value in claims.items()
            if isinstance(value, str | list)
        }
        attributes["groups"] = [str(g) for g in _as_list(claims.get(conf["ATTR_GROUPS"]))]
        person = identity.CampusPerson(
            provider=PROVIDER,
            subject=str(payload["sub"]),
            username=str(claims.get(conf["ATTR_USERNAME"]) or claims.get("email") or ""),
            first_name=str(claims.get("given_name") or ""),
            last_name=str(claims.get("family_name") or ""),
            email=str(claims.get("email") or ""),
            attributes=attributes,
        )
        try:
            return identity.staff_sign_in(person=person)
        except identity.SignInRefused as refusal:
            self.request.libdesk_refusal = refusal
            return None


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class OIDCStartView(OIDCAuthenticationRequestView):
    """ "Sign in with …": off to the provider (unless this address is locked out)."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        name = settings.CAMPUS_SIGN_IN["OIDC"]["NAME"]
        refusal = throttle.before_sign_in(request, PROVIDER, enabled=oidc_enabled(), name=name)
        return refusal or super().get(request)


class OIDCCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: signed in, or a clear page saying why not."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        name = settings.CAMPUS_SIGN_IN["OIDC"]["NAME"]
        refusal = throttle.before_sign_in(request, PROVIDER, enabled=oidc_enabled(), name=name)
        if refusal:
            return refusal
        try:
            response = super().get(request)
        except (SuspiciousOperation, requests.RequestException) as error:
            logger.warning("OpenID Connect sign-in refused: %s", error)
            return throttle.refused(request, PROVIDER, reason="invalid", name=name)
        if request.user.is_authenticated and getattr(self, "user", None) == request.user:
            request.session[SESSION_PROVIDER] = PROVIDER
            return response
        refusal = getattr(request, "libdesk_refusal", None)
        if refusal is not None:
            reason = "deactivated" if refusal.code == "deactivated" else "no_access"
        elif request.GET.get("error"):
            reason = "cancelled"
        else:
            reason = "invalid"
        return throttle.refused(request, PROVIDER, reason=reason, name=name)


def logout_url(request) -> str:
    """Where to send the browser to sign out at the provider too (RP-initiated logout),
    or "" when it publishes no end-session endpoint. Read before the session ends."""
    endpoint = settings.CAMPUS_SIGN_IN["OIDC"]["END_SESSION_ENDPOINT"]
    if not endpoint:
        return ""
    from urllib.parse import urlencode

    from django.urls import reverse

    query = {
        "client_id": settings.CAMPUS_SIGN_IN["OIDC"]["CLIENT_ID"],
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    if request.session.get("oidc_id_token"):
        query["id_token_hint"] = request.session["oidc_id_token"]
    return f"{endpoint}?{urlencode(query)}"
