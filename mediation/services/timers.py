"""Legal clocks: starting, pausing, resuming, extending and recomputing timers (legal-rules §B4).

``mediation.lifecycle.TIMER_RULES`` is the data; ``timers_sync_for_status`` interprets it on every case
transition. Firing what is due is ``mediation.services.timer_sweep`` (it moves cases, so it sits above
``case_transition``, which calls this module).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mediation import calendar
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, ConsentKind, Procedure, TimerStatus, TimerUnit
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.lifecycle import TIMER_RULES, TimerRule, clocks_started_by
from mediation.models import Case, Consent, Party, Timer, TimerPause, User
from mediation.permissions import case_roles
from mediation.selectors.intake import live_timer_q
from mediation.services.audit import audit_append
from mediation.services.consents import consent_all_parties_granted

logger = logging.getLogger(__name__)

OPEN_STATUSES = (TimerStatus.RUNNING, TimerStatus.PAUSED)


# TimerPause.reason of a pause a case status opened (APPRAISAL_PAUSED): only leaving that status lifts it.
# A pause someone set by hand has a free-text reason and is lifted by hand. (A code in ``reason`` rather
# than a model field, to spare a migration.)
STATUS_PAUSE_PREFIX = "status:"


def timer_rule_length(rule: TimerRule, case: Case) -> int:
    if case.origin in (CaseOrigin.ENTRUSTED, CaseOrigin.COURT_FILED) and rule.entrusted_lengths:
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


def event_data(timer: Timer, **extra: Any) -> dict[str, Any]:
    return {
        "timer": timer.pk, "kind": timer.kind, "unit": timer.unit, "length": timer.length,
        "extra_days": timer.extra_days, "due_at": timer.due_at.isoformat(),
        "due_date": calendar.last_day(timer.due_at).isoformat(), "rule": timer.source, **extra,
    }


# --- The queues' sort key ----------------------------------------------------------------------------------


def case_next_due_refresh(case_ids: Iterable[int] | None = None) -> int:
    """Set ``Case.next_due_at`` of ``case_ids`` (every case when None) to the earliest due moment among its
    live clocks that count (running, or lapsed while the case is still where it lapsed; not paused): the
    key the clerk's queue and the dashboards sort by, read from an index instead of joining the timers.

    The one writer of ``next_due_at``: every service here that starts, stops, pauses, resumes, lengthens or
    recomputes a clock calls it, as do ``timers_sync_for_status`` (every transition, which also moves
    ``status_changed_at``, on which a lapsed clock's liveness depends) and the sweep when it fires one.
    One UPDATE; returns the number of cases written."""
    earliest = (
        Timer.objects.filter(case_id=OuterRef("pk"))
        .filter(live_timer_q(timer="", case="case__", paused=False))
        .order_by().values("case_id").annotate(earliest=Min("due_at")).values("earliest")
    )
    cases = Case.objects.all()
    if case_ids is not None:
        ids = sorted(set(case_ids))
        if not ids:
            return 0
        cases = cases.filter(pk__in=ids)
    return cases.update(next_due_at=Subquery(earliest))


# --- Steps on a locked timer (callers hold the case row, then the timer row) ------------------------------


def _start(
    *, rule: TimerRule, case: Case, at: dt.datetime, actor: User | None, overrides: _OverrideCache,
    length: int | None = None,
) -> Timer:
    started_at = at
    if rule.starts_at_agreement_effective and case.agreement_effective_at:
        started_at = _as_datetime(case.agreement_effective_at) or at
    if length is None:
        length = timer_rule_length(rule, case)
    timer = Timer(
        case=case, kind=rule.kind, unit=rule.unit, length=length, started_at=started_at, source=rule.source,
    )
    timer.due_at = _compute_due_at(timer=timer, pauses=(), overrides=overrides.get())
    timer.save()
    audit_append(kind="timer.started", actor=actor, case=case, data=event_data(timer, started_at=started_at))
    return timer


def _pause(*, timer: Timer, reason: str, at: dt.datetime, actor: User | None) -> None:
    TimerPause.objects.create(timer=timer, reason=reason[:200], started_at=at)
    timer.status = TimerStatus.PAUSED
    timer.save(update_fields=["status"])
    audit_append(kind="timer.paused", actor=actor, case=timer.case, data=event_data(timer, reason=reason))


def _close_open_pause(timer: Timer, at: dt.datetime) -> None:
    timer.pauses.filter(ended_at__isnull=True).update(ended_at=at)


def _status_pause_reason(status: str) -> str:
    return f"{STATUS_PAUSE_PREFIX}{status}"


def _open_pause_is_the_status_pause(timer: Timer) -> bool:
    """Whether the timer's open pause is the one a case status opened (not one set by hand)."""
    return timer.pauses.filter(ended_at__isnull=True, reason__startswith=STATUS_PAUSE_PREFIX).exists()


def _resume(*, timer: Timer, at: dt.datetime, actor: User | None, overrides: _OverrideCache) -> None:
    _close_open_pause(timer, at)
    old_due = timer.due_at
    timer.status = TimerStatus.RUNNING
    _recompute_due_at(timer, overrides)
    timer.save(update_fields=["status", "due_at"])
    audit_append(
        kind="timer.resumed", actor=actor, case=timer.case, data=event_data(timer, previous_due_at=old_due.isoformat())
    )


def _stop(*, timer: Timer, at: dt.datetime, actor: User | None, reason: str) -> None:
    _close_open_pause(timer, at)
    timer.status = TimerStatus.STOPPED
    timer.stopped_at = at
    timer.save(update_fields=["status", "stopped_at"])
    audit_append(kind="timer.stopped", actor=actor, case=timer.case, data=event_data(timer, reason=reason))


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
        leaving_pause = old_status in rule.paused_during and new_status not in rule.paused_during
        if new_status not in rule.runs_during:
            _stop(timer=timer, at=at, actor=actor, reason=new_status)
        elif entering_pause and timer.status == TimerStatus.RUNNING:
            _pause(timer=timer, reason=_status_pause_reason(new_status), at=at, actor=actor)
        elif leaving_pause and timer.status == TimerStatus.PAUSED and _open_pause_is_the_status_pause(timer):
            # Only the pause the status opened ends with it: a pause set by hand stays until lifted by hand.
            _resume(timer=timer, at=at, actor=actor, overrides=overrides)

    still_open = {timer.kind for timer in open_timers if timer.status in OPEN_STATUSES}
    for rule in clocks_started_by(new_status):
        if case.origin not in rule.origins or rule.kind in still_open:
            continue
        if rule.only_one_sided and not case.one_sided:
            continue
        if rule.length_set_by_court:
            continue
        if rule.once_per_case and Timer.objects.filter(case=case, kind=rule.kind).exists():
            continue
        _start(rule=rule, case=case, at=at, actor=actor, overrides=overrides)
    case_next_due_refresh([case.pk])


def _lock(timer: Timer) -> Timer:
    """Lock the case row, then the timer row: the order case_transition takes them in, so no deadlock."""
    case = Case.objects.select_for_update().get(pk=timer.case_id)
    locked = Timer.objects.select_for_update().get(pk=timer.pk)
    locked.case = case
    return locked


def _require_case_roles(*, actor: User | None, case: Case, roles: set[str], message: str) -> None:
    if not case_roles(actor, case) & roles:
        raise PermissionDenied(message)


def _require_pause_actor(actor: User | None, case: Case) -> None:
    """The case's mediator or its court's clerk, or the platform (``actor=None``)."""
    if actor is not None:
        _require_case_roles(
            actor=actor, case=case, roles={tr.MEDIATOR, tr.CLERK},
            message=_("只有本案调解员或本院立案/诉讼服务人员可以中止或恢复期限。"),
        )


def timer_pause(*, timer: Timer, reason: str, actor: User | None, at: dt.datetime | None = None) -> Timer:
    """Stop the clock by hand for a stretch that does not count (appraisal, OMR 26). The pause stays until
    ``timer_resume`` lifts it, whatever the case's status does meanwhile."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("请写明期限中止的原因。"))
    if reason.startswith(STATUS_PAUSE_PREFIX):
        raise InvalidInput(_("中止原因不能以“%(prefix)s”开头。") % {"prefix": STATUS_PAUSE_PREFIX})
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock(timer)
        _require_pause_actor(actor, locked.case)
        if locked.status != TimerStatus.RUNNING:
            raise StaleState(_("该期限当前不在计时中，不能中止。"))
        _pause(timer=locked, reason=reason, at=at, actor=actor)
        case_next_due_refresh([locked.case_id])
    timer.refresh_from_db()
    return timer


def timer_resume(*, timer: Timer, actor: User | None, at: dt.datetime | None = None) -> Timer:
    """Restart a clock paused by hand. The due date moves later by the paused days (working days for
    working-day timers), with the holiday roll-forward applied again. A pause that a case status opened
    (appraisal) ends when the case leaves that status, not here."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = _lock(timer)
        _require_pause_actor(actor, locked.case)
        if locked.status != TimerStatus.PAUSED:
            raise StaleState(_("该期限当前未中止，无需恢复。"))
        if _open_pause_is_the_status_pause(locked):
            raise InvalidInput(
                _("该期限因案件处于“%(status)s”状态而中止，案件恢复调解时期限自动恢复。")
                % {"status": CaseStatus(locked.case.status).label}
            )
        _resume(timer=locked, at=at, actor=actor, overrides=_OverrideCache())
        case_next_due_refresh([locked.case_id])
    timer.refresh_from_db()
    return timer


def _parties_without_extension_consent(case: Case, since: dt.datetime) -> list[Party]:
    """For the refusal message: the parties whose latest extension answer since ``since`` is not a live grant."""
    missing = []
    for party in case.parties.all():
        latest = (
            Consent.objects.filter(case=case, party=party, kind=ConsentKind.EXTENSION, given_at__gte=since)
            .order_by("-given_at", "-pk")
            .first()
        )
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            missing.append(party)
    return missing


def _require_extension_consent(timer: Timer) -> None:
    """OMR 24: every party agrees to the extension, by a consent recorded after this period began."""
    case = timer.case
    if consent_all_parties_granted(case=case, kind=ConsentKind.EXTENSION, given_after=timer.started_at):
        return
    missing = _parties_without_extension_consent(case, timer.started_at)
    if not missing:
        raise InvalidInput(_("延长调解期限须经全体当事人同意，本案尚无当事人的同意记录。"))
    names = pgettext("list separator", "、").join(party.name for party in missing)
    raise InvalidInput(
        _("延长调解期限须经全体当事人同意：尚缺 %(names)s 在本期限起算后作出且未撤回的“同意延长调解期限”记录。")
        % {"names": names}
    )


def _require_extension_rule(timer: Timer, days: int) -> None:
    """A rule that fixes the extension (§A12 art. 3: once, 30 days) refuses any other length and a second one."""
    rule = TIMER_RULES[timer.kind]
    if rule.extension_days and days != rule.extension_days:
        raise InvalidInput(
            _("该期限只能延长%(days)d日（%(source)s）。") % {"days": rule.extension_days, "source": rule.source}
        )
    if rule.max_extensions is not None and rule.extension_days and (
        timer.extra_days >= rule.extension_days * rule.max_extensions
    ):
        raise InvalidInput(
            _("该期限已经延长过一次，依照%(source)s只能延长一次；期限届满未达成协议的，案件转入审理。")
            % {"source": rule.source}
        )


def timer_extend(*, timer: Timer, days: int, actor: User | None, note: str = "") -> Timer:
    """Lengthen a period by ``days`` (in the timer's unit). OMR 24 allows it only with all parties'
    consent: each party's latest ``extension`` consent since the period began must be a grant not since
    withdrawn. Only a mediator of the case extends; ``note`` is an optional remark for the audit trail."""
    if days <= 0:
        raise InvalidInput(_("延长天数须为正整数。"))
    with transaction.atomic():
        locked = _lock(timer)
        _require_case_roles(
            actor=actor, case=locked.case, roles={tr.MEDIATOR}, message=_("只有本案调解员可以延长调解期限。")
        )
        if locked.status not in OPEN_STATUSES:
            raise StaleState(_("该期限已届满或已结束，不能延长。"))
        _require_extension_rule(locked, days)
        _require_extension_consent(locked)
        consents = list(
            Consent.objects.filter(
                case=locked.case, kind=ConsentKind.EXTENSION, granted=True, withdrawn_at__isnull=True,
                given_at__gte=locked.started_at,
            ).order_by("pk").values_list("pk", flat=True)
        )
        old_due = locked.due_at
        locked.extra_days += days
        _recompute_due_at(locked, _OverrideCache())
        locked.save(update_fields=["extra_days", "due_at"])
        audit_append(
            kind="timer.extended", actor=actor, case=locked.case,
            data=event_data(
                locked, days=days, note=note.strip(), consents=consents, previous_due_at=old_due.isoformat()
            ),
        )
        case_next_due_refresh([locked.case_id])
    timer.refresh_from_db()
    return timer


def timer_start_ordered(*, case: Case, kind: str, length: int, actor: User | None, at: dt.datetime) -> Timer:
    """Start a clock whose length the court ordered (``TimerRule.length_set_by_court``): inside the caller's
    transaction, which holds the case row and has just moved it into the rule's ``starts_on``."""
    rule = TIMER_RULES[kind]
    if not rule.length_set_by_court or case.status not in rule.runs_during:
        raise InvalidInput(_("该期限不能在案件当前状态下起算。"))
    if length <= 0:
        raise InvalidInput(_("期限天数须为正整数。"))
    timer = _start(rule=rule, case=case, at=at, actor=actor, overrides=_OverrideCache(), length=length)
    case_next_due_refresh([case.pk])
    return timer


def timer_lengthen_approved(*, timer: Timer, days: int, actor: User, data: Mapping[str, Any]) -> Timer:
    """Add ``days`` that someone entitled approved (a president's extension, JC-2011 5) to an open timer.
    The caller checks who may approve; runs in its transaction and locks the case row, then the timer."""
    if days <= 0:
        raise InvalidInput(_("延长天数须为正整数。"))
    locked = _lock(timer)
    if locked.status not in OPEN_STATUSES:
        raise StaleState(_("该期限已届满或已结束，不能延长。"))
    old_due = locked.due_at
    locked.extra_days += days
    _recompute_due_at(locked, _OverrideCache())
    locked.save(update_fields=["extra_days", "due_at"])
    audit_append(
        kind="timer.extended", actor=actor, case=locked.case,
        data=event_data(locked, days=days, previous_due_at=old_due.isoformat(), **dict(data)),
    )
    case_next_due_refresh([locked.case_id])
    return locked


def timers_recompute(*, affected_from: dt.date, actor: User | None, cause: Mapping[str, Any]) -> list[Timer]:
    """Recompute the due date of every open timer the working status of ``affected_from`` or any later day
    could move (a holiday entered or removed), recording ``timer.recomputed`` where it moved.

    A due date depends only on days up to its last day, so timers due before that day are left alone.
    Runs in the caller's transaction; locks each case row, then its timer, as case_transition does.
    """
    overrides = _OverrideCache()
    changed: list[Timer] = []
    candidates = list(
        Timer.objects.filter(status__in=OPEN_STATUSES, due_at__gt=calendar.day_end(affected_from - calendar.ONE_DAY))
        .order_by("case_id", "pk")
        .values_list("pk", "case_id")
    )
    with transaction.atomic():
        for timer_id, case_id in candidates:
            case = Case.objects.select_for_update().get(pk=case_id)
            timer = Timer.objects.select_for_update().filter(pk=timer_id, status__in=OPEN_STATUSES).first()
            if timer is None:  # fired or stopped meanwhile
                continue
            timer.case = case
            old_due = timer.due_at
            _recompute_due_at(timer, overrides)
            if timer.due_at == old_due:
                continue
            timer.save(update_fields=["due_at"])
            audit_append(
                kind="timer.recomputed", actor=actor, case=case,
                data=event_data(
                    timer, previous_due_at=old_due.isoformat(),
                    previous_due_date=calendar.last_day(old_due).isoformat(), cause=dict(cause),
                ),
            )
            changed.append(timer)
        case_next_due_refresh(timer.case_id for timer in changed)
    return changed


def timer_start_for_entry(*, case: Case, kind: str, at: dt.datetime, actor: User | None) -> Timer:
    """Start a clock that belongs to one ledger entry rather than to a status (``TimerRule.started_by_service``,
    a contact request's): inside the caller's transaction. Several may be open on one case."""
    rule = TIMER_RULES[kind]
    if not rule.started_by_service:
        raise ValueError(f"{kind} is started by the case's status, not by a service")
    return _start(rule=rule, case=case, at=at, actor=actor, overrides=_OverrideCache())


def timer_stop_for_entry(*, timer: Timer, at: dt.datetime, actor: User | None, reason: str) -> bool:
    """Stop a ledger entry's clock once what it waited for is done; False if it had already fired or stopped.
    Inside the caller's transaction."""
    locked = Timer.objects.select_for_update().get(pk=timer.pk)
    if locked.status not in OPEN_STATUSES:
        return False
    locked.case = timer.case
    _stop(timer=locked, at=at, actor=actor, reason=reason)
    timer.refresh_from_db()
    return True
