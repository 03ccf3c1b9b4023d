from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from libdesk.i18n import javascript_catalog

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chat:dashboard", permanent=False)),
    path("admin/", admin.site.urls),
    # The JavaScript modules' strings, per language (libdesk.i18n); the staff's language.
    path(
        "i18n/<str:lang>/<str:version>/catalog.js",
        javascript_catalog,
        name="javascript_catalog",
    ),
    path("i18n/language", set_language, name="set_language"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("chat.urls")),
    # Reference Analytics: reports, /analytics/new/, CSV export, the after-chat form.
    path("analytics/", include("analytics.urls")),
    # The ticket desk, the widget's offline form and the inbound-mail webhook
    # (POST /tickets/inbound/email).
    path("tickets/", include("tickets.urls")),
]
