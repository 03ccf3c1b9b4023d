"""Every state change of the chat desk: one function each, in a transaction.

Views, consumers, admin actions and tasks call these; they never save chat models
themselves. Events leave only through ``chat.events.broadcast_on_commit``.

A package (it outgrew one module): chats, staff (presence, connections, sessions) and
canned messages are importable from ``chat.services`` itself; the larger capabilities are
submodules used by name (``from chat.services import transfers``): presence (desk sweep,
widget presence), transfers, internal (internal chats), attachments, screenshare,
retention, departments (departments, operators and memberships, from the admin) and
ratings (the patron's rating of an ended chat).
"""

from chat.services._common import (  # noqa: F401 - used by sibling modules
    CLIENT_ID_MAX,
    _append_message,
    _audit,
    _broadcast_queue,
    _clean_body,
    _clean_client_id,
    _desk_setting,
    _lock_chat,
    chat_language,
    strip_query,
)
from chat.services.canned import (  # noqa: F401
    _check_canned,
    _own_canned,
    canned_message_delete,
    canned_message_save,
    canned_personal_create,
    canned_personal_delete,
    canned_personal_update,
)
from chat.services.chats import (  # noqa: F401
    TRANSCRIPT_AUDIT_ACTION,
    _message_send,
    chat_claim,
    chat_close,
    chat_end,
    chat_post_system_message,
    chat_set_patron_email,
    chat_start,
    check_chat_limit_locked,
    message_send,
    transcript_email_request,
)
from chat.services.staff import (  # noqa: F401
    _broadcast_presence,
    connection_close,
    connection_open,
    connection_touch,
    operator_set_language,
    presence_reconcile,
    presence_set,
    staff_sessions_end,
)
from chat.services.starts import chat_start_retried  # noqa: F401
