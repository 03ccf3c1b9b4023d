from django.urls import path

from chat import attachment_views, canned_views, views

app_name = "chat"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("demo/", views.demo, name="demo"),
    path("widget/<slug:slug>/", views.widget, name="widget"),
    path("widget/<slug:slug>/status", views.department_status, name="department_status"),
    path("widget/<slug:slug>/chats", views.chat_start, name="chat_start"),
    path("dashboard/canned/", canned_views.canned_collection, name="canned"),
    path("dashboard/canned/<int:pk>/", canned_views.canned_item, name="canned_item"),
    path("dashboard/canned/manage/", canned_views.canned_manage, name="canned_manage"),
    path("dashboard/canned/manage/<int:pk>/", canned_views.canned_edit, name="canned_edit"),
    path(
        "dashboard/canned/manage/<int:pk>/delete/",
        canned_views.canned_delete,
        name="canned_delete",
    ),
    # Email transcript (issue 6): the dashboard's button and the widget's ended state.
    path(
        "dashboard/chats/<uuid:public_id>/transcript",
        views.transcript_email_staff,
        name="transcript_email_staff",
    ),
    path("widget/transcript", views.transcript_email_patron, name="transcript_email_patron"),
    # Attachments (issue 7): upload by the patron (bearer token) or staff (session + CSRF);
    # download only through the checking view. Never under MEDIA_URL.
    path(
        "widget/attachments",
        attachment_views.attachment_upload_patron,
        name="attachment_upload_patron",
    ),
    path(
        "dashboard/chats/<uuid:public_id>/attachments",
        attachment_views.attachment_upload_staff,
        name="attachment_upload_staff",
    ),
    path(
        "attachments/<uuid:public_id>",
        attachment_views.attachment_download,
        name="attachment_download",
    ),
]
