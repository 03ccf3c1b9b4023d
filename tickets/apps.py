from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from chat.extensions import register_dashboard_module

        # Create Ticket on an open chat, and the open-tickets-assigned-to-me count.
        register_dashboard_module("tickets/dashboard.js")

        # Closed tickets keep patron details: the chat desk's retention job scrubs them.
        from chat.extensions import register_retention
        from tickets.services.retention import tickets_retention_apply

        register_retention("tickets", tickets_retention_apply)

        # Hosted providers' inbound mail (anymail's inbound signal) → a ticket message.
        from tickets.provider_inbound import connect_signal

        connect_signal()
