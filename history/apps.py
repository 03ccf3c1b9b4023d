from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HistoryConfig(AppConfig):
    """Chat History: staff search past chats by their words and their facts, read a
    transcript with its audit trail, and see a patron's earlier chats and tickets. It
    reads from chat, tickets and analytics; none of them imports it."""

    name = "history"
    verbose_name = _("Chat History")

    def ready(self):
        from chat import extensions

        # On the Chat Dashboard: the patron's context in the chat header, and Block.
        extensions.register_dashboard_module("history/dashboard.js")
