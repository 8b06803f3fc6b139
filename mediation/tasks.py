"""Celery tasks of the mediation domain (the beat schedule is in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from mediation.services.timers import timers_sweep


@shared_task(name="mediation.tasks.sweep_due_timers")
def sweep_due_timers() -> int:
    """Fire the legal clocks that are due; returns how many fired."""
    return len(timers_sweep())
