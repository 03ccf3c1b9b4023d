"""Logging out: the desk session ends (its sockets close, chat.signals), and the browser
goes on to sign out at the identity provider where it offers single logout.

The browser goes on from a page of ours (a meta refresh and a link), not by a redirect
of the Log out form: the desk's Content-Security-Policy (form-action 'self') stops a form
whose answer redirects to another site."""

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.shortcuts import render

from chat.models import SignInProvider
from chat.sign_in import SESSION_PROVIDER, oidc, saml


class DeskLogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        provider = request.session.get(SESSION_PROVIDER)
        if provider == SignInProvider.SAML and request.user.is_authenticated:
            response = saml.logout_response(request)  # ends the desk session first
            if request.user.is_authenticated:
                auth.logout(request)
            if response is not None and response.has_header("Location"):
                return _continue_at(
                    request, response["Location"], settings.CAMPUS_SIGN_IN["SAML"]["NAME"]
                )
            if response is not None:
                return response
        elif provider == SignInProvider.OIDC and request.user.is_authenticated:
            at_provider = oidc.logout_url(request)
            auth.logout(request)
            if at_provider:
                return _continue_at(request, at_provider, settings.CAMPUS_SIGN_IN["OIDC"]["NAME"])
        return super().post(request, *args, **kwargs)


def _continue_at(request, url, provider_name):
    return render(
        request, "registration/signing_out.html", {"url": url, "provider_name": provider_name}
    )
