"""Celery tasks of the chat desk: thin (ids in, one service call), queued on commit."""

from celery import shared_task
from django.db import OperationalError


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def transfer_expire(self, transfer_id: int) -> bool:
    """Queued with a countdown when a transfer is offered; a no-op unless it is due."""
    from chat.services import transfers

    return transfers.transfer_expire(transfer_id=transfer_id)


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def desk_sweep(self) -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE): idle → Away, end of shift and gone dashboards →
    Offline, overdue transfers back to their senders."""
    from chat.services import presence

    return presence.desk_sweep()


# --- Email transcript (issue 6) -----------------------------------------------------------


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(__import__("smtplib").SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
)
def email_transcript(self, chat_id: int, email: str) -> str:
    """Email a chat's transcript (HTML + text) to ``email`` (chat.transcripts); transport
    failures retry with exponential backoff."""
    from chat import transcripts

    transcripts.send(chat_id=chat_id, to=email)
    return "sent"


# --- Privacy ----------------------------------------------------------------------------


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def apply_retention(self) -> dict:
    """Hourly (CELERY_BEAT_SCHEDULE): every retention period — chats, and the steps
    tickets and Reference Analytics register; returns (and logs) what each did."""
    import logging

    from chat.services.retention import retention_apply_all

    report = retention_apply_all()
    logging.getLogger(__name__).info("retention applied: %s", report)
    return report


# --- Campus sign-in (issue 18) -------------------------------------------------------------


@shared_task(acks_late=True)
def campus_recheck() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE): ask the directory (LDAP) again about everyone who
    signs in through it; the disabled and the removed are deprovisioned."""
    from chat.sign_in import ldap_enabled

    if not ldap_enabled():
        return {"checked": 0, "deprovisioned": 0}
    from chat.sign_in import ldap

    return ldap.recheck_directory()
