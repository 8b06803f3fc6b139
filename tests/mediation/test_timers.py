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

from mediation import transitions as tr
from mediation.calendar import last_covered_year
from mediation.choices import (
    CaseOrigin,
    CaseStatus,
    ConsentKind,
    EndReason,
    PartyRole,
    Sector,
    TimerKind,
    TimerStatus,
    TimerUnit,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.lifecycle import MEDIATION_PERIOD_STATUSES, TIMER_RULES
from mediation.models import AuditEvent, Case, HolidayOverride, NoticeText, Party, Timer, User
from mediation.services.cases import case_create, case_transition
from mediation.services.consents import consent_all_parties_granted, consent_record, notice_text_publish
from mediation.services.timer_sweep import sweep_due_timers, timers_sweep
from mediation.services.timers import timer_extend, timer_pause, timer_resume

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def timer_of(case: Case, kind: str) -> Timer:
    """The case's latest timer of ``kind``."""
    return Timer.objects.filter(case=case, kind=kind).latest("pk")


def event_kinds(case: Case) -> list[str]:
    return list(case.audit_events.order_by("seq").values_list("kind", flat=True))


def extension_text() -> NoticeText:
    return notice_text_publish(
        code="omr24.extension", title="同意延长调解期限", body="本人同意将本案调解期限延长。", actor=None
    )


def consent_to_extend(case: Case, *, role: str, actor: User, granted: bool = True) -> None:
    """Record the answer of the party in ``role``, given by ``actor`` (the party or an agent)."""
    party = Party.objects.get(case=case, role=role)
    consent_record(
        case=case, party=party, actor=actor, kind=ConsentKind.EXTENSION, granted=granted, text=extension_text()
    )


def all_parties_consent_to_extend(world, case: Case) -> None:
    consent_to_extend(case, role=PartyRole.APPLICANT, actor=world.applicant)
    consent_to_extend(case, role=PartyRole.RESPONDENT, actor=world.lawyer)  # the special-authority agent


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
def test_accepting_a_one_sided_case_starts_the_respondent_contact_clock_which_runs_while_seeking(world):
    with time_machine.travel(local(2025, 3, 7, 10), tick=False):  # a Friday
        case = world.drive(world.new_case(one_sided=True), CaseStatus.ACCEPTED)
    timer = timer_of(case, TimerKind.RESPONDENT_CONTACT)
    assert timer.status == TimerStatus.RUNNING
    assert timer.started_at == local(2025, 3, 7, 10)
    # Mon 03-10, Tue 03-11, Wed 03-12.
    assert timer.due_at == local(2025, 3, 13)
    case = case_transition(case=case, to=CaseStatus.RESPONDENT_PENDING, actor=world.mediator)
    assert Timer.objects.filter(case=case, kind=TimerKind.RESPONDENT_CONTACT).count() == 1  # not restarted
    timer.refresh_from_db()
    assert (timer.status, timer.due_at) == (TimerStatus.RUNNING, local(2025, 3, 13))
    case = case_transition(case=case, to=CaseStatus.SCHEDULING, actor=world.mediator)
    assert timer_of(case, TimerKind.RESPONDENT_CONTACT).status == TimerStatus.STOPPED
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.RUNNING


@pytest.mark.django_db
def test_scheduling_a_one_sided_case_straight_from_acceptance_stops_the_contact_clock(world):
    case = world.drive(world.new_case(one_sided=True), CaseStatus.ACCEPTED)
    case = case_transition(case=case, to=CaseStatus.SCHEDULING, actor=world.mediator)
    assert timer_of(case, TimerKind.RESPONDENT_CONTACT).status == TimerStatus.STOPPED


@pytest.mark.django_db
def test_a_case_that_is_not_one_sided_gets_no_respondent_contact_clock(world):
    case = world.drive(world.new_case(one_sided=False), CaseStatus.ACCEPTED)
    case = case_transition(case=case, to=CaseStatus.RESPONDENT_PENDING, actor=world.mediator)
    assert not Timer.objects.filter(case=case, kind=TimerKind.RESPONDENT_CONTACT).exists()
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
    with time_machine.travel(local(2025, 3, 19, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.SIGNING)
    effective_at = local(2025, 3, 20, 23, 30)  # the last signature, recorded before the transition ran
    with time_machine.travel(local(2025, 3, 21, 9), tick=False):
        # agreement_signed is the signing service's own step: the platform takes it (actor=None).
        case = case_transition(
            case=case, to=CaseStatus.AGREEMENT_EFFECTIVE, actor=None, data={"effective_at": effective_at}
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
    timer_pause(timer=timer, reason="调解员请假", actor=world.clerk, at=local(2025, 3, 4, 11))
    timer = timer_resume(timer=timer, actor=world.clerk, at=local(2025, 3, 10, 9))
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
@pytest.mark.parametrize("who", ["outsider", "applicant", "lawyer", "other_judge", "other_mediator", None])
def test_pausing_or_resuming_by_hand_is_refused_to_anyone_but_the_cases_mediator_or_clerk(world, who):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    actor = getattr(world, who) if who else None
    if actor is None:  # the platform itself may
        timer = timer_pause(timer=timer, reason="委托鉴定", actor=None)
        assert timer_resume(timer=timer, actor=None).status == TimerStatus.RUNNING
        return
    with pytest.raises(PermissionDenied, match="调解员"):
        timer_pause(timer=timer, reason="委托鉴定", actor=actor)
    timer.refresh_from_db()
    assert timer.status == TimerStatus.RUNNING
    timer_pause(timer=timer, reason="委托鉴定", actor=world.mediator)
    with pytest.raises(PermissionDenied):
        timer_resume(timer=timer, actor=actor)
    timer.refresh_from_db()
    assert timer.status == TimerStatus.PAUSED
    assert timer_resume(timer=timer, actor=world.clerk).status == TimerStatus.RUNNING


@pytest.mark.django_db
def test_leaving_appraisal_does_not_lift_a_pause_set_by_hand(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
        timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
        traveller.move_to(local(2025, 3, 5, 10))
        timer_pause(timer=timer, reason="当事人住院", actor=world.mediator)
        traveller.move_to(local(2025, 3, 6, 10))
        case = case_transition(case=case, to=CaseStatus.APPRAISAL_PAUSED, actor=world.mediator)
        traveller.move_to(local(2025, 3, 10, 10))
        case = case_transition(case=case, to=CaseStatus.IN_MEDIATION, actor=world.mediator)
        timer.refresh_from_db()
        assert timer.status == TimerStatus.PAUSED
        assert list(timer.pauses.values_list("reason", "ended_at")) == [("当事人住院", None)]
        traveller.move_to(local(2025, 3, 12, 10))
        timer = timer_resume(timer=timer, actor=world.mediator)
    assert timer.status == TimerStatus.RUNNING
    # Paused 03-05 → 03-12: seven days, so the last day moves from Wed 04-02 to Wed 04-09.
    assert timer.due_at == local(2025, 4, 10)


@pytest.mark.django_db
def test_the_appraisal_pause_is_lifted_by_the_status_not_by_hand(world):
    case = world.drive(world.new_case(), CaseStatus.APPRAISAL_PAUSED)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    with pytest.raises(InvalidInput, match="鉴定评估"):
        timer_resume(timer=timer, actor=world.mediator)
    running = timer_of(world.drive(world.new_case(), CaseStatus.IN_MEDIATION), TimerKind.MEDIATION_PERIOD)
    with pytest.raises(InvalidInput):  # nor may a hand-set pause pass itself off as the status's
        timer_pause(timer=running, reason="status:appraisal_paused", actor=world.mediator)
    case = case_transition(case=case, to=CaseStatus.IN_MEDIATION, actor=world.mediator)
    assert timer_of(case, TimerKind.MEDIATION_PERIOD).status == TimerStatus.RUNNING


@pytest.mark.django_db
def test_an_extension_with_every_partys_consent_moves_the_due_date_and_is_audited(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    all_parties_consent_to_extend(world, case)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    timer = timer_extend(timer=timer, days=7, actor=world.mediator, note="各方在线确认")
    assert timer.extra_days == 7
    assert timer.due_at == local(2025, 4, 10)  # 37 days from 03-03: Wed 04-09
    event = case.audit_events.get(kind="timer.extended")
    assert event.actor == world.mediator
    assert event.data["note"] == "各方在线确认"
    assert event.data["due_date"] == "2025-04-09"
    assert len(event.data["consents"]) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "applicant", "lawyer", "other_judge", "other_mediator", "clerk", None])
def test_an_extension_by_anyone_but_a_mediator_of_the_case_is_refused(world, who):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    all_parties_consent_to_extend(world, case)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    with pytest.raises(PermissionDenied, match="调解员"):
        timer_extend(timer=timer, days=7, actor=getattr(world, who) if who else None)
    timer.refresh_from_db()
    assert timer.extra_days == 0


@pytest.mark.django_db
def test_an_extension_missing_one_partys_consent_is_refused_naming_that_party(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    consent_to_extend(case, role=PartyRole.APPLICANT, actor=world.applicant)
    timer = timer_of(case, TimerKind.MEDIATION_PERIOD)
    with pytest.raises(InvalidInput, match=world.respondent.real_name) as refused:
        timer_extend(timer=timer, days=7, actor=world.mediator)
    assert world.applicant.real_name not in str(refused.value)
    assert "同意延长调解期限" in str(refused.value)
    timer.refresh_from_db()
    assert timer.extra_days == 0
    assert not case.audit_events.filter(kind="timer.extended").exists()


@pytest.mark.django_db
def test_a_refused_answer_after_a_grant_leaves_the_extension_refused(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    all_parties_consent_to_extend(world, case)
    consent_to_extend(case, role=PartyRole.RESPONDENT, actor=world.respondent, granted=False)
    with pytest.raises(InvalidInput, match=world.respondent.real_name):
        timer_extend(timer=timer_of(case, TimerKind.MEDIATION_PERIOD), days=7, actor=world.mediator)


@pytest.mark.django_db
def test_consent_given_before_the_period_began_does_not_extend_it(world):
    with time_machine.travel(local(2025, 3, 1, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
        all_parties_consent_to_extend(world, case)
        traveller.move_to(local(2025, 3, 3, 10))
        case = world.drive(case, CaseStatus.IN_MEDIATION)
    with pytest.raises(InvalidInput):
        timer_extend(timer=timer_of(case, TimerKind.MEDIATION_PERIOD), days=7, actor=world.mediator)


@pytest.mark.django_db
def test_an_extension_of_zero_days_is_refused(world):
    case = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)
    all_parties_consent_to_extend(world, case)
    with pytest.raises(InvalidInput):
        timer_extend(timer=timer_of(case, TimerKind.MEDIATION_PERIOD), days=0, actor=world.mediator)


@pytest.mark.django_db
def test_no_parties_means_no_consent_of_all_parties(world):
    case = case_create(
        actor=world.clerk, origin=CaseOrigin.PARTY_APPLICATION, court=world.court, dispute_type=Sector.LABOUR,
        title="无当事人", mediation_organisation=world.partner,
    )
    assert not consent_all_parties_granted(case=case, kind=ConsentKind.EXTENSION)


# --- Years beyond the package's data --------------------------------------------------------------------


@pytest.mark.django_db
def test_in_2031_working_day_timers_use_weekends_plus_entered_holidays(world):
    assert last_covered_year() < 2031  # a year the package has no data for
    for day in range(1, 8):
        HolidayOverride.objects.create(date=dt.date(2031, 10, day), is_workday=False, name="国庆节")
    with time_machine.travel(local(2031, 9, 30, 10), tick=False):  # a Tuesday
        case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    # 3 working days after 09-30, skipping the entered 10-01…10-07: Wed 10-08, Thu 10-09, Fri 10-10.
    assert timer_of(case, TimerKind.MEDIATOR_ACCEPTANCE).due_at == local(2031, 10, 11)


# --- Sweeping ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_fires_a_due_timer_once_and_the_expired_period_terminates_the_case(world):
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
    # OMR 25(6): the period expired with no agreement and no agreed extension, so mediation ends.
    case.refresh_from_db()
    assert (case.status, case.end_reason) == (CaseStatus.TERMINATED, EndReason.PERIOD_EXPIRED)
    terminated = case.audit_events.get(kind="case.terminate")
    assert terminated.actor is None
    assert terminated.data["reason"] == EndReason.PERIOD_EXPIRED
    kinds = event_kinds(case)
    assert kinds.index("timer.expired") < kinds.index("case.terminate")


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
def test_a_period_expiring_during_signing_terminates_mediation(world):
    """OMR 25(6): the period runs through signing (OMR 24); an agreement that has not taken effect when it ends
    does not keep mediation alive."""
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        signing = world.drive(world.new_case(), CaseStatus.SIGNING)
        other = world.drive(world.new_case(), CaseStatus.IN_MEDIATION)

    fired = timers_sweep(now=local(2025, 4, 3, 0, 1))

    assert {t.case_id for t in fired} == {signing.pk, other.pk}
    assert not signing.audit_events.filter(kind="timer.expiry_action_skipped").exists()
    signing.refresh_from_db()
    assert signing.status == CaseStatus.TERMINATED
    assert signing.end_reason == EndReason.PERIOD_EXPIRED
    event = signing.audit_events.get(kind="case.period_expired_in_signing")
    assert event.actor is None and event.data["rule"] == "OMR 25(6)"
    assert timer_of(signing, TimerKind.MEDIATION_PERIOD).status == TimerStatus.FIRED
    other.refresh_from_db()
    assert other.status == CaseStatus.TERMINATED


@pytest.mark.django_db
def test_the_jc_window_expiry_moves_a_settled_case_to_performance_tracking(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.CLOSED_SETTLED)
    timer = timer_of(case, TimerKind.JC_APPLICATION_WINDOW)
    assert timers_sweep(now=timer.due_at - dt.timedelta(microseconds=1)) == []

    assert [t.pk for t in timers_sweep(now=timer.due_at)] == [timer.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.PERFORMANCE_TRACKING
    tracking = case.audit_events.get(kind="case.track_performance")
    assert tracking.actor is None
    kinds = event_kinds(case)
    assert kinds.index("timer.expired") < kinds.index("case.track_performance")


@pytest.mark.django_db
def test_a_jc_window_expiring_before_the_case_is_closed_is_recorded_as_skipped(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = world.drive(world.new_case(), CaseStatus.AGREEMENT_EFFECTIVE)
    timer = timer_of(case, TimerKind.JC_APPLICATION_WINDOW)
    assert [t.pk for t in timers_sweep(now=timer.due_at)] == [timer.pk]
    case.refresh_from_db()
    assert case.status == CaseStatus.AGREEMENT_EFFECTIVE
    skipped = case.audit_events.get(kind="timer.expiry_action_skipped")
    assert skipped.data["to"] == CaseStatus.PERFORMANCE_TRACKING
    assert skipped.data["error"] == "transition_not_allowed"


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
        case.refresh_from_db()
        assert case.status == CaseStatus.TERMINATED
        assert case.audit_events.filter(kind="case.terminate").count() == 1


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
        assert not rule.expiry_reason or rule.expiry_moves_to


def test_every_expiry_action_is_a_platform_row_from_a_status_the_timer_runs_in():
    for rule in TIMER_RULES.values():
        if rule.expiry_moves_to is None:
            continue
        rows = [
            row for row in tr.TRANSITIONS
            if row.source in rule.runs_during and row.target == rule.expiry_moves_to and tr.SYSTEM in row.roles
            and (row.reasons is None if not rule.expiry_reason else rule.expiry_reason in row.reasons)
        ]
        assert rows, rule.kind


def test_the_mediation_period_runs_while_mediating_and_signing():
    expected = frozenset(tr.MEDIATING) | {CaseStatus.SIGNING}
    assert expected == MEDIATION_PERIOD_STATUSES
    assert TIMER_RULES[TimerKind.MEDIATION_PERIOD].runs_during == expected
