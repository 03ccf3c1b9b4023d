"""Reference Analytics' periodic work."""

import logging

from celery import shared_task
from django.db import OperationalError


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def build_report_days(self) -> dict:
    """Hourly (CELERY_BEAT_SCHEDULE): keep the reports' figures of the days that ended
    (and of days whose entries changed) so that reports over long ranges stay fast."""
    from analytics.services import report_days_build

    result = report_days_build()
    logging.getLogger(__name__).info("report days: %s", result)
    return result
