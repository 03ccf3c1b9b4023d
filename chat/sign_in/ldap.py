"""LDAP and Active Directory sign-in (django-auth-ldap): the person types their campus
username and password into the desk's login form; the directory checks the password
(a disabled or locked account fails its bind) and says who they are and which groups
they are in. The desk account comes from chat.services.identity, not from
django-auth-ldap's own user saving.

``recheck_directory`` asks the directory again about everyone who signed in through it,
every CAMPUS_RECHECK_SECONDS (celery beat, or ``manage.py campus_recheck`` from cron): a
person disabled or removed from their mapped groups in the meantime is deprovisioned, and
their open desk sessions end then — not only at their next sign-in."""

import logging

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    LDAPSettings,
    NestedActiveDirectoryGroupType,
    PosixGroupType,
)

from chat.models import CampusIdentity, SignInProvider
from chat.services import identity
from chat.sign_in import ActiveUsersOnly, ldap_enabled

logger = logging.getLogger(__name__)
PROVIDER = SignInProvider.LDAP
GROUP_TYPES = {
    "groupOfNames": GroupOfNamesType,
    "groupOfUniqueNames": GroupOfUniqueNamesType,
    "posixGroup": PosixGroupType,
    "activeDirectory": ActiveDirectoryGroupType,
    "nestedActiveDirectory": NestedActiveDirectoryGroupType,
}


def _first(attrs, name):
    values = attrs.get(name) or [""] if name else [""]
    return values[0]


class CampusLDAPBackend(ActiveUsersOnly, LDAPBackend):
    """django-auth-ldap configured from CAMPUS_SIGN_IN["LDAP"] (not AUTH_LDAP_* settings),
    and provisioning through the desk's service. Does nothing when LDAP is not set up."""

    @property
    def settings(self):
        if self._settings is None:
            self._settings = LDAPSettings(self.settings_prefix, self.default_settings)
            self._settings.__dict__.update(ldap_settings())
        return self._settings

    @settings.setter
    def settings(self, value):
        self._settings = value

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not ldap_enabled() or not username or not password:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username, ldap_user):
        """Called once the directory has vouched for the person (their bind succeeded, or
        a re-check found them): the desk account, through the one write path."""
        conf = settings.CAMPUS_SIGN_IN["LDAP"]
        attrs = ldap_user.attrs
        attributes = {name: list(values) for name, values in attrs.items()}
        attributes["groups"] = sorted(ldap_user.group_names)
        person = identity.CampusPerson(
            provider=PROVIDER,
            subject=username.lower(),
            username=username.lower(),
            first_name=_first(attrs, conf["ATTR_FIRST_NAME"]),
            last_name=_first(attrs, conf["ATTR_LAST_NAME"]),
            email=_first(attrs, conf["ATTR_EMAIL"]),
            attributes=attributes,
        )
        try:
            user = identity.staff_sign_in(person=person)
        except identity.SignInRefused as refusal:
            raise ldap_user.AuthenticationFailed(refusal.message) from None
        return user, False


def ldap_settings() -> dict:
    """django-auth-ldap's settings (its names, without AUTH_LDAP_) from the environment's."""
    conf = settings.CAMPUS_SIGN_IN["LDAP"]
    group_type = GROUP_TYPES[conf["GROUP_TYPE"]]
    return {
        "SERVER_URI": conf["SERVER_URI"],
        "BIND_DN": conf["BIND_DN"],
        "BIND_PASSWORD": conf["BIND_PASSWORD"],
        "START_TLS": conf["START_TLS"],
        # The password policy's lock is an operational attribute: asked for by name.
        "USER_SEARCH": LDAPSearch(
            conf["USER_BASE"],
            ldap.SCOPE_SUBTREE,
            conf["USER_FILTER"],
            attrlist=["*", "pwdAccountLockedTime"],
        ),
        "GROUP_SEARCH": LDAPSearch(
            conf["GROUP_BASE"] or conf["USER_BASE"], ldap.SCOPE_SUBTREE, conf["GROUP_FILTER"]
        ),
        "GROUP_TYPE": group_type(),
        "USER_ATTRLIST": ["*", "pwdAccountLockedTime"],
        "ALWAYS_UPDATE_USER": False,  # the service updates the account, every sign-in
        "USER_ATTR_MAP": {},
        "CACHE_TIMEOUT": 0,  # a group removal counts from the next sign-in or re-check
        "CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: conf["TIMEOUT"],
            ldap.OPT_TIMEOUT: conf["TIMEOUT"],
            ldap.OPT_REFERRALS: 0,
        },
    }


def recheck_directory() -> dict:
    """Ask the directory about every active account that signs in through it: the
    ones it no longer knows or that no mapped group holds any more are deprovisioned
    (their sessions end and their sockets close); the others get their names and
    memberships brought up to date. A directory that cannot be reached changes nobody."""
    if not ldap_enabled():
        return {"checked": 0, "deprovisioned": 0}
    backend = CampusLDAPBackend()
    checked = deprovisioned = 0
    identities = CampusIdentity.objects.filter(
        provider=PROVIDER, deprovisioned_at__isnull=True, user__is_active=True
    ).values_list("subject", flat=True)
    for subject in list(identities):
        checked += 1
        try:
            found = _still_allowed(backend, subject)
        except ldap.LDAPError as error:
            logger.warning("LDAP re-check stopped: the directory failed (%s)", error)
            break
        if found:
            continue
        # Refused by the mapping: the service has deprovisioned them already.
        identity.staff_deprovision(
            provider=PROVIDER, subject=subject, reason="disabled or gone in the directory"
        )
        deprovisioned += 1
    return {"checked": checked, "deprovisioned": deprovisioned}


def _still_allowed(backend, subject) -> bool:
    """Whether the directory still finds this person (as the user search defines,
    e.g. not disabled) and the mapping still lets them in (the service deprovisions
    them itself otherwise). A locked account (password policy) is not allowed."""
    from django_auth_ldap.backend import _LDAPUser

    ldap_user = _LDAPUser(backend, username=subject)
    if ldap_user.attrs is None:  # gone, or filtered out by the user search
        return False
    if ldap_user.attrs.get("pwdaccountlockedtime"):
        return False
    try:
        backend.get_or_build_user(subject, ldap_user)
    except ldap_user.AuthenticationFailed:
        return False
    return True
