"""Celery tasks of the mediation domain (the beat schedule is in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging
import socket

from celery import shared_task

from mediation.services.outbox import outbox_deliver_due
from mediation.services.reminders import timers_remind
from mediation.services.timers import timers_sweep

logger = logging.getLogger(__name__)

# Claimed per batch; a run keeps going until nothing is due, so a backlog drains in one task.
OUTBOX_BATCH = 100
OUTBOX_MAX_BATCHES = 50


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


@shared_task(name="mediation.tasks.audit_checkpoint")
def audit_checkpoint() -> int:
    """Sign a checkpoint of every audit chain head outside the database; returns how many heads it holds."""
    from mediation.audit_anchor import checkpoint_write

    record, refused = checkpoint_write()
    for item in refused:
        logger.error("Audit checkpoint left out a head that does not verify: %s", item)
    return len(record["heads"])


@shared_task(name="mediation.tasks.deliver_outbox")
def deliver_outbox() -> int:
    """Deliver the outbox messages that are due (beat, every OUTBOX_SWEEP_SECONDS; and right after a commit
    in the embedded default); returns how many were sent. Safe to run in several workers at once."""
    return outbox_drain(worker_id=f"celery@{socket.gethostname()}")


def outbox_drain(*, worker_id: str) -> int:
    """Batches of ``outbox_deliver_due`` until a batch claims less than a full batch."""
    sent = 0
    for _batch in range(OUTBOX_MAX_BATCHES):
        claimed_sent = outbox_deliver_due(limit=OUTBOX_BATCH, worker_id=worker_id)
        sent += claimed_sent
        if claimed_sent < OUTBOX_BATCH:
            break
    # SMS and e-mail notices of electronic service "arrive" when handed over: recompute the effective
    # service times. On every drain, not only when this one sent something: a delivery recorded by another
    # worker, or a refresh that failed last time, is caught up here (OLR 31).
    from mediation.services.service import service_records_refresh_pending

    try:
        service_records_refresh_pending()
    except Exception:
        # The messages are sent and recorded; a failed refresh must not make the task look failed and retried.
        logger.exception("Refreshing pending electronic service records failed; the next drain retries")
    return sent
