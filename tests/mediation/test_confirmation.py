"""The court's side of judicial confirmation (issue 11; legal-rules §A3, §A5, §A11.3, §B4 T10-T13, §B8): each act's
happy path and refusals, every clock under time-machine, and bad input that leaves nothing half-saved."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from mediation import transitions as tr
from mediation.choices import (
    CaseStatus,
    ConfirmationOutcome,
    DismissalGround,
    MessageChannel,
    NotAcceptGround,
    Role,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, TransitionNotAllowed
from mediation.models import AuditEvent, Case, ConfirmationApplication, OutboxMessage, SupplementRequest, Timer
from mediation.permissions import case_roles
from mediation.selectors.confirmation import confirmation_for_party, court_inbox_for_judge
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_allow_withdrawal,
    confirmation_application_receive,
    confirmation_deem_withdrawn,
    confirmation_extension_approve,
    confirmation_not_accept,
    confirmation_request_supplement,
    confirmation_rule,
    confirmation_ruling_served,
    confirmation_supplement_file,
    normalise_case_number,
)
from mediation.services.reminders import timers_remind
from mediation.services.timer_sweep import timers_sweep
from tests.factories import UserFactory, add_member

S = CaseStatus
NUMBER = "（2025）京0101民特12号"


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=timezone.get_default_timezone())


def submitted(world, *, at: dt.datetime | None = None) -> Case:
    """A case whose agreement took effect and whose joint application just reached the court."""
    case = world.drive(world.new_case(), S.CLOSED_SETTLED)
    confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64, at=at)
    return Case.objects.get(pk=case.pk)


def accepted(world) -> Case:
    case = submitted(world)
    confirmation_accept(case=case, actor=world.judge, case_number=NUMBER)
    return Case.objects.get(pk=case.pk)


def counts() -> tuple[int, ...]:
    return (
        AuditEvent.objects.count(), ConfirmationApplication.objects.exclude(case_number="").count(),
        SupplementRequest.objects.count(), Timer.objects.count(), OutboxMessage.objects.count(),
    )


def open_timer(case: Case, kind: str) -> Timer:
    return Timer.objects.get(case=case, kind=kind, status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED])


NOT_JUDGES = ["other_judge", "mediator", "applicant", "lawyer", "outsider", "clerk", "org_admin"]


# --- Reaching the court ------------------------------------------------------------------------------------


def test_an_application_reaching_the_court_tells_its_judges_by_inbox_and_sms(world):
    case = submitted(world)
    assert case.status == S.JC_SUBMITTED
    application = ConfirmationApplication.objects.get(case=case)
    assert application.case_number == ""
    messages = OutboxMessage.objects.filter(recipient=world.judge, case=case)
    assert {m.channel for m in messages} == {MessageChannel.IN_APP, MessageChannel.SMS}
    assert not OutboxMessage.objects.filter(recipient=world.other_judge).exists()
    assert open_timer(case, TimerKind.JC_ACCEPTANCE).length == 3


def test_an_application_after_day_30_is_refused_and_nothing_is_saved(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), S.CLOSED_SETTLED)
        traveller.move_to(local(2025, 4, 8, 10))
        before = counts()
        with pytest.raises(InvalidInput, match="三十日"):
            confirmation_application_receive(case=case, document_id=None, title="t", sha256="0" * 64)
    assert Case.objects.get(pk=case.pk).status == S.CLOSED_SETTLED
    assert counts() == before
    assert not ConfirmationApplication.objects.filter(case=case).exists()


# --- Accept, not accept ------------------------------------------------------------------------------------


def test_the_judge_accepts_with_the_courts_case_number(world):
    case = accepted(world)
    assert case.status == S.JC_UNDER_REVIEW
    application = ConfirmationApplication.objects.get(case=case)
    assert (application.case_number, application.accepted_by) == (NUMBER, world.judge)
    assert AuditEvent.objects.filter(case=case, kind="case.accept_confirmation", data__case_number=NUMBER).exists()
    assert open_timer(case, TimerKind.JC_DECISION).length == 15
    assert open_timer(case, TimerKind.JC_CEILING).length == 30
    assert not Timer.objects.filter(case=case, kind=TimerKind.JC_ACCEPTANCE, status=TimerStatus.RUNNING).exists()


@pytest.mark.parametrize("raw", ["(2025)京0101民特12号", " （2025）京0101民特12号 "])
def test_half_width_brackets_and_spaces_are_forgiven(raw):
    assert normalise_case_number(raw, court_code="京0101") == NUMBER


@pytest.mark.parametrize("bad", [
    "", "12", "2025京0101民特12号", "（2025）京0101民初12号", "（25）京0101民特12号", "（2025）京0101民特0号",
    "（1999）京0101民特12号", "（2025）京0102民特12号",
])
def test_a_case_number_in_a_wrong_shape_is_refused_and_nothing_is_saved(world, bad):
    case = submitted(world)
    before = counts()
    with pytest.raises(InvalidInput):
        confirmation_accept(case=case, actor=world.judge, case_number=bad)
    assert Case.objects.get(pk=case.pk).status == S.JC_SUBMITTED
    assert counts() == before


def test_a_case_number_already_used_is_refused(world):
    accepted(world)
    second = submitted(world)
    with pytest.raises(InvalidInput, match="已用于"):
        confirmation_accept(case=second, actor=world.judge, case_number=NUMBER)


def test_the_pre_filing_number_shape_is_accepted(world):
    case = submitted(world)
    confirmation_accept(case=case, actor=world.judge, case_number="（2025）京0101诉前调确7号")
    assert Case.objects.get(pk=case.pk).status == S.JC_UNDER_REVIEW


def test_an_application_made_late_cannot_be_accepted(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):
        case = submitted(world)
    ConfirmationApplication.objects.filter(case=case).update(submitted_at=local(2025, 4, 20, 10))
    before = counts()
    with pytest.raises(InvalidInput, match="超过"):
        confirmation_accept(case=case, actor=world.judge, case_number=NUMBER)
    assert counts() == before
    confirmation_not_accept(case=case, actor=world.judge, ground=NotAcceptGround.LATE)
    assert Case.objects.get(pk=case.pk).status == S.JC_NOT_ACCEPTED


@pytest.mark.parametrize("name", NOT_JUDGES)
def test_only_a_judge_of_the_court_accepts(world, name):
    case = submitted(world)
    before = counts()
    with pytest.raises(PermissionDenied):
        confirmation_accept(case=case, actor=getattr(world, name), case_number=NUMBER)
    assert counts() == before


def test_not_accepted_on_an_interp_355_ground(world):
    case = submitted(world)
    application = confirmation_not_accept(
        case=case, actor=world.judge, ground=NotAcceptGround.PERSONAL_STATUS, note="协议第二条确认收养关系"
    )
    assert Case.objects.get(pk=case.pk).status == S.JC_NOT_ACCEPTED
    assert (application.outcome, application.ground) == (ConfirmationOutcome.NOT_ACCEPTED, "personal_status")
    event = AuditEvent.objects.get(case=case, kind="case.not_accept")
    assert event.data["note"].startswith("涉及身份关系")


def test_not_accepting_needs_a_ground(world):
    case = submitted(world)
    before = counts()
    with pytest.raises(InvalidInput, match="三百五十五"):
        confirmation_not_accept(case=case, actor=world.judge, ground="", note="x")
    assert counts() == before


@pytest.mark.parametrize("name", NOT_JUDGES)
def test_only_a_judge_does_not_accept(world, name):
    case = submitted(world)
    with pytest.raises(PermissionDenied):
        confirmation_not_accept(case=case, actor=getattr(world, name), ground=NotAcceptGround.OWNERSHIP)


# --- Supplements and deemed withdrawal (T11; Interp 357) ---------------------------------------------------


def test_supplements_pause_acceptance_and_the_parties_see_what_is_asked(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = submitted(world)
        request = confirmation_request_supplement(case=case, actor=world.judge, items="房产权属证明", days=7)
        case.refresh_from_db()
        assert case.status == S.JC_SUPPLEMENT_REQUESTED
        assert open_timer(case, TimerKind.JC_ACCEPTANCE).status == TimerStatus.PAUSED
        supplement = open_timer(case, TimerKind.JC_SUPPLEMENT)
        assert supplement.length == 7 and supplement.due_at == request.due_at
        assert OutboxMessage.objects.filter(case=case, recipient=world.applicant, channel=MessageChannel.SMS).exists()
        mine = confirmation_for_party(user=world.applicant, case=case)
        assert mine is not None and mine.open_request == request and mine.may_file
        assert confirmation_for_party(user=world.outsider, case=case) is None
        assert confirmation_for_party(user=world.mediator, case=case) is None

        traveller.move_to(local(2025, 3, 5, 10))
        confirmation_supplement_file(case=case, actor=world.applicant, note="已上传不动产权证书")
    case.refresh_from_db()
    assert case.status == S.JC_SUBMITTED
    assert open_timer(case, TimerKind.JC_ACCEPTANCE).status == TimerStatus.RUNNING
    assert SupplementRequest.objects.get(pk=request.pk).filed_by == world.applicant


@pytest.mark.parametrize("name", NOT_JUDGES)
def test_only_a_judge_asks_for_supplements(world, name):
    case = submitted(world)
    before = counts()
    with pytest.raises(PermissionDenied):
        confirmation_request_supplement(case=case, actor=getattr(world, name), items="x", days=5)
    assert counts() == before


@pytest.mark.parametrize("days", [0, -1, 61])
def test_a_supplement_deadline_out_of_range_is_refused(world, days):
    case = submitted(world)
    before = counts()
    with pytest.raises(InvalidInput):
        confirmation_request_supplement(case=case, actor=world.judge, items="x", days=days)
    assert counts() == before


def test_a_lapsed_supplement_offers_deemed_withdrawal_but_does_not_withdraw(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = submitted(world)
        confirmation_request_supplement(case=case, actor=world.judge, items="身份证明", days=7)
        traveller.move_to(local(2025, 3, 10, 10))  # day 7: still within the deadline
        with pytest.raises(InvalidInput, match="尚未届满"):
            confirmation_deem_withdrawn(case=case, actor=world.judge)
        traveller.move_to(local(2025, 3, 11, 9))
        timers_sweep()
        case.refresh_from_db()
        assert case.status == S.JC_SUPPLEMENT_REQUESTED  # not automatic (Interp 357: "may")
        inbox = court_inbox_for_judge(user=world.judge)
        assert [row.lapsed for row in inbox.rows if row.case.pk == case.pk] == [True]
        with pytest.raises(PermissionDenied):
            confirmation_deem_withdrawn(case=case, actor=world.clerk)
        application = confirmation_deem_withdrawn(case=case, actor=world.judge)
    assert Case.objects.get(pk=case.pk).status == S.JC_WITHDRAWN
    assert application.outcome == ConfirmationOutcome.DEEMED_WITHDRAWN


def test_only_a_party_in_person_or_with_special_authority_files_supplements(world):
    case = submitted(world)
    confirmation_request_supplement(case=case, actor=world.judge, items="x", days=5)
    for name in ("mediator", "outsider", "judge"):
        with pytest.raises(PermissionDenied):
            confirmation_supplement_file(case=case, actor=getattr(world, name), note="材料")
    confirmation_supplement_file(case=case, actor=world.lawyer, note="材料")  # special authority (CPL 62)


# --- Ruling, withdrawal -------------------------------------------------------------------------------------


def test_the_judge_confirms_the_agreement(world):
    case = accepted(world)
    application = confirmation_rule(case=case, actor=world.judge, confirm=True)
    assert Case.objects.get(pk=case.pk).status == S.JC_CONFIRMED
    assert (application.outcome, application.decided_by) == (ConfirmationOutcome.CONFIRMED, world.judge)
    assert not Timer.objects.filter(case=case, status=TimerStatus.RUNNING).exists()


def test_the_judge_dismisses_on_an_interp_358_ground(world):
    case = accepted(world)
    application = confirmation_rule(case=case, actor=world.judge, confirm=False, ground=DismissalGround.UNCLEAR)
    assert Case.objects.get(pk=case.pk).status == S.JC_DISMISSED
    assert application.ground == "unclear"
    assert AuditEvent.objects.get(case=case, kind="case.rule_dismissed").data["ground"] == "unclear"


def test_a_dismissal_without_a_ground_is_refused_and_nothing_is_saved(world):
    case = accepted(world)
    before = counts()
    with pytest.raises(InvalidInput, match="三百五十八"):
        confirmation_rule(case=case, actor=world.judge, confirm=False, ground="")
    assert Case.objects.get(pk=case.pk).status == S.JC_UNDER_REVIEW
    assert counts() == before


def test_a_ruling_on_an_application_not_accepted_is_refused(world):
    case = submitted(world)
    before = counts()
    with pytest.raises(TransitionNotAllowed, match="已受理"):
        confirmation_rule(case=case, actor=world.judge, confirm=True)
    assert counts() == before


@pytest.mark.parametrize("name", [*NOT_JUDGES, "respondent"])
def test_only_a_judge_of_the_court_rules(world, name):
    case = accepted(world)
    before = counts()
    with pytest.raises(PermissionDenied):
        confirmation_rule(case=case, actor=getattr(world, name), confirm=True)
    with pytest.raises(PermissionDenied):
        confirmation_allow_withdrawal(case=case, actor=getattr(world, name), note="申请撤回")
    assert counts() == before


def test_the_judge_allows_withdrawal_before_the_ruling(world):
    case = accepted(world)
    application = confirmation_allow_withdrawal(case=case, actor=world.judge, note="双方当事人当庭申请撤回")
    assert Case.objects.get(pk=case.pk).status == S.JC_WITHDRAWN
    assert application.outcome == ConfirmationOutcome.WITHDRAWN
    assert AuditEvent.objects.filter(case=case, kind="case.withdraw_confirmation").exists()


# --- Clocks: decision day 15, extension to day 25, ceiling day 30 (T12; CPL 187), objection (T13) -----------


def test_the_decision_is_overdue_after_day_15(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:  # a Monday
        case = accepted(world)
        decision = open_timer(case, TimerKind.JC_DECISION)
        assert decision.due_at == local(2025, 3, 19, 0)  # the last day is 3-18, day 15
        traveller.move_to(local(2025, 3, 18, 23))
        assert not timers_sweep()
        traveller.move_to(local(2025, 3, 19, 0, 30))
        fired = timers_sweep()
        assert [t.kind for t in fired] == [TimerKind.JC_DECISION]
        case.refresh_from_db()
        assert case.status == S.JC_UNDER_REVIEW  # an SLA breach, not a move
        rows = court_inbox_for_judge(user=world.judge).rows
        assert rows[0].case.pk == case.pk and rows[0].overdue


def test_the_presidents_extension_moves_the_decision_to_day_25(world, president):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = accepted(world)
        traveller.move_to(local(2025, 3, 14, 10))
        application = confirmation_extension_approve(case=case, actor=president, reason="需向调解组织核实")
        assert application.extension_approved_by == president
        decision = open_timer(case, TimerKind.JC_DECISION)
        assert decision.extra_days == 10 and decision.due_at == local(2025, 3, 29, 0)  # day 25: 3-28
        assert AuditEvent.objects.filter(case=case, kind="confirmation.extension_approved").exists()
        with pytest.raises(InvalidInput, match="一次"):
            confirmation_extension_approve(case=case, actor=president, reason="再次")
        traveller.move_to(local(2025, 3, 20, 10))
        assert not timers_sweep()  # past day 15, within the extension
        traveller.move_to(local(2025, 3, 29, 1))
        assert [t.kind for t in timers_sweep()] == [TimerKind.JC_DECISION]
        traveller.move_to(local(2025, 4, 3, 1))  # the last day of 30 is 4-02
        assert [t.kind for t in timers_sweep()] == [TimerKind.JC_CEILING]
        assert Case.objects.get(pk=case.pk).status == S.JC_UNDER_REVIEW


@pytest.mark.parametrize("name", ["judge", "clerk", "other_judge", "mediator", "applicant", "outsider"])
def test_only_the_courts_president_approves_an_extension(world, name):
    case = accepted(world)
    before = counts()
    with pytest.raises(PermissionDenied, match="院长"):
        confirmation_extension_approve(case=case, actor=getattr(world, name), reason="理由")
    assert counts() == before


def test_another_courts_president_cannot_approve(world):
    elsewhere = UserFactory(real_name="外院院长")
    add_member(elsewhere, world.other_court, Role.COURT_PRESIDENT)
    case = accepted(world)
    with pytest.raises(PermissionDenied):
        confirmation_extension_approve(case=case, actor=elsewhere, reason="理由")


def test_an_extension_after_the_decision_period_lapsed_is_refused(world, president):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = accepted(world)
        traveller.move_to(local(2025, 3, 20, 10))
        timers_sweep()
        before = counts()
        with pytest.raises(InvalidInput, match="届满"):
            confirmation_extension_approve(case=case, actor=president, reason="理由")
        assert counts() == before


def test_the_objection_window_closes_after_15_days(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = accepted(world)
        confirmation_rule(case=case, actor=world.judge, confirm=True)
        with pytest.raises(PermissionDenied):
            confirmation_ruling_served(case=case, actor=world.judge)
        confirmation_ruling_served(case=case, actor=world.clerk)
        case.refresh_from_db()
        assert case.status == S.OBJECTION_WINDOW
        assert open_timer(case, TimerKind.JC_OBJECTION).due_at == local(2025, 3, 19, 0)
        traveller.move_to(local(2025, 3, 18, 12))
        timers_sweep()
        assert Case.objects.get(pk=case.pk).status == S.OBJECTION_WINDOW
        traveller.move_to(local(2025, 3, 19, 0, 30))
        timers_sweep()
    assert Case.objects.get(pk=case.pk).status == S.PERFORMANCE_TRACKING


# --- The inbox ----------------------------------------------------------------------------------------------


def test_the_inbox_is_the_judges_court_only_and_refuses_others(world, president):
    case = submitted(world)
    assert [row.case.pk for row in court_inbox_for_judge(user=world.judge).rows] == [case.pk]
    assert [row.case.pk for row in court_inbox_for_judge(user=president).rows] == [case.pk]
    assert court_inbox_for_judge(user=world.other_judge).rows == []
    for name in ("clerk", "mediator", "applicant", "outsider"):
        with pytest.raises(PermissionDenied):
            court_inbox_for_judge(user=getattr(world, name))


def test_the_inbox_costs_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for _ in range(2):
        submitted(world)
    court_inbox_for_judge(user=world.judge)
    with django_assert_max_num_queries(12) as few:
        court_inbox_for_judge(user=world.judge)
    for _ in range(4):
        submitted(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        court_inbox_for_judge(user=world.judge)


def test_the_judges_are_reminded_before_the_acceptance_decision_lapses(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = submitted(world)
        traveller.move_to(local(2025, 3, 6, 9))  # the last day of 3 is 3-06
        assert timers_remind() == 1
    reminded = OutboxMessage.objects.filter(case=case, template="timer.reminder")
    assert {m.recipient for m in reminded} == {world.judge}


def test_the_president_role_is_the_presidents_alone(world, president):
    case = submitted(world)
    assert tr.PRESIDENT in case_roles(president, case)
    assert tr.JUDGE in case_roles(president, case)  # a president is a judge of the court, as before
    for name in ("judge", "clerk", "other_judge"):
        assert tr.PRESIDENT not in case_roles(getattr(world, name), case)
