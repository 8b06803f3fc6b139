"""Firing the legal clocks that are due (legal-rules §B4), and the Celery task that runs it with the reminders.

Above ``case_transition``: an expiry may move the case (a ``system`` row), while ``case_transition`` syncs the
clocks through ``mediation.services.timers``. Beat runs ``sweep_due_timers``; the embedded default runs
``manage.py sweep_timers``.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from mediation.choices import CaseStatus, TimerStatus
from mediation.exceptions import DomainError
from mediation.lifecycle import TIMER_RULES
from mediation.models import Case, Timer
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.contact_requests import contact_timer_expired
from mediation.services.performance import defaults_escalate, obligations_remind
from mediation.services.reminders import timers_remind
from mediation.services.timers import case_next_due_refresh, event_data

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
    try:
        defaults_escalate()  # a default reported during the objection window, once tracking began (CPL 250)
        obligations_remind()  # the agreement's due dates (PML 31): 3 days ahead and on the day
    except Exception:
        logger.exception("Performance escalation or reminders failed")
    return len(fired)


def timers_sweep(*, now: dt.datetime | None = None) -> list[Timer]:
    """Fire every running timer due by ``now``, each exactly once even when sweeps overlap.

    Each timer is claimed with a conditional UPDATE (``status='running'``): of two sweeps, the second
    finds the row already fired and updates nothing. A timer whose expiry action fails is logged and
    skipped; the sweep goes on.
    """
    now = now or timezone.now()
    due = list(
        Timer.objects.filter(status=TimerStatus.RUNNING, due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", "case_id")
    )
    fired: list[Timer] = []
    for timer_id, case_id in due:
        try:
            timer = _fire(timer_id=timer_id, case_id=case_id, now=now)
        except Exception:
            # One broken timer must not hold back the others; its row stays running and is retried next sweep.
            logger.exception("Firing timer %s failed", timer_id)
            continue
        if timer is not None:
            fired.append(timer)
    return fired


def _fire(*, timer_id: int, case_id: int, now: dt.datetime) -> Timer | None:
    with transaction.atomic():
        # Case row first, as case_transition does, so a sweep and a transition on the same case queue up.
        case = Case.objects.select_for_update().get(pk=case_id)
        claimed = Timer.objects.filter(pk=timer_id, status=TimerStatus.RUNNING, due_at__lte=now).update(
            status=TimerStatus.FIRED, fired_at=now
        )
        if claimed != 1:
            return None
        timer = Timer.objects.get(pk=timer_id)
        timer.case = case
        rule = TIMER_RULES[timer.kind]
        audit_append(kind="timer.expired", actor=None, case=case, data=event_data(timer, on_expiry=rule.on_expiry))
        if rule.started_by_service:
            contact_timer_expired(timer=timer, now=now)  # the only ledger with its own clocks so far
        if rule.expiry_moves_to is not None:
            _expiry_transition(case=case, timer=timer, to=rule.expiry_moves_to, reason=rule.expiry_reason)
        case_next_due_refresh([case.pk])  # a lapsed clock stays live (and on top) while the case stays put
    return timer


def _expiry_transition(*, case: Case, timer: Timer, to: CaseStatus, reason: str) -> None:
    try:
        # A savepoint: a refused transition must not undo the claim and the expiry event above.
        with transaction.atomic():
            case_transition(case=case, to=to, actor=None, reason=reason)
    except DomainError as exc:
        # No platform row leads there from the case's status (it moved on, or the table keeps the step for
        # people there): the expiry stands, the action is recorded as not taken.
        logger.info("Timer %s expired but case %s could not move to %s: %s", timer.pk, case.pk, to, exc)
        audit_append(
            kind="timer.expiry_action_skipped", actor=None, case=case,
            data=event_data(timer, to=str(to), reason=reason, status=case.status, error=exc.code, message=str(exc)),
        )
