from django.urls import path

from chat.consumers import PatronConsumer, StaffConsumer
from supervisor.consumers import SupervisorConsumer

websocket_urlpatterns = [
    path("ws/patron/", PatronConsumer.as_asgi()),
    path("ws/staff/", StaffConsumer.as_asgi()),
    path("ws/supervisor/", SupervisorConsumer.as_asgi()),  # read-only (issue 20)
]
