"""Every state change of the ticket desk: one keyword-only function each, in a
transaction. Views, tasks, the webhook and the mail importer call these; nobody else
saves ticket models. Emails leave through Celery tasks queued on commit.

A package (it outgrew one module): create, inbound, staff and retention. Everything is importable
from ``tickets.services`` as before.
"""

from tickets.services._common import (  # noqa: F401
    SUBJECT_MAX,
    _audit,
    _check_assignee,
    _clean_email,
    _clean_text,
    _lock,
    _notify_new_ticket_on_commit,
    _require_staff,
    _send_reply_on_commit,
    _setting,
    _subject_from,
    _touch,
    _transcript_text,
    logger,
)
from tickets.services.create import (  # noqa: F401
    origin_digest,
    ticket_create_from_chat,
    ticket_create_from_offline_form,
    ticket_set_patron_email,
)
from tickets.services.inbound import (  # noqa: F401
    _find_ticket_for,
    _receive,
    _store_attachments,
    _valid_email,
    ticket_receive_email,
    ticket_receive_email_once,
)
from tickets.services.retention import (  # noqa: E402, F401
    ticket_attachment_delete,
    ticket_delete,
    tickets_retention_apply,
)
from tickets.services.staff import (  # noqa: F401
    notification_record_failure,
    reply_mark_sent,
    reply_record_failure,
    reply_retry,
    ticket_add_note,
    ticket_assign,
    ticket_change_queue,
    ticket_reply,
    ticket_set_status,
)
