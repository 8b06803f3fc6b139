"""What the domain announces after a commit, for the apps above it to act on (realtime broadcasts, documents
renders). ``mediation`` imports neither of them: each registers its receivers in its ``AppConfig.ready``.

Receivers run after the transaction commits and are isolated from one another: a failing receiver is logged
and never undoes or blocks the committed change (a browser that missed a broadcast catches up on its next
snapshot; a document that failed to render is rendered again by the task's retry).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# A case's status changed: ``case_id``, ``old``, ``new``, ``actor_id`` (None for the platform).
case_status_changed = Signal()
# Something on a case that open case pages show live: ``case_id``, ``event`` (a JSON-able dict with a ``type``).
case_event = Signal()
# A stored room event for the room's sockets: ``room_id``, ``message`` (``{"type": "room.event", ...}``).
room_event = Signal()
# A member lost their place in a room (removed by the mediator, or no longer the case's mediator): ``room_id``,
# ``member_id``, ``code`` (the close code). Their open socket is closed at once, on whichever worker holds it.
room_member_revoked = Signal()
# A consented recording started (``on`` true) or stopped: ``room_id``, ``recording_id``, ``on``. The realtime app
# tells the SFU to record (or to stop, then runs ``recording_process``): mediation/services/recording.py.
recording_changed = Signal()
# Sent at once (not on commit) at the end of every outbox drain: ``sent``. The electronic service records
# receive it (``services.service.on_outbox_drained``): the outbox is below the areas that write to it.
outbox_drained = Signal()
# A further default was reported on a case already eligible for enforcement: ``case_id``, ``obligation_id``. The
# documents app issues the 强制执行申请书 again, so it asks for every defaulted obligation.
enforcement_default_added = Signal()
# A party of a court-filed case expressly asked for a legal document (legal-rules §A12 art. 4): ``case_id``,
# ``agreement_id`` (the effective agreement), ``actor_id``. The judge drafts, signs and serves the 民事调解书
# (§C5) from that agreement on the court's page; the documents app tells the court's judges (in-app notice).
mediation_document_requested = Signal()
# Every party signed for the sealed 民事调解书 (CPL 100; Interp 149): ``case_id``, ``sha256`` (the served file),
# ``effective_at``. The documents app records the document's effective time.
mediation_document_effective = Signal()


def send_on_commit(signal: Signal, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one); log receivers that fail."""

    transaction.on_commit(lambda: send_now(signal, **kwargs), robust=True)


def send_now(signal: Signal, **kwargs: Any) -> None:
    """Send ``signal`` at once; log receivers that fail instead of raising."""
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            logger.error("receiver %r of %s failed", receiver, kwargs, exc_info=result)
