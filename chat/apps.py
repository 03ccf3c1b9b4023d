from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat desk"

    def ready(self):
        from chat import signals  # noqa: F401 - connects the session-ending receivers
