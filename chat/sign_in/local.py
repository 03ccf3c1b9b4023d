"""Desk passwords (Django's own accounts), and the login page that offers the campus
sign-in beside them.

With LOCAL_LOGIN=superusers only superusers (the break-glass account) sign in with a desk
password; everyone else is refused with a page that says where to sign in instead. The
same form also takes campus usernames and passwords when LDAP is set up."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from chat import sign_in
from libdesk.i18n import alternatives


class LocalPasswordGate:
    """Before ModelBackend (AUTHENTICATION_BACKENDS): with LOCAL_LOGIN=superusers, a desk
    password of an account that is not a superuser ends the attempt (PermissionDenied:
    Django stops there and counts a failed login). Accounts without a desk password
    (campus accounts) pass on to LDAP. No ``get_user``: sessions never name this gate."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if sign_in.local_login_for_everyone() or username is None or password is None:
            return None
        User = get_user_model()
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is not None and user.has_usable_password() and not user.is_superuser:
            raise PermissionDenied(
                "Desk passwords are turned off for this account."  # i18n: not user-facing
            )
        return None


def login_page_notice() -> str:
    """What the form is for, when desk passwords are not for everyone."""
    if sign_in.local_login_for_everyone():
        return ""
    if sign_in.ldap_enabled():
        return _("Use your campus username and password.")
    return _(
        "Desk passwords are turned off: staff sign in with the campus sign-in above. "
        "The form below is for the emergency administrator account only."
    )


class DeskAuthenticationForm(AuthenticationForm):
    def get_invalid_login_error(self):
        if sign_in.local_login_for_everyone():
            return super().get_invalid_login_error()
        campus = [p["name"] for p in sign_in.redirect_providers()]
        if sign_in.ldap_enabled():
            message = _(
                "That username and password did not match a campus account. Desk passwords "
                "are turned off for staff accounts."
            )
        else:
            message = _(
                "That username and password did not match a emergency administrator "
                "account. Desk passwords are turned off for staff accounts."
            )
        if campus:
            where = _("Sign in with %(providers)s instead.") % {"providers": alternatives(campus)}
            message = f"{message} {where}"
        return forms.ValidationError(message, code="invalid_login")


class DeskLoginView(auth_views.LoginView):
    form_class = DeskAuthenticationForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["campus_providers"] = sign_in.redirect_providers(self.get_redirect_url())
        context["ldap_enabled"] = sign_in.ldap_enabled()
        context["local_login_notice"] = login_page_notice()
        context["library_name"] = settings.LIBRARY_NAME
        return context
