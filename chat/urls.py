from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("demo/", views.demo, name="demo"),
    path("widget/<slug:slug>/", views.widget, name="widget"),
    path("widget/<slug:slug>/status", views.department_status, name="department_status"),
    path("widget/<slug:slug>/chats", views.chat_start, name="chat_start"),
    # Email transcript (issue 6): the dashboard's button and the widget's ended state.
    path(
        "dashboard/chats/<uuid:public_id>/transcript",
        views.transcript_email_staff,
        name="transcript_email_staff",
    ),
    path("widget/transcript", views.transcript_email_patron, name="transcript_email_patron"),
]
