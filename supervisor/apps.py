from django.apps import AppConfig


class SupervisorConfig(AppConfig):
    """The supervisor's view: Desk admins and Department admins watch their
    departments' chats live (read-only), who is on, and the hours nobody answered."""

    name = "supervisor"
    verbose_name = "Supervisor"
