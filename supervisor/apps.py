from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisorConfig(AppConfig):
    """The supervisor's view: Desk admins and Department admins watch their
    departments' chats live (read-only), who is on, and the hours nobody answered."""

    name = "supervisor"
    verbose_name = _("Supervisor")
