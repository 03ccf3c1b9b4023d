from django.urls import path

from history import views

app_name = "history"

urlpatterns = [
    path("", views.history_search, name="search"),
    path("chats/<uuid:public_id>/", views.history_transcript, name="transcript"),
    path("chats/<uuid:public_id>/email", views.history_email_transcript, name="email"),
    path("chats/<uuid:public_id>/ticket", views.history_create_ticket, name="create_ticket"),
    path("chats/<uuid:public_id>/block", views.history_block, name="block"),
    path("chats/<uuid:public_id>/patron/", views.history_patron, name="patron"),
    # For the Chat Dashboard (JSON): the patron's context in the header, and Block.
    path("api/chats/<uuid:public_id>/context", views.patron_context, name="patron_context"),
    path(
        "api/chats/<uuid:public_id>/block", views.block_from_dashboard, name="block_from_dashboard"
    ),
]
