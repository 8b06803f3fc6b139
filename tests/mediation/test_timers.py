"""Legal clocks driven by case transitions, pauses, extensions and the sweep (legal-rules §B4)."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from mediation.choices import CaseOrigin, CaseStatus, EndReason, TimerKind, TimerStatus, TimerUnit
from mediation.exceptions import InvalidInput, StaleState
from mediation.models import AuditEvent, Case, HolidayOverride, Timer
from mediation.services.cases import case_transition
from mediation.services.timers import TIMER_RULES, timer_extend, timer_pause, timer_resume, timers_sweep
from mediation.tasks import sweep_due_timers

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def timer_of(case: Case, kind: str) -> Timer:
    """The case's latest timer of ``kind``."""
    return Timer.objects.filter(case=case, kind=kind).latest("pk")


def event_kinds(case: Case) -> list[str]:
    return list(case.audit_events.order_by("seq").values_list("kind", flat=True))


# --- Starting ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_acceptance_starts_a_30_day_mediation_period_due_at_the_end_of_its_last_day(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):  # a Monday
        case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    assert timer.status == TimerStatus.RUNNING
    assert (timer.unit, timer.length) == (TimerUnit.CALENDAR_DAYS, 30)
    assert timer.started_at == local(2025, 3, 3, 10)
    # 03-03 not counted; day 30 is Wed 2025-04-02, a working day; due at its end.
    assert timer.due_at == local(2025, 4, 3)
    started = case.audit_events.filter(kind="timer.started", data__kind=TimerKind.MEDIATION_PERIOD).get()
    assert started.data["due_date"] == "2025-04-02"


@pytest.mark.django_db
@pytest.mark.parametrize(("procedure", "days"), [("ordinary", 15), ("simple", 7)])
def test_an_entrusted_case_gets_the_post_filing_period_for_its_procedure(world, procedure, days):
    case = world.new_case(origin=CaseOrigin.ENTRUSTED)
    Case.objects.filter(pk=case.pk).update(procedure=procedure)
    case.refresh_from_db()
    case = world.drive(case, CaseStatus.ACCEPTED)
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).length == days


@pytest.mark.django_db
def test_submission_starts_the_court_designation_clock_and_selection_the_choice_window(world):
    with time_machine.travel(local(2026, 9, 30, 10), tick=False):  # the eve of Golden Week 2026
        case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
        assert timer_of(case, TimerKind.COURT_DESIGNATION).status == TimerStatus.RUNNING
        assert not Timer.objects.filter(case=case, kind=TimerKind.SELECTION_WINDOW).exists()
        case = world.drive(case, CaseStatus.AWAITING_SELECTION)
    assert timer_of(case, TimerKind.COURT_DESIGNATION).status == TimerStatus.RUNNING
    # 2 working days after Wed 09-30 (Golden Week 10-01…10-07): Thu 10-08, Fri 10-09.
    assert timer_of(case, TimerKind.SELECTION_WINDOW).due_at == local(2026, 10, 10)
    # 3 working days: …and Sat 10-10, a 调休 make-up working day.
    assert timer_of(case, TimerKind.COURT_DESIGNATION).due_at == local(2026, 10, 11)


@pytest.mark.django_db
def test_the_court_designation_clock_is_not_restarted_when_selection_reopens(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    assert timer_of(case, TimerKind.COURT_DESIGNATION).status == TimerStatus.STOPPED
    assert timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE).status == TimerStatus.RUNNING
    case = case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.mediator, note="时间冲突")
    assert Timer.objects.filter(case=case, kind=TimerKind.COURT_DESIGNATION).count() == 1
    assert Timer.objects.filter(case=case, kind=TimerKind.SELECTION_WINDOW).count() == 2
    assert timer_of(case, TimerKind.SELECTION_WINDOW).status == TimerStatus.RUNNING
    assert timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE).status == TimerStatus.STOPPED


