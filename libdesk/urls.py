from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from chat.sign_in.local import DeskLoginView
from chat.sign_in.views import DeskLogoutView
from libdesk.i18n import javascript_catalog, set_language

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
    # The login page offers the campus sign-in (issue 18) beside desk passwords.
    path("accounts/login/", DeskLoginView.as_view(), name="login"),
    path("accounts/logout/", DeskLogoutView.as_view(), name="logout"),
    path("sso/", include("chat.sign_in.urls")),
    path("", include("chat.urls")),
    # Reference Analytics: reports, /analytics/new/, CSV export, the after-chat form.
    path("analytics/", include("analytics.urls")),
    # The ticket desk, the widget's offline form and the inbound-mail webhook
    # (POST /tickets/inbound/email).
    path("tickets/", include("tickets.urls")),
    # Chat History (issue 20): search, read-only transcripts, a patron's earlier contacts.
    path("history/", include("history.urls")),
    # The supervisor's view (issue 20): live chats, who is on, coverage.
    path("supervisor/", include("supervisor.urls")),
]
