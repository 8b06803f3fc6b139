"""Legal clocks: starting, pausing, resuming, extending and firing timers (legal-rules §B4).

``TIMER_RULES`` is the data; ``timers_sync_for_status`` interprets it on every case transition.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mediation import calendar
from mediation.choices import CaseOrigin, CaseStatus, Procedure, TimerKind, TimerStatus, TimerUnit
from mediation.exceptions import DomainError, InvalidInput, StaleState
from mediation.models import Case, Timer, TimerPause, User
from mediation.services.audit import audit_append
from mediation.transitions import ALL_ORIGINS, PRE_FILING

logger = logging.getLogger(__name__)

S = CaseStatus
OPEN_STATUSES = (TimerStatus.RUNNING, TimerStatus.PAUSED)


@dataclass(frozen=True)
class TimerRule:
    """One legal clock. ``runs_during`` includes ``starts_on``; entering any other status stops the timer."""

    kind: TimerKind
    unit: TimerUnit
    length: int
    starts_on: CaseStatus
    runs_during: frozenset[CaseStatus]
    source: str
    on_expiry: str  # what expiry means, for people reading the table and the audit trail
    paused_during: frozenset[CaseStatus] = frozenset()
    # 委托 (post-filing) cases: length by Case.procedure, instead of ``length`` (OMR 24).
    entrusted_lengths: Mapping[str, int] = field(default_factory=dict)
    origins: frozenset[str] = ALL_ORIGINS
    once_per_case: bool = False  # counts from a one-off event, so re-entering ``starts_on`` does not restart it
    starts_at_agreement_effective: bool = False  # anchor on Case.agreement_effective_at, not the transition
    expiry_moves_to: CaseStatus | None = None  # the platform's own transition on expiry (a ``system`` row)


_MEDIATING = frozenset({
    S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION, S.APPRAISAL_PAUSED, S.SUSPENDED,
    S.AGREEMENT_DRAFT, S.SIGNING,
})

TIMER_RULES: dict[str, TimerRule] = {
    rule.kind: rule
    for rule in (
        TimerRule(
            kind=TimerKind.SELECTION_WINDOW, unit=TimerUnit.WORKING_DAYS, length=2,
            starts_on=S.AWAITING_SELECTION, runs_during=frozenset({S.AWAITING_SELECTION}),
            source="OMR 10", on_expiry="court designates the mediator (alert: later issue)",
        ),
        TimerRule(
            # OMR 10: "within 3 working days of receiving the application", so from submission (§B4 T2).
            kind=TimerKind.COURT_DESIGNATION, unit=TimerUnit.WORKING_DAYS, length=3,
            starts_on=S.SUBMITTED, runs_during=frozenset({S.SUBMITTED, S.AWAITING_SELECTION}), once_per_case=True,
            source="OMR 10", on_expiry="SLA breach recorded (alert: later issue)",
        ),
        TimerRule(
            kind=TimerKind.MEDIATOR_ACCEPTANCE, unit=TimerUnit.WORKING_DAYS, length=3,
            starts_on=S.ASSIGNED, runs_during=frozenset({S.ASSIGNED}),
            source="OMR 12", on_expiry="acceptance lapses: back to selection",
            expiry_moves_to=S.AWAITING_SELECTION,
        ),
        TimerRule(
            kind=TimerKind.RESPONDENT_CONTACT, unit=TimerUnit.WORKING_DAYS, length=3,
            starts_on=S.RESPONDENT_PENDING, runs_during=frozenset({S.RESPONDENT_PENDING}),
            source="OMR 15", on_expiry="escalate (alert: later issue)",
        ),
        TimerRule(
            kind=TimerKind.MEDIATION_PERIOD, unit=TimerUnit.CALENDAR_DAYS, length=30,
            entrusted_lengths={Procedure.ORDINARY: 15, Procedure.SIMPLE: 7},
            starts_on=S.ACCEPTED, runs_during=_MEDIATING, paused_during=frozenset({S.APPRAISAL_PAUSED}),
            source="OMR 24, 26", on_expiry="period expired: terminate unless all parties extend (OMR 25(6))",
        ),
        TimerRule(
            kind=TimerKind.JC_APPLICATION_WINDOW, unit=TimerUnit.CALENDAR_DAYS, length=30,
            starts_on=S.AGREEMENT_EFFECTIVE, runs_during=frozenset({S.AGREEMENT_EFFECTIVE, S.CLOSED_SETTLED}),
            starts_at_agreement_effective=True,
            # 委托 agreements become a court 调解书 instead; judicial confirmation is for the pre-filing paths.
            origins=PRE_FILING,
            source="CPL 205; PML 33", on_expiry="window closed: warn (parties may still sue on the agreement)",
        ),
    )
}


def timer_rule_length(rule: TimerRule, case: Case) -> int:
    if case.origin == CaseOrigin.ENTRUSTED and rule.entrusted_lengths:
        # A 委托 case with no procedure recorded gets the ordinary-procedure period, the general rule.
        return rule.entrusted_lengths.get(case.procedure, rule.entrusted_lengths[Procedure.ORDINARY])
    return rule.length


class _OverrideCache:
    """Loads the holiday overrides at most once per service call, and only if a due date is computed."""

    def __init__(self) -> None:
        self._overrides: dict[dt.date, bool] | None = None

    def get(self) -> dict[dt.date, bool]:
        if self._overrides is None:
            # The whole table: a few dozen rows per uncovered year, and it spares working out a date range.
            self._overrides = calendar.load_overrides()
        return self._overrides


# --- Due dates ----------------------------------------------------------------------------------------


def _paused_units(*, unit: str, pause: TimerPause, overrides: calendar.Overrides) -> int:
    """Days not counted for a closed pause: the days in (pause day, resume day].

    The pause day counts (the clock ran on it); the resume day is like a new start day and is not counted
    (CPL 85). A pause that ends the day it began costs nothing.
    """
    assert pause.ended_at is not None
    paused_on, resumed_on = calendar.local_day(pause.started_at), calendar.local_day(pause.ended_at)
    if unit == TimerUnit.WORKING_DAYS:
        return calendar.working_days_between(paused_on, resumed_on, overrides=overrides)
    return max((resumed_on - paused_on).days, 0)


def _compute_due_at(*, timer: Timer, pauses: Iterable[TimerPause], overrides: calendar.Overrides) -> dt.datetime:
    """Count the length plus agreed extra days plus closed pauses from the start day, then roll forward.

    Extensions and pauses lengthen the period counted from the original start, so the holiday roll-forward
    is applied once, to the final last day.
    """
    start_day = calendar.local_day(timer.started_at)
    paused = sum(_paused_units(unit=timer.unit, pause=p, overrides=overrides) for p in pauses if p.ended_at)
    total = timer.length + timer.extra_days + paused
    if timer.unit == TimerUnit.WORKING_DAYS:
        last = calendar.add_working_days(start_day, total, overrides=overrides)
    else:
        last = calendar.calendar_period_end(start_day, total, overrides=overrides)
    return calendar.day_end(last)


def _recompute_due_at(timer: Timer, overrides: _OverrideCache) -> None:
    pauses = list(timer.pauses.filter(ended_at__isnull=False))
    timer.due_at = _compute_due_at(timer=timer, pauses=pauses, overrides=overrides.get())


def _event_data(timer: Timer, **extra: Any) -> dict[str, Any]:
    return {
        "timer": timer.pk, "kind": timer.kind, "unit": timer.unit, "length": timer.length,
        "extra_days": timer.extra_days, "due_at": timer.due_at.isoformat(),
        "due_date": calendar.last_day(timer.due_at).isoformat(), "rule": timer.source, **extra,
    }


# --- Steps on a locked timer (callers hold the case row, then the timer row) ------------------------------


def _start(*, rule: TimerRule, case: Case, at: dt.datetime, actor: User | None, overrides: _OverrideCache) -> Timer:
    started_at = at
    if rule.starts_at_agreement_effective and case.agreement_effective_at:
        started_at = _as_datetime(case.agreement_effective_at) or at
    timer = Timer(
        case=case, kind=rule.kind, unit=rule.unit, length=timer_rule_length(rule, case), started_at=started_at,
        source=rule.source,
    )
    timer.due_at = _compute_due_at(timer=timer, pauses=(), overrides=overrides.get())
    timer.save()
    audit_append(kind="timer.started", actor=actor, case=case, data=_event_data(timer, started_at=started_at))
    return timer


def _pause(*, timer: Timer, reason: str, at: dt.datetime, actor: User | None) -> None:
    TimerPause.objects.create(timer=timer, reason=reason[:200], started_at=at)
    timer.status = TimerStatus.PAUSED
    timer.save(update_fields=["status"])
    audit_append(kind="timer.paused", actor=actor, case=timer.case, data=_event_data(timer, reason=reason))


def _close_open_pause(timer: Timer, at: dt.datetime) -> None:
    timer.pauses.filter(ended_at__isnull=True).update(ended_at=at)


def _resume(*, timer: Timer, at: dt.datetime, actor: User | None, overrides: _OverrideCache) -> None:
    _close_open_pause(timer, at)
    old_due = timer.due_at
    timer.status = TimerStatus.RUNNING
    _recompute_due_at(timer, overrides)
    timer.save(update_fields=["status", "due_at"])
    audit_append(
        kind="timer.resumed", actor=actor, case=timer.case, data=_event_data(timer, previous_due_at=old_due.isoformat())
    )


def _stop(*, timer: Timer, at: dt.datetime, actor: User | None, reason: str) -> None:
    _close_open_pause(timer, at)
    timer.status = TimerStatus.STOPPED
    timer.stopped_at = at
    timer.save(update_fields=["status", "stopped_at"])
    audit_append(kind="timer.stopped", actor=actor, case=timer.case, data=_event_data(timer, reason=reason))


def _as_datetime(value: object) -> dt.datetime | None:
    # case_transition copies ``effective_at`` from the caller's data, which may arrive as ISO text.
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return parse_datetime(value)
    return None


# --- Services ---------------------------------------------------------------------------------------------


def timers_sync_for_status(
    *, case: Case, old_status: str, new_status: str, at: dt.datetime, actor: User | None
) -> None:
    """Start, pause, resume or stop the case's timers for a status change. Runs inside case_transition's
    transaction, which already holds the case row."""
    overrides = _OverrideCache()
    open_timers = list(Timer.objects.select_for_update().filter(case=case, status__in=OPEN_STATUSES).order_by("pk"))
    for timer in open_timers:
        timer.case = case
        rule = TIMER_RULES[timer.kind]
        entering_pause = new_status in rule.paused_during and old_status not in rule.paused_during
        # Only leaving the pausing status resumes: a pause a person set by hand stays until lifted by hand.
        leaving_pause = old_status in rule.paused_during and new_status not in rule.paused_during
        if new_status not in rule.runs_during:
            _stop(timer=timer, at=at, actor=actor, reason=new_status)
        elif entering_pause and timer.status == TimerStatus.RUNNING:
            _pause(timer=timer, reason=str(CaseStatus(new_status).label), at=at, actor=actor)
        elif leaving_pause and timer.status == TimerStatus.PAUSED:
            _resume(timer=timer, at=at, actor=actor, overrides=overrides)

    still_open = {timer.kind for timer in open_timers if timer.status in OPEN_STATUSES}
    for rule in TIMER_RULES.values():
        if rule.starts_on != new_status or case.origin not in rule.origins or rule.kind in still_open:
            continue
        if rule.once_per_case and Timer.objects.filter(case=case, kind=rule.kind).exists():
            continue
        _start(rule=rule, case=case, at=at, actor=actor, overrides=overrides)


def _lock(timer: Timer) -> Timer:
    """Lock the case row, then the timer row: the order case_transition takes them in, so no deadlock."""
    case = Case.objects.select_for_update().get(pk=timer.case_id)
    locked = Timer.objects.select_for_update().get(pk=timer.pk)
    locked.case = case
    return locked


def timer_pause(*, timer: Timer, reason: str, actor: User | None, at: dt.datetime | None = None) -> Timer:
    """Stop the clock for a stretch that does not count (appraisal, OMR 26)."""
    if not reason.strip():
        raise InvalidInput(_("请写明期限中止的原因。"))
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock(timer)
        if locked.status != TimerStatus.RUNNING:
            raise StaleState(_("该期限当前不在计时中，不能中止。"))
        _pause(timer=locked, reason=reason.strip(), at=at, actor=actor)
    timer.refresh_from_db()
    return timer


def timer_resume(*, timer: Timer, actor: User | None, at: dt.datetime | None = None) -> Timer:
    """Restart the clock. The due date moves later by the paused days (working days for working-day timers),
    with the holiday roll-forward applied again."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock(timer)
        if locked.status != TimerStatus.PAUSED:
            raise StaleState(_("该期限当前未中止，无需恢复。"))
        _resume(timer=locked, at=at, actor=actor, overrides=_OverrideCache())
    timer.refresh_from_db()
    return timer