@pytest.mark.django_db
def test_seeking_the_respondent_starts_the_three_working_day_contact_clock(world):
    with time_machine.travel(local(2025, 3, 7, 10), tick=False):  # a Friday
        case = world.drive(world.new_case(one_sided=True), CaseStatus.RESPONDENT_PENDING)
    # Mon 03-10, Tue 03-11, Wed 03-12.
    assert timer_of(case, TimerKind.RESPONDENT_CONTACT).due_at == local(2025, 3, 13)
    case = case_transition(case=case, to=CaseStatus.SCHEDULING, actor=world.mediator)
    assert timer_of(case, TimerKind.RESPONDENT_CONTACT).status == TimerStatus.STOPPED
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.RUNNING


# --- Stopping ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_leaving_the_mediating_states_stops_the_mediation_period(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    case = case_transition(
        case=case, to=CaseStatus.TERMINATED, actor=world.mediator, reason=EndReason.POSITIONS_TOO_FAR
    )
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    assert timer.status == TimerStatus.STOPPED
    assert timer.stopped_at is not None
    assert case.audit_events.filter(kind="timer.stopped", data__kind=TimerKind.MEDIATION_PERIOD).count() == 1
    assert not Timer.objects.filter(case=case, status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED]).exists()


@pytest.mark.django_db
def test_the_mediation_period_runs_through_signing_and_stops_when_the_agreement_takes_effect(world):
    case = world.drive(world.new_case(), CaseStatus.SIGNING)
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.RUNNING
    case = world.drive(case, CaseStatus.AGREEMENT_EFFECTIVE)
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.STOPPED


# --- Judicial-confirmation window ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_jc_window_starts_at_agreement_effective_at(world):
    case = world.drive(world.new_case(), CaseStatus.SIGNING)
    effective_at = local(2025, 3, 20, 23, 30)  # the last signature, recorded before the transition ran
    with time_machine.travel(local(2025, 3, 21, 9), tick=False):
        case = case_transition(
            case=case, to=CaseStatus.AGREEMENT_EFFECTIVE, actor=world.mediator, data={"effective_at": effective_at}
        )
    timer = timer_of(case, TimerKind.JC_APPLICATION_WINDOW)
    assert timer.started_at == effective_at
    # 03-20 not counted; day 30 is Sat 2025-04-19, so the window rolls to Mon 04-21 (CPL 85, CPL 205).
    assert timer.due_at == local(2025, 4, 22)


@pytest.mark.django_db
def test_the_jc_window_keeps_running_after_closing_and_stops_on_application(world):
    case = world.drive(world.new_case(), CaseStatus.CLOSED_SETTLED)
    assert timer_of(case, TimerKind.JC_APPLICATION_WINDOW).status == TimerStatus.RUNNING
    case = world.drive(case, CaseStatus.JC_SUBMITTED)
    assert timer_of(case, TimerKind.JC_APPLICATION_WINDOW).status == TimerStatus.STOPPED


@pytest.mark.django_db
def test_an_entrusted_agreement_has_no_jc_window(world):
    case = world.drive(world.new_case(origin=CaseOrigin.ENTRUSTED), CaseStatus.AGREEMENT_EFFECTIVE)
    assert not Timer.objects.filter(case=case, kind=TimerKind.JC_APPLICATION_WINDOW).exists()


# --- Pauses and extensions -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pause_for_appraisal_extends_the_mediation_period_by_the_paused_days(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
        assert timer_of(case, TimerKind.MEDIATION_PERIOD).due_at == local(2025, 4, 3)

        traveller.move_to(local(2025, 3, 10, 10))
        case = case_transition(case=case, to=CaseStatus.APPRAISAL_PAUSED, actor=world.mediator)
        timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
        assert timer.status == TimerStatus.PAUSED
        assert timer.pauses.get().ended_at is None

        traveller.move_to(local(2025, 3, 17, 15))
        case = case_transition(case=case, to=CaseStatus.IN_MEDIATION, actor=world.mediator)
    timer.refresh_from_db()
    assert timer.status == TimerStatus.RUNNING
    assert timer.pauses.get().ended_at == local(2025, 3, 17, 15)
    # Paused 03-10 → 03-17: seven days not counted, so the last day moves from Wed 04-02 to Wed 04-09.
    assert timer.due_at == local(2025, 4, 10)
    kinds = event_kinds(case)
    assert kinds.index("timer.paused") < kinds.index("timer.resumed")


