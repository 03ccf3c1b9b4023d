from django.urls import path

from chat.views import attachments, canned, desk

app_name = "chat"

urlpatterns = [
    path("dashboard/", desk.dashboard, name="dashboard"),
    path("demo/", desk.demo, name="demo"),
    path("widget/<slug:slug>/", desk.widget, name="widget"),
    path("widget/<slug:slug>/status", desk.department_status, name="department_status"),
    path("widget/<slug:slug>/chats", desk.chat_start, name="chat_start"),
    path("dashboard/canned/", canned.canned_collection, name="canned"),
    path("dashboard/canned/<int:pk>/", canned.canned_item, name="canned_item"),
    path("dashboard/canned/manage/", canned.canned_manage, name="canned_manage"),
    path("dashboard/canned/manage/<int:pk>/", canned.canned_edit, name="canned_edit"),
    path(
        "dashboard/canned/manage/<int:pk>/delete/",
        canned.canned_delete,
        name="canned_delete",
    ),
    # Email transcript (issue 6): the dashboard's button and the widget's ended state.
    path(
        "dashboard/chats/<uuid:public_id>/transcript",
        desk.transcript_email_staff,
        name="transcript_email_staff",
    ),
    path("widget/transcript", desk.transcript_email_patron, name="transcript_email_patron"),
    # Attachments (issue 7): upload by the patron (bearer token) or staff (session + CSRF);
    # download only through the checking view. Never under MEDIA_URL.
    path(
        "widget/attachments",
        attachments.attachment_upload_patron,
        name="attachment_upload_patron",
    ),
    path(
        "dashboard/chats/<uuid:public_id>/attachments",
        attachments.attachment_upload_staff,
        name="attachment_upload_staff",
    ),
    path(
        "attachments/<uuid:public_id>",
        attachments.attachment_download,
        name="attachment_download",
    ),
]
