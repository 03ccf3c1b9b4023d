from django.urls import path

from chat.consumers import PatronConsumer, StaffConsumer

websocket_urlpatterns = [
    path("ws/patron/", PatronConsumer.as_asgi()),
    path("ws/staff/", StaffConsumer.as_asgi()),
]
