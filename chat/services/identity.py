"""Staff accounts that follow the campus directory: the one write path for accounts that
sign in through LDAP, SAML 2.0 or OpenID Connect (chat.sign_in hands each verified
sign-in here).

A person's attributes (their campus groups, affiliations…) are matched against the
Desk admin's SignInMapping rows. The first allowed sign-in creates the user and the
Operator; every later one updates names, email, departments, roles and the Desk admin
group to what the campus says now. A person who matches no row any more (or whom the
campus disabled: chat.sign_in.ldap re-checks the directory) is deprovisioned: the account
is deactivated (which ends their sessions and closes their sockets, chat.signals), their
memberships and Desk admin group go. If the campus gives them access again, their next
sign-in brings the account back."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.exceptions import DeskError
from chat.models import CampusIdentity, Department, Membership, Operator, SignInMapping
from chat.services.departments import operator_save

DESK_ADMIN_GROUP = "Desk admin"  # chat migration 0003  # i18n: not user-facing (a group name)
USER_FIELD_LIMITS = {"username": 150, "first_name": 150, "last_name": 150, "email": 254}
SUBJECT_MAX = CampusIdentity._meta.get_field("subject").max_length


class SignInRefused(DeskError):
    """The identity provider vouched for the person, but the desk does not let them in."""

    code = "sign_in_refused"
    default_message = gettext_lazy("Your campus account has no access to the chat desk.")


@dataclass(frozen=True)
class CampusPerson:
    """What an identity provider says about the person signing in (already verified)."""

    provider: str  # chat.models.SignInProvider
    subject: str  # stable name at the provider: LDAP username, SAML NameID, OIDC sub
    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    # Attribute name → values; "groups" holds the person's campus groups.
    attributes: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Grants:
    memberships: dict[int, str]  # department pk → role
    desk_admin: bool

    @property
    def anything(self) -> bool:
        return bool(self.memberships) or self.desk_admin


def grants_for(person: CampusPerson) -> Grants:
    """What the mapping gives this person: every row whose attribute value they have.
    The stronger role wins where two rows name one department."""
    values = {
        name.casefold(): {str(value).casefold() for value in values}
        for name, values in person.attributes.items()
    }
    memberships: dict[int, str] = {}
    desk_admin = False
    for row in SignInMapping.objects.filter(provider__in=["", person.provider]):
        if row.value.casefold() not in values.get(row.attribute.casefold(), ()):
            continue
        desk_admin = desk_admin or row.desk_admin
        if row.department_id:
            if memberships.get(row.department_id) != Membership.Role.ADMIN:
                memberships[row.department_id] = row.role
    return Grants(memberships=memberships, desk_admin=desk_admin)


def staff_sign_in(*, person: CampusPerson):
    """The desk account for a person the identity provider has just vouched for,
    created or brought up to date; ``SignInRefused`` when the mapping gives them nothing
    (then the account, if there is one, is deprovisioned — committed before the refusal
    is raised) or when an admin deactivated the account by hand.

    Locks the person's CampusIdentity row, so two sign-ins at once make one account."""
    if not person.subject or len(person.subject) > SUBJECT_MAX or not person.username.strip():
        raise SignInRefused(_("The identity provider did not say who you are."), code="no_subject")
    person = replace(person, subject=storable(person.subject), username=storable(person.username))
    outcome = _provision(person)
    if isinstance(outcome, SignInRefused):
        raise outcome
    return outcome


@transaction.atomic
def _provision(person: CampusPerson):
    identity = (
        CampusIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=person.provider, subject=person.subject)
        .first()
    )
    grants = grants_for(person)
    if not grants.anything:
        if identity is not None:
            _deprovision(identity, reason="no mapped group")
        return SignInRefused()
    user = identity.user if identity else _account_for(person)
    if not user.is_active and not (identity and identity.deprovisioned_at):
        return SignInRefused(
            _("Your desk account has been deactivated by a desk administrator."),
            code="deactivated",
        )
    _update_user(user, person, grants)
    operator = Operator.objects.filter(user=user).first() or Operator(user=user)
    departments = Department.objects.in_bulk(list(grants.memberships))
    operator_save(
        operator=operator,
        memberships=[(departments[pk], role) for pk, role in sorted(grants.memberships.items())],
    )
    now = timezone.now()
    if identity is None:
        CampusIdentity.objects.create(
            user=user, provider=person.provider, subject=person.subject, last_sign_in_at=now
        )
    else:
        identity.last_sign_in_at, identity.deprovisioned_at = now, None
        identity.deprovision_reason = ""
        identity.save(update_fields=["last_sign_in_at", "deprovisioned_at", "deprovision_reason"])
    return user


