from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Reference Analytics"

    def ready(self):
        from chat.extensions import register_dashboard_module

        # After End Chat the dashboard opens the Reference Analytics form (#after-chat)
        # and lists ended chats without statistics.
        register_dashboard_module("analytics/dashboard.js")
