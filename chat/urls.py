from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("demo/", views.demo, name="demo"),
    path("widget/<slug:slug>/", views.widget, name="widget"),
    path("widget/<slug:slug>/status", views.department_status, name="department_status"),
    path("widget/<slug:slug>/chats", views.chat_start, name="chat_start"),
]
