from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.report, name="report"),
    path("new/", views.new_entry, name="new"),
    path("export.csv", views.export_csv, name="export"),
    path("pending/", views.pending, name="pending"),
    path("chats/<uuid:public_id>/", views.chat_entry, name="chat_entry"),
    path(
        "chats/<uuid:public_id>/form",
        views.chat_entry,
        {"partial": True},
        name="chat_entry_partial",
    ),
]