@pytest.mark.django_db
def test_a_paused_period_does_not_fire(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.APPRAISAL_PAUSED)
    assert timers_sweep(now=local(2025, 12, 31)) == []
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.PAUSED


@pytest.mark.django_db
def test_resuming_recomputes_the_holiday_roll_forward(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    timer_pause(timer=timer, reason="委托鉴定", actor=world.mediator, at=local(2025, 3, 10, 9))
    timer = timer_resume(timer=timer, actor=world.mediator, at=local(2025, 3, 20, 16))
    # 30 + 10 paused days from 03-03 = Sat 04-12; the weekend rolls it to Mon 04-14.
    assert timer.due_at == local(2025, 4, 15)


@pytest.mark.django_db
def test_a_working_day_timer_pause_counts_the_paused_working_days(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):  # Monday
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    timer = timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE)
    assert timer.due_at == local(2025, 3, 7)  # Tue, Wed, Thu
    timer_pause(timer=timer, reason="调解员请假", actor=world.org_admin, at=local(2025, 3, 4, 11))
    timer = timer_resume(timer=timer, actor=world.org_admin, at=local(2025, 3, 10, 9))
    # Paused working days in (Tue 03-04, Mon 03-10]: 03-05, 03-06, 03-07, 03-10 = 4; 3 + 4 = 7 working days
    # from 03-03 end on Wed 03-12.
    assert timer.due_at == local(2025, 3, 13)


@pytest.mark.django_db
def test_pausing_a_timer_that_is_not_running_is_refused(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    timer = timer_of(case, TimerKind.COURT_DESIGNATION)  # stopped on assignment
    with pytest.raises(StaleState):
        timer_pause(timer=timer, reason="x", actor=world.clerk)
    with pytest.raises(StaleState):
        timer_resume(timer=timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE), actor=world.clerk)


