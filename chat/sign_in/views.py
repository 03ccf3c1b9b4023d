"""Logging out: the desk session ends (its sockets close, chat.signals), and the browser
goes on to sign out at the identity provider where it offers single logout."""

from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from chat.models import SignInProvider
from chat.sign_in import SESSION_PROVIDER, oidc, saml


class DeskLogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        provider = request.session.get(SESSION_PROVIDER)
        if provider == SignInProvider.SAML and request.user.is_authenticated:
            response = saml.logout_response(request)  # ends the desk session first
            if request.user.is_authenticated:
                auth.logout(request)
            if response is not None:
                return response
        elif provider == SignInProvider.OIDC and request.user.is_authenticated:
            at_provider = oidc.logout_url(request)
            auth.logout(request)
            if at_provider:
                return HttpResponseRedirect(at_provider)
        return super().post(request, *args, **kwargs)
