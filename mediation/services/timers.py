"""Legal clocks: starting, pausing, resuming, extending and firing timers (legal-rules §B4)."""

from __future__ import annotations

import datetime as dt

from mediation.models import Case, User


def timers_sync_for_status(
    *, case: Case, old_status: str, new_status: str, at: dt.datetime, actor: User | None
) -> None:
    """Start, pause, resume or stop the case's timers for a status change. Runs inside case_transition's
    transaction."""
