"""Refused campus sign-ins count as failed logins (django-axes), so a stream of forged or
replayed assertions from one address is locked out like a stream of bad passwords.

Axes locks out a username at an address; a refused assertion may name nobody we can
trust, so the "username" counted is the provider's ("saml sign-in")."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

# What the failure page says, by what went wrong (the log has the details).
REASONS = {
    "invalid": _(
        "The answer from the campus sign-in could not be trusted: it was not signed, its "
        "signature did not match, it had expired, it had been used before or it was meant "
        "for another service."
    ),
    "no_access": _(
        "Your campus account has no access to the chat desk. If you work at the desk, ask "
        "the desk administrator to add your campus group."
    ),
    "deactivated": _("Your desk account has been deactivated by a desk administrator."),
    "cancelled": _("The sign-in was cancelled or refused at the campus sign-in page."),
    "locked_out": _(
        "Too many failed sign-in attempts from your address. Please wait a few minutes and "
        "try again."
    ),
}


def credentials(provider: str) -> dict:
    return {"username": f"{provider} sign-in"}


def locked_out(request, provider: str) -> bool:
    return AxesProxyHandler.is_locked(request, credentials(provider))


def refused(request, provider: str, *, reason: str, name: str, status: int = 403):
    """The clear page for a refused sign-in. An answer that could not be trusted counts
    as a failed login; a person the desk does not let in is not an attack."""
    if reason == "invalid":
        user_login_failed.send(sender=__name__, credentials=credentials(provider), request=request)
    return render(
        request,
        "registration/sign_in_refused.html",
        {"provider_name": name, "reason": REASONS[reason], "reason_code": reason},
        status=429 if reason == "locked_out" else status,
    )


def before_sign_in(request, provider: str, *, enabled: bool, name: str):
    """The refusal page when this provider is off or the address is locked out; None
    when the sign-in may go on."""
    if not enabled:
        return refused(request, provider, reason="cancelled", name=name, status=404)
    if locked_out(request, provider):
        return refused(request, provider, reason="locked_out", name=name)
    return None
