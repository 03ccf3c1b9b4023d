from django.urls import path, re_path

from tickets import provider_inbound, views

app_name = "tickets"

REF = r"(?P<reference>LD-\d{6,12})"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    re_path(rf"^{REF}/$", views.ticket_detail, name="detail"),
    re_path(rf"^{REF}/reply$", views.ticket_reply, name="reply"),
    re_path(rf"^{REF}/note$", views.ticket_note, name="note"),
    re_path(rf"^{REF}/assign$", views.ticket_assign, name="assign"),
    re_path(rf"^{REF}/queue$", views.ticket_queue, name="queue"),
    re_path(rf"^{REF}/status$", views.ticket_status, name="status"),
    re_path(rf"^{REF}/replies/(?P<message_id>\d+)/retry$", views.reply_retry, name="reply_retry"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("emails/<int:pk>/original", views.original_download, name="original"),
    path("api/summary", views.dashboard_summary, name="dashboard_summary"),
    path("api/from-chat", views.create_from_chat, name="create_from_chat"),
    path("widget/<slug:slug>/question", views.offline_question, name="offline_question"),
    path("widget/email", views.patron_email, name="patron_email"),
    path("widget/email-needed", views.patron_email_needed, name="patron_email_needed"),
    path("inbound/email", views.inbound_email, name="inbound_email"),
    path("inbound/mailgun", provider_inbound.mailgun, name="inbound_mailgun"),
    path("inbound/sendgrid", provider_inbound.sendgrid, name="inbound_sendgrid"),
    path("inbound/postmark", provider_inbound.postmark, name="inbound_postmark"),
    path("inbound/amazon-ses", provider_inbound.amazon_ses, name="inbound_amazon_ses"),
]
