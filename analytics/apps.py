from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Reference Analytics")

    def ready(self):
        from chat.extensions import register_dashboard_module

        # After End Chat the dashboard opens the Reference Analytics form (#after-chat)
        # and lists ended chats without statistics.
        register_dashboard_module("analytics/dashboard.js")

        # Entries' free text may quote a patron: the chat desk's retention job blanks it.
        from analytics.services import interactions_retention_apply
        from chat.extensions import register_retention

        register_retention("analytics", interactions_retention_apply)
