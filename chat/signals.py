"""Sessions that end close their dashboard sockets within seconds.

These receivers are security plumbing (any code path that logs out, changes a
password or deactivates an account must be caught), not realtime features: they only
call chat.services.staff_sessions_end.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from chat import services

User = get_user_model()


@receiver(user_logged_in)
def follow_the_operators_language(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        from libdesk.i18n import remember_operator_language

        remember_operator_language(request, user)


@receiver(user_logged_out)
def end_socket_of_logged_out_session(sender, request, user, **kwargs):
    if user is not None and request is not None and request.session.session_key:
        services.staff_sessions_end(
            user_id=user.pk, reason="logout", session_key=request.session.session_key
        )


@receiver(pre_save, sender=User)
def remember_credentials_before_save(sender, instance, **kwargs):
    if instance.pk:
        before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
        instance._libdesk_before = before


@receiver(post_save, sender=User)
def end_sockets_when_credentials_change(sender, instance, created, **kwargs):
    before = getattr(instance, "_libdesk_before", None)
    if created or not before:
        return
    if before["password"] != instance.password:
        services.staff_sessions_end(user_id=instance.pk, reason="password_changed")
    elif before["is_active"] and not instance.is_active:
        services.staff_sessions_end(user_id=instance.pk, reason="deactivated")


CAMPUS_BACKENDS = {
    "chat.sign_in.ldap.CampusLDAPBackend": "ldap",
    "chat.sign_in.saml.CampusSaml2Backend": "saml",
    "chat.sign_in.oidc.CampusOIDCBackend": "oidc",
}


@receiver(user_logged_in)
def bound_campus_sessions(sender, request, user, **kwargs):
    """A desk session begun through the campus lasts CAMPUS_SESSION_SECONDS at most: then
    the identity provider is asked again (and refuses someone the campus disabled)."""
    from django.conf import settings

    from chat.sign_in import SESSION_PROVIDER

    provider = CAMPUS_BACKENDS.get(getattr(user, "backend", ""))
    if provider and request is not None:
        request.session[SESSION_PROVIDER] = provider
        request.session.set_expiry(settings.CAMPUS_SIGN_IN["SESSION_SECONDS"])
