from django.urls import path

from supervisor import views

app_name = "supervisor"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("live", views.live, name="live"),
    path("chats/<uuid:public_id>/", views.watch, name="watch"),
]
