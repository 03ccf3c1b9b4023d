"""SAML 2.0 sign-in (djangosaml2 on pysaml2, xmlsec1 checks the signatures): the desk is
a service provider; "Sign in with …" sends an AuthnRequest to the campus IdP, whose
signed assertion comes back to the ACS. Unsigned or wrongly signed assertions, expired
ones, replays (no outstanding request of this browser) and assertions for another
audience are refused by pysaml2; the refusal page is ours (chat.sign_in.throttle).

The configuration is built per request from CAMPUS_SIGN_IN["SAML"], with the ACS and
logout URLs from the request (request.build_absolute_uri: behind the production proxy
SECURE_PROXY_SSL_HEADER makes them https)."""

import logging

import saml2
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from djangosaml2 import views as saml_views
from djangosaml2.backends import Saml2Backend
from saml2.config import SPConfig
from saml2.response import StatusAuthnFailed, StatusRequestDenied
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT

from chat.models import SignInProvider
from chat.services import identity
from chat.sign_in import SESSION_PROVIDER, ActiveUsersOnly, saml_enabled, throttle

logger = logging.getLogger(__name__)
PROVIDER = SignInProvider.SAML


def entity_id() -> str:
    conf = settings.CAMPUS_SIGN_IN["SAML"]
    return conf["SP_ENTITY_ID"] or f"{settings.LIBDESK_PUBLIC_URL}/sso/saml/metadata/"


def sp_config(request=None) -> SPConfig:
    """djangosaml2's SAML_CONFIG_LOADER: the service provider, as this request reaches it."""
    conf = settings.CAMPUS_SIGN_IN["SAML"]

    def url(name):
        path = reverse(name)
        return request.build_absolute_uri(path) if request else settings.LIBDESK_PUBLIC_URL + path

    metadata = {}
    if conf["IDP_METADATA_URL"]:
        metadata["remote"] = [{"url": conf["IDP_METADATA_URL"]}]
    if conf["IDP_METADATA_FILE"]:
        metadata["local"] = [conf["IDP_METADATA_FILE"]]
    signing = bool(conf["SP_KEY_FILE"] and conf["SP_CERT_FILE"])
    config = {
        "entityid": entity_id(),
        "xmlsec_binary": conf["XMLSEC_BINARY"],
        "allow_unknown_attributes": True,
        "accepted_time_diff": 60,
        "service": {
            "sp": {
                "name": f"LibDesk · {settings.LIBRARY_NAME}",
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                "endpoints": {
                    "assertion_consumer_service": [(url("saml2_acs"), saml2.BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (url("saml2_ls"), saml2.BINDING_HTTP_REDIRECT),
                        (url("saml2_ls_post"), saml2.BINDING_HTTP_POST),
                    ],
                },
                "allow_unsolicited": False,  # a response must answer this browser's request
                "want_assertions_signed": True,
                "want_response_signed": False,  # most IdPs sign the assertion alone
                "only_use_keys_in_metadata": True,
                "authn_requests_signed": signing,
                "logout_requests_signed": signing,
                "force_authn": False,
            }
        },
        "metadata": metadata,
    }
    if signing:
        config["key_file"], config["cert_file"] = conf["SP_KEY_FILE"], conf["SP_CERT_FILE"]
        config["encryption_keypairs"] = [
            {"key_file": conf["SP_KEY_FILE"], "cert_file": conf["SP_CERT_FILE"]}
        ]
    sp = SPConfig()
    sp.load(config)
    return sp


def _one(ava, name) -> str:
    values = ava.get(name) or []
    return str(values[0]) if values else ""


class CampusSaml2Backend(ActiveUsersOnly, Saml2Backend):
    """A verified assertion → the desk account, through the one write path."""

    def authenticate(self, request, session_info=None, assertion_info=None, **kwargs):
        if not saml_enabled() or not session_info or "ava" not in session_info:
            return None
        conf = settings.CAMPUS_SIGN_IN["SAML"]
        ava = session_info["ava"]
        name_id = session_info.get("name_id")
        username = _one(ava, conf["ATTR_USERNAME"])
        transient = name_id is None or name_id.format == NAMEID_FORMAT_TRANSIENT
        attributes = {name: [str(v) for v in values] for name, values in ava.items()}
        attributes["groups"] = attributes.get(conf["ATTR_GROUPS"], [])
        person = identity.CampusPerson(
            provider=PROVIDER,
            subject=username if transient else str(name_id.text),
            username=username or ("" if transient else str(name_id.text)),
            first_name=_one(ava, conf["ATTR_FIRST_NAME"]),
            last_name=_one(ava, conf["ATTR_LAST_NAME"]),
            email=_one(ava, conf["ATTR_EMAIL"]),
            attributes=attributes,
        )
        try:
            return identity.staff_sign_in(person=person)
        except identity.SignInRefused as refusal:
            request.libdesk_refusal = refusal
            return None


def _name():
    return settings.CAMPUS_SIGN_IN["SAML"]["NAME"]


class SamlLoginView(saml_views.LoginView):
    """ "Sign in with …": the AuthnRequest to the IdP (unless this address is locked out)."""

    def get(self, request, *args, **kwargs):
        refusal = throttle.before_sign_in(request, PROVIDER, enabled=saml_enabled(), name=_name())
        return refusal or super().get(request, *args, **kwargs)


class SamlAcsView(saml_views.AssertionConsumerServiceView):
    """The IdP's answer: signed in, or a clear page saying why not."""

    def post(self, request, *args, **kwargs):
        refusal = throttle.before_sign_in(request, PROVIDER, enabled=saml_enabled(), name=_name())
        return refusal or super().post(request, *args, **kwargs)

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        refusal = getattr(request, "libdesk_refusal", None)
        if refusal is not None and isinstance(exception, PermissionDenied):
            reason = "deactivated" if refusal.code == "deactivated" else "no_access"
        elif isinstance(exception, StatusAuthnFailed | StatusRequestDenied):
            reason = "cancelled"
        else:
            reason = "invalid"
        logger.warning("SAML sign-in refused (%s): %r", reason, exception)
        return throttle.refused(request, PROVIDER, reason=reason, name=_name(), status=403)

    def customize_session(self, user, session_info):
        self.request.session[SESSION_PROVIDER] = PROVIDER


def logout_response(request):
    """Sign out at the IdP too (SAML single logout), when it offers it: djangosaml2's
    logout request, after ending the desk session. None when the IdP has no single
    logout (the caller then ends the desk session alone)."""
    view = saml_views.LogoutInitView()
    view.setup(request)
    try:
        response = view.get(request)
    except Exception:  # an IdP without single logout, or its metadata unreachable
        logger.warning("SAML single logout failed; ending the desk session only", exc_info=True)
        return None
    if response.status_code >= 400:
        return None
    return response
