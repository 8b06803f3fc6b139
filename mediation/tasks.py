"""Celery tasks of the mediation domain (the beat schedule is in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from celery import shared_task

from mediation.services.reminders import timers_remind
from mediation.services.timers import timers_sweep

logger = logging.getLogger(__name__)


@shared_task(name="mediation.tasks.sweep_due_timers")
def sweep_due_timers() -> int:
    """Fire the legal clocks that are due, then remind the people responsible for those about to lapse;
    returns how many fired."""
    fired = timers_sweep()
    try:
        timers_remind()
    except Exception:
        # The sweep has committed; a reminder run that breaks must not make the task look failed and retried.
        logger.exception("Sending timer reminders failed")
    return len(fired)