@pytest.mark.django_db
def test_an_extension_with_all_parties_consent_moves_the_due_date_and_is_audited(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    timer = timer_extend(timer=timer, days=7, actor=world.mediator, consent_note="各方于 2025-03-28 书面同意延长")
    assert timer.extra_days == 7
    assert timer.due_at == local(2025, 4, 10)  # 37 days from 03-03: Wed 04-09
    event = case.audit_events.get(kind="timer.extended")
    assert event.data["consent_note"] == "各方于 2025-03-28 书面同意延长"
    assert event.data["due_date"] == "2025-04-09"


@pytest.mark.django_db
def test_an_extension_without_a_consent_note_is_refused(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    with pytest.raises(InvalidInput):
        timer_extend(timer=timer, days=7, actor=world.mediator, consent_note="  ")
    with pytest.raises(InvalidInput):
        timer_extend(timer=timer, days=0, actor=world.mediator, consent_note="各方同意")


# --- Years beyond the package's data --------------------------------------------------------------------


@pytest.mark.django_db
def test_in_2031_working_day_timers_use_weekends_plus_entered_holidays(world):
    for day in range(1, 8):
        HolidayOverride.objects.create(date=dt.date(2031, 10, day), is_workday=False, name="国庆节")
    with time_machine.travel(local(2031, 9, 30, 10), tick=False):  # a Tuesday
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    # 3 working days after 09-30, skipping the entered 10-01…10-07: Wed 10-08, Thu 10-09, Fri 10-10.
    assert timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE).due_at == local(2031, 10, 11)


# --- Sweeping ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_fires_a_due_timer_once_and_a_second_sweep_fires_nothing(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    assert timers_sweep(now=timer.due_at - dt.timedelta(microseconds=1)) == []

    with time_machine.travel(local(2025, 4, 3, 0, 1), tick=False):
        fired = timers_sweep()
        again = timers_sweep()
    assert [t.pk for t in fired] == [timer.pk]
    assert again == []
    timer.refresh_from_db()
    assert timer.status == TimerStatus.FIRED
    assert timer.fired_at == local(2025, 4, 3, 0, 1)
    expired = case.audit_events.get(kind="timer.expired")
    assert expired.data["kind"] == TimerKind.MEDIATION_PERIOD
    assert expired.data["due_date"] == "2025-04-02"
    assert expired.actor is None
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION  # the period's expiry is recorded; people decide what follows


@pytest.mark.django_db
def test_a_mediator_acceptance_lapse_moves_the_case_back_to_awaiting_selection(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        traveller.move_to(local(2025, 3, 7, 8))  # Thu 03-06 was the third working day
        fired = timers_sweep()
    assert [t.kind for t in fired] == [TimerKind.MEDIATOR_ACCEPTANCE]
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_SELECTION
    lapse = case.audit_events.get(kind="case.acceptance_lapsed")
    assert lapse.actor is None
    assert lapse.data["rule"] == "OMR 12"
    kinds = event_kinds(case)
    assert kinds.index("timer.expired") < kinds.index("case.acceptance_lapsed")
    assert timer_of(case, TimerKind.SELECTION_WINDOW).status == TimerStatus.RUNNING


@pytest.mark.django_db
def test_an_expiry_whose_case_moved_on_is_recorded_and_the_sweep_goes_on(world):
    stale = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    other = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    # Simulate a race the locks normally prevent: the case left ASSIGNED without the clock noticing.
    Case.objects.filter(pk=stale.pk).update(status=CaseStatus.AGREEMENT_DRAFT)
    Timer.objects.filter(case__in=[stale, other]).update(due_at=local(2025, 1, 1))

    fired = timers_sweep()

    assert {t.case_id for t in fired} == {stale.pk, other.pk}
    skipped = stale.audit_events.get(kind="timer.expiry_action_skipped")
    assert skipped.data["error"] == "transition_not_allowed"
    stale.refresh_from_db()
    assert stale.status == CaseStatus.AGREEMENT_DRAFT


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_fire_each_timer_exactly_once(world):
    lapsing = [world.drive(world.new_case(), CaseStatus.ASSIGNED) for _ in range(3)]
    mediating = [world.drive(world.new_case(), CaseStatus.IN_MEDIATION) for _ in range(3)]
    due = list(Timer.objects.filter(status=TimerStatus.RUNNING).values_list("pk", flat=True))
    assert len(due) == 6
    far_future = local(2030, 1, 1)
    start = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait(timeout=10)
            results.append([t.pk for t in timers_sweep(now=far_future)])
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    fired = [pk for result in results for pk in result]
    assert len(fired) == len(set(fired))  # none twice
    # Every timer due at the start fired. A sweep that began after another had committed a lapse may also
    # fire the selection window that lapse started: it too is due by 2030, and it too fires only once.
    assert set(due) <= set(fired)
    assert set(fired) == set(Timer.objects.filter(status=TimerStatus.FIRED).values_list("pk", flat=True))
    for pk in fired:
        assert AuditEvent.objects.filter(kind="timer.expired", data__timer=pk).count() == 1
    for case in lapsing:
        case.refresh_from_db()
        assert case.status == CaseStatus.AWAITING_SELECTION
        assert case.audit_events.filter(kind="case.acceptance_lapsed").count() == 1
    for case in mediating:
        assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.FIRED


@pytest.mark.django_db
def test_the_celery_task_and_the_command_sweep_due_timers(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    Timer.objects.filter(case=case).update(due_at=local(2025, 1, 1))
    assert sweep_due_timers.delay().get() == 1
    out = StringIO()
    call_command("sweep_timers", stdout=out)
    assert out.getvalue().strip() == "0 timer(s) fired"


def test_every_timer_kind_has_a_rule_citing_its_source():
    assert set(TIMER_RULES) == set(TimerKind)
    for rule in TIMER_RULES.values():
        assert rule.source
        assert rule.starts_on in rule.runs_during
        assert rule.paused_during <= rule.runs_during