def _account_for(person: CampusPerson):
    """A new account, or a local one of the same username that no identity provider
    owns yet (a library moving from desk passwords to campus sign-in). Superusers stay
    local (the break-glass account): the campus person gets a username of their own."""
    User = get_user_model()
    username = _clip(person.username.strip(), "username")
    existing = User.objects.filter(username=username).first()
    if existing is not None and not existing.is_superuser:
        if not CampusIdentity.objects.filter(user=existing).exists():
            # From now on the campus checks who this is: the desk password goes.
            existing.set_unusable_password()
            existing.save(update_fields=["password"])
            return existing
    if existing is not None:
        base, number = _clip(f"{username}.{person.provider}", "username"), 1
        username = base
        while User.objects.filter(username=username).exists():
            number += 1
            username = f"{base[: USER_FIELD_LIMITS['username'] - 4]}.{number}"
    user = User(username=username, is_staff=True)
    user.set_unusable_password()
    user.save()
    return user


def storable(text) -> str:
    """An identity provider's text as the database can keep it: a JSON claim may carry
    a lone surrogate (not UTF-8) or a NUL (PostgreSQL refuses it in text)."""
    text = str(text or "").replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def _clip(text, field_name):
    return storable(text)[: USER_FIELD_LIMITS[field_name]]


def _update_user(user, person: CampusPerson, grants: Grants) -> None:
    user.first_name = _clip(person.first_name, "first_name")
    user.last_name = _clip(person.last_name, "last_name")
    user.email = _clip(person.email, "email")
    user.is_active = True
    user.is_staff = True  # the Chat Dashboard is for staff
    user.save(update_fields=["first_name", "last_name", "email", "is_active", "is_staff"])
    desk_admins = Group.objects.filter(name=DESK_ADMIN_GROUP).first()
    if desk_admins is not None:
        if grants.desk_admin:
            user.groups.add(desk_admins)
        else:
            user.groups.remove(desk_admins)


@transaction.atomic
def staff_deprovision(*, provider: str, subject: str, reason: str) -> bool:
    """The campus took the desk away from this person (account disabled or gone, no
    mapped group): deactivate the account — their sessions end and their sockets close
    (chat.signals) — and remove their departments and Desk admin group. False if the
    desk does not know them or they were deprovisioned already."""
    identity = (
        CampusIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, subject=subject)
        .first()
    )
    if identity is None or identity.deprovisioned_at:
        return False
    _deprovision(identity, reason=reason)
    return True


def _deprovision(identity: CampusIdentity, *, reason: str) -> None:
    user = identity.user
    if user.is_superuser:  # never lock out the break-glass account through the campus
        return
    operator = Operator.objects.filter(user=user).first()
    if operator is not None:
        operator_save(operator=operator, memberships=[])
    user.groups.remove(*Group.objects.filter(name=DESK_ADMIN_GROUP))
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])  # chat.signals ends every session
    identity.deprovisioned_at = timezone.now()
    identity.deprovision_reason = reason[:200]
    identity.save(update_fields=["deprovisioned_at", "deprovision_reason"])


# --- The mapping, as the Desk admin keeps it (/admin/) -----------------------------------


@transaction.atomic
def sign_in_mapping_save(*, mapping: SignInMapping) -> SignInMapping:
    """Create or change a mapping row. It counts from each person's next sign-in (and,
    for LDAP, the next directory re-check)."""
    from chat.services.departments import _full_clean

    _full_clean(mapping)
    mapping.save()
    return mapping


@transaction.atomic
def sign_in_mapping_delete(*, mapping: SignInMapping) -> None:
    SignInMapping.objects.filter(pk=mapping.pk).delete()
