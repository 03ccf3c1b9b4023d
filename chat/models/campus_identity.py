"""Staff who sign in with the campus identity (LDAP, SAML 2.0, OpenID Connect): which
campus groups give which desk access (SignInMapping, kept by the Desk admin in /admin/),
and who came from which identity provider (CampusIdentity).

Re-exported by chat.models; nobody saves these but chat.services.identity."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SignInProvider(models.TextChoices):
    LDAP = "ldap", _("LDAP / Active Directory")
    SAML = "saml", _("SAML 2.0")
    OIDC = "oidc", _("OpenID Connect")


class SignInMapping(models.Model):
    """One campus group (or other attribute value) → a department and role, and/or the
    Desk admin group. A person signing in gets every row their attributes match; one who
    matches none has no access to the desk."""

    provider = models.CharField(
        max_length=8,
        choices=SignInProvider.choices,
        blank=True,
        help_text=_("Only people signing in through this provider. Empty: any provider."),
    )
    attribute = models.CharField(
        max_length=120,
        default="groups",
        help_text=_(
            "The attribute compared: 'groups' (the person's campus groups) or another "
            "attribute or claim the identity provider sends (e.g. eduPersonAffiliation)."
        ),
    )
    value = models.CharField(
        max_length=300,
        help_text=_(
            "The group's name or the attribute's value, as the identity provider "
            "sends it (compared without regard to case)."
        ),
    )
    department = models.ForeignKey(
        "chat.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sign_in_mappings",
    )
    role = models.CharField(
        max_length=10,
        choices=[("operator", _("Operator")), ("admin", _("Department admin"))],
        default="operator",
        help_text=_("The role in that department."),
    )
    desk_admin = models.BooleanField(
        default=False, help_text=_("Members are also put in the Desk admin group.")
    )

    class Meta:
        verbose_name = _("sign-in mapping")
        verbose_name_plural = _("sign-in mappings")
        ordering = ["attribute", "value", "pk"]
        constraints = [
            models.CheckConstraint(
                name="sign_in_mapping_grants_something",
                condition=Q(department__isnull=False) | Q(desk_admin=True),
            )
        ]

    def __str__(self):
        grants = [self.department.name] if self.department_id else []
        if self.desk_admin:
            grants.append(str(_("Desk admin")))
        return f"{self.attribute} = {self.value} → {' + '.join(grants)}"


class CampusIdentity(models.Model):
    """A person as an identity provider names them (``subject``: the LDAP username, the
    SAML NameID, the OpenID Connect ``sub``), linked to their desk account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campus_identities"
    )
    provider = models.CharField(max_length=8, choices=SignInProvider.choices)
    subject = models.CharField(max_length=300)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # Set when the campus took the desk away (no mapped group any more, account disabled
    # or gone): the account is deactivated, and a later sign-in that is allowed again
    # reactivates it. An account an admin deactivated by hand stays deactivated.
    deprovisioned_at = models.DateTimeField(null=True, blank=True)
    deprovision_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("campus identity")
        verbose_name_plural = _("campus identities")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="campus_identity_unique_subject"
            )
        ]

    def __str__(self):
        return f"{self.get_provider_display()}: {self.subject}"