def timer_extend(*, timer: Timer, days: int, actor: User | None, consent_note: str) -> Timer:
    """Lengthen a period by ``days`` (in the timer's unit). OMR 24 allows it only with all parties' consent,
    so the caller records where that consent is (a note or a consent reference)."""
    if days <= 0:
        raise InvalidInput(_("延长天数须为正整数。"))
    if not consent_note.strip():
        raise InvalidInput(_("延长调解期限须经各方当事人同意，请注明同意情况。"))
    with transaction.atomic():
        locked = _lock(timer)
        if locked.status not in OPEN_STATUSES:
            raise StaleState(_("该期限已届满或已结束，不能延长。"))
        old_due = locked.due_at
        locked.extra_days += days
        _recompute_due_at(locked, _OverrideCache())
        locked.save(update_fields=["extra_days", "due_at"])
        audit_append(
            kind="timer.extended", actor=actor, case=locked.case,
            data=_event_data(locked, days=days, consent_note=consent_note.strip(), previous_due_at=old_due.isoformat()),
        )
    timer.refresh_from_db()
    return timer


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
        audit_append(kind="timer.expired", actor=None, case=case, data=_event_data(timer, on_expiry=rule.on_expiry))
        if rule.expiry_moves_to is not None:
            _expiry_transition(case=case, timer=timer, to=rule.expiry_moves_to)
    return timer


def _expiry_transition(*, case: Case, timer: Timer, to: CaseStatus) -> None:
    from mediation.services.cases import case_transition  # cases imports this module

    try:
        case_transition(case=case, to=to, actor=None)
    except DomainError as exc:
        # The case moved on before the sweep got here: the expiry stands, the action no longer applies.
        logger.info("Timer %s expired but case %s could not move to %s: %s", timer.pk, case.pk, to, exc)
        audit_append(
            kind="timer.expiry_action_skipped", actor=None, case=case,
            data=_event_data(timer, to=str(to), error=exc.code, message=str(exc)),
        )
