"""/sso/…: the SAML service provider (djangosaml2's URL names) and the OpenID Connect
client (mozilla-django-oidc's URL names)."""

from django.urls import path
from djangosaml2 import views as saml_views

from chat.sign_in import oidc, saml

urlpatterns = [
    path("saml/login/", saml.SamlLoginView.as_view(), name="saml2_login"),
    path("saml/acs/", saml.SamlAcsView.as_view(), name="saml2_acs"),
    path("saml/ls/", saml_views.LogoutView.as_view(), name="saml2_ls"),
    path("saml/ls/post/", saml_views.LogoutView.as_view(), name="saml2_ls_post"),
    path("saml/metadata/", saml_views.MetadataView.as_view(), name="saml2_metadata"),
    path("oidc/login/", oidc.OIDCStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.OIDCCallbackView.as_view(), name="oidc_authentication_callback"),
]
