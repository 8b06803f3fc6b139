"""Court intake: accepting and returning applications (OMR 9-10), court referrals 委派/委托 (SIM 11), the
partner organisation's queue, and the clocks the queues show (legal-rules §B4)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mediation.choices import (
    RETURN_GUIDANCE,
    CaseOrigin,
    CaseStatus,
    MediatorStatus,
    OrganisationKind,
    PartyKind,
    PartyRole,
    Procedure,
    ReturnReason,
    Role,
    Sector,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import AuditEvent, Case, CaseMediator, Organisation, Party, RosterEntry, Timer
from mediation.selectors.intake import (
    intake_queue_for_clerk,
    mediator_dashboard,
    org_queue_for_admin,
    organisation_list_eligible_for_court,
)
from mediation.services.assignment import mediator_decline, recusal_decide, recusal_request
from mediation.services.intake import (
    ReferralParty,
    case_accept_for_mediation,
    case_distribute_to_mediator,
    case_refer_to_organisation,
    case_referral_create,
    case_return,
)
from mediation.services.timer_sweep import timers_sweep
from tests.factories import UserFactory, add_member, make_mediator, make_resident_id

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def submitted(world) -> Case:
    return world.drive(world.new_case(), CaseStatus.SUBMITTED)


def case_ids(page) -> list[int]:
    return [row.case.pk for row in page.rows]


def the_parties(*, respondent_phone: str = "13900000002", applicant_id: str = "") -> list[ReferralParty]:
    return [
        ReferralParty(role=PartyRole.APPLICANT, name="王五", phone="13900000001", id_number=applicant_id),
        ReferralParty(role=PartyRole.RESPONDENT, name="北京某某科技有限公司", phone=respondent_phone,
                      kind=PartyKind.ENTITY),
    ]


def refer(world, **overrides):
    arguments = {
        "actor": world.clerk, "origin": CaseOrigin.COURT_FILED, "court": world.court, "dispute_type": Sector.LABOUR,
        "title": "追索劳动报酬纠纷", "claims": "支付拖欠工资 8,000 元", "amount": "8000", "parties": the_parties(),
        "court_case_number": "（2026）京0101民初4567号", "procedure": Procedure.ORDINARY,
    }
    arguments.update(overrides)
    return case_referral_create(**arguments)


def counts() -> tuple[int, int, int, int]:
    return Case.objects.count(), Party.objects.count(), AuditEvent.objects.count(), Timer.objects.count()


# --- Accept and return (OMR 9-10) ---------------------------------------------------------------------


def test_a_clerk_accepts_an_application_for_mediation_and_selection_opens(world):
    case = case_accept_for_mediation(case=submitted(world), actor=world.clerk)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert case.audit_events.get(kind="case.accept_for_mediation").actor == world.clerk
    assert Timer.objects.get(case=case, kind=TimerKind.SELECTION_WINDOW).status == TimerStatus.RUNNING


@pytest.mark.parametrize(
    "who", ["other_clerk", "judge", "applicant", "respondent", "mediator", "other_mediator", "org_admin", "outsider"]
)
def test_accepting_is_refused_to_anyone_but_a_clerk_of_the_court(world, who):
    case = submitted(world)
    with pytest.raises(PermissionDenied):
        case_accept_for_mediation(case=case, actor=getattr(world, who))
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


@pytest.mark.parametrize("reason", list(ReturnReason))
def test_each_return_reason_records_the_guidance_it_requires(world, reason):
    case = case_return(case=submitted(world), actor=world.clerk, reason=reason, note="请补充材料后另行申请")
    case.refresh_from_db()
    assert (case.status, case.return_reason) == (CaseStatus.RETURNED, reason)
    event = case.audit_events.get(kind="case.return")
    assert event.actor == world.clerk
    assert event.data["guidance"] == str(RETURN_GUIDANCE[reason])
    assert event.data["note"] == "请补充材料后另行申请"
    assert event.data["rule"] == "OMR 9"


@pytest.mark.parametrize("reason", ["", "not_a_reason"])
def test_a_return_without_an_omr_9_reason_is_refused_and_nothing_changes(world, reason):
    case = submitted(world)
    before = counts()
    with pytest.raises(InvalidInput, match="请选择退回事由"):
        case_return(case=case, actor=world.clerk, reason=reason)
    case.refresh_from_db()
    assert (case.status, case.return_reason) == (CaseStatus.SUBMITTED, "")
    assert counts() == before


def test_a_return_by_another_courts_clerk_is_refused(world):
    case = submitted(world)
    with pytest.raises(PermissionDenied):
        case_return(case=case, actor=world.other_clerk, reason=ReturnReason.UNSUITABLE_ONLINE)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED


def test_an_entrusted_case_is_not_returned_under_omr_9(world):
    case = world.drive(world.new_case(origin=CaseOrigin.ENTRUSTED), CaseStatus.SUBMITTED)
    with pytest.raises(TransitionNotAllowed):
        case_return(case=case, actor=world.clerk, reason=ReturnReason.UNSUITABLE_ONLINE)


# --- Court referrals (委派 / 委托) ------------------------------------------------------------------------


def test_a_court_filed_referral_is_created_accepted_and_waits_for_a_mediator(world):
    case = refer(world, referral_number="京0101委托2026-17", parties=the_parties(applicant_id=make_resident_id(9)))
    case.refresh_from_db()
    assert (case.origin, case.status, case.court) == (
        CaseOrigin.COURT_FILED, CaseStatus.AWAITING_SELECTION, world.court
    )
    assert case.referral_number == "京0101委托2026-17"
    assert case.court_case_number == "（2026）京0101民初4567号"
    assert not case.one_sided
    applicant = case.parties.get(role=PartyRole.APPLICANT)
    assert (applicant.name, applicant.phone, applicant.id_number) == ("王五", "13900000001", make_resident_id(9))
    respondent = case.parties.get(role=PartyRole.RESPONDENT)
    assert (respondent.kind, respondent.user) == (PartyKind.ENTITY, None)
    kinds = list(case.audit_events.order_by("seq").values_list("kind", flat=True))
    assert kinds.index("case.created") < kinds.index("referral.created") < kinds.index("case.submit")
    assert kinds.index("case.submit") < kinds.index("case.accept_for_mediation")
    # The parties consent themselves, on their phones (§A12 art. 2): the clerk attests nothing for them.
    assert "referral.consent_obtained" not in kinds
    created = case.audit_events.get(kind="referral.created")
    assert make_resident_id(9) not in str(created.data)  # masked in the trail
    assert set(Timer.objects.filter(case=case, status=TimerStatus.RUNNING).values_list("kind", flat=True)) == {
        TimerKind.COURT_DESIGNATION, TimerKind.SELECTION_WINDOW,
    }


def test_a_court_filed_referral_keeps_the_typed_court_case_number_and_its_procedure(world):
    case = refer(world, court_case_number=" （2026）京0101民初4567号 ", procedure=Procedure.SIMPLE)
    case.refresh_from_db()
    assert case.court_case_number == "（2026）京0101民初4567号"
    assert case.procedure == Procedure.SIMPLE
    assert case.status == CaseStatus.AWAITING_SELECTION


def test_a_court_filed_referral_without_a_court_case_number_is_refused_and_nothing_is_saved(world):
    before = counts()
    with pytest.raises(InvalidInput, match="委托调解须录入法院案号"):
        refer(world, court_case_number="  ")
    assert counts() == before


def test_a_court_filed_referral_without_a_procedure_is_refused(world):
    before = counts()
    with pytest.raises(InvalidInput, match="审理程序"):
        refer(world, procedure="")
    assert counts() == before


@pytest.mark.parametrize("origin", [CaseOrigin.DELEGATED, CaseOrigin.ENTRUSTED])
def test_a_new_delegated_or_old_style_entrusted_referral_is_refused_citing_the_2025_rule(world, origin):
    before = counts()
    with pytest.raises(InvalidInput, match="最高人民法院关于严格依法规范民事案件立案与调解工作的意见"):
        refer(world, origin=origin)
    assert counts() == before


@pytest.mark.parametrize("phone", ["abc", "1390000000", "23900000002", ""])
def test_a_respondent_phone_that_is_not_a_mobile_number_is_refused_naming_the_field(world, phone):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        refer(world, parties=the_parties(respondent_phone=phone))
    message = str(refused.value)
    assert "被申请人“北京某某科技有限公司”的联系电话" in message
    assert "11位数字" in message
    assert counts() == before


def test_an_id_number_with_a_wrong_check_digit_is_refused(world):
    good = make_resident_id(9)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    before = counts()
    with pytest.raises(InvalidInput, match="申请人“王五”的身份证号码有误：居民身份证号码校验位错误"):
        refer(world, parties=the_parties(applicant_id=bad))
    assert counts() == before


def test_a_referral_needs_an_applicant_and_a_respondent(world):
    with pytest.raises(InvalidInput, match="至少有一名申请人"):
        refer(world, parties=the_parties()[:1])


@pytest.mark.parametrize("amount", ["-1", "abc", "1.234"])
def test_a_referral_with_an_invalid_amount_is_refused(world, amount):
    before = counts()
    with pytest.raises(InvalidInput, match="标的额"):
        refer(world, amount=amount)
    assert counts() == before


@pytest.mark.parametrize("who", ["other_clerk", "judge", "org_admin", "mediator", "applicant", "outsider"])
def test_only_a_clerk_of_the_court_creates_a_referral(world, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        refer(world, actor=getattr(world, who))
    assert counts() == before


def test_a_referral_straight_to_an_ineligible_organisation_is_refused(world):
    before = counts()
    with pytest.raises(InvalidInput, match="不是本院可以委派案件的调解组织"):
        refer(world, organisation=world.other_partner)
    assert counts() == before


def test_a_referral_straight_to_the_courts_own_partner_lands_in_its_queue(world):
    case = refer(world, organisation=world.partner)
    assert case.mediation_organisation == world.partner
    assert case_ids(org_queue_for_admin(user=world.org_admin)) == [case.pk]


# --- Referring to a partner organisation's queue ----------------------------------------------------------


def put_on_roster(mediator, court) -> RosterEntry:
    return RosterEntry.objects.create(mediator=mediator.mediator_profile, court=court)


def test_organisations_eligible_for_a_court_are_its_children_and_those_with_mediators_on_its_roster(world):
    assert list(organisation_list_eligible_for_court(court=world.court)) == [world.partner]
    put_on_roster(world.other_mediator, world.court)
    assert set(organisation_list_eligible_for_court(court=world.court)) == {world.partner, world.other_partner}
    assert list(organisation_list_eligible_for_court(court=world.other_court)) == []


def test_a_clerk_refers_a_case_to_an_organisation_with_mediators_on_the_courts_roster(world):
    put_on_roster(world.other_mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    case = case_refer_to_organisation(case=case, organisation=world.other_partner, actor=world.clerk)
    case.refresh_from_db()
    assert case.mediation_organisation == world.other_partner
    assert case.status == CaseStatus.AWAITING_SELECTION
    event = case.audit_events.get(kind="case.referred_to_organisation")
    assert event.actor == world.clerk
    assert (event.data["organisation"], event.data["previous"]) == (world.other_partner.pk, world.partner.pk)


def test_a_referral_to_an_organisation_neither_under_the_court_nor_on_its_roster_is_refused(world):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with pytest.raises(InvalidInput, match="北京金融纠纷调解中心"):
        case_refer_to_organisation(case=case, organisation=world.other_partner, actor=world.clerk)
    case.refresh_from_db()
    assert case.mediation_organisation == world.partner
    assert not case.audit_events.filter(kind="case.referred_to_organisation").exists()


def test_a_referral_to_a_court_is_refused(world):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with pytest.raises(InvalidInput, match="是人民法院"):
        case_refer_to_organisation(case=case, organisation=world.other_court, actor=world.clerk)


@pytest.mark.parametrize("who", ["other_clerk", "judge", "org_admin", "mediator", "applicant", "outsider"])
def test_only_a_clerk_of_the_cases_court_refers_it_to_an_organisation(world, who):
    put_on_roster(world.other_mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with pytest.raises(PermissionDenied):
        case_refer_to_organisation(case=case, organisation=world.other_partner, actor=getattr(world, who))
    case.refresh_from_db()
    assert case.mediation_organisation == world.partner


def test_a_case_a_mediator_holds_is_not_referred(world):
    put_on_roster(world.other_mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    with pytest.raises(StaleState):
        case_refer_to_organisation(case=case, organisation=world.other_partner, actor=world.clerk)


# --- The organisation admin distributes -------------------------------------------------------------------


def test_the_org_admin_distributes_a_case_to_one_of_its_mediators(world):
    put_on_roster(world.mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    assert case_ids(org_queue_for_admin(user=world.org_admin)) == [case.pk]
    case = case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSIGNED
    assert CaseMediator.objects.get(case=case, is_active=True).mediator == world.mediator
    assert case.audit_events.get(kind="case.mediator_designated").actor == world.org_admin
    assert Timer.objects.get(case=case, kind=TimerKind.MEDIATOR_ACCEPTANCE).status == TimerStatus.RUNNING
    assert org_queue_for_admin(user=world.org_admin).rows == []


def test_another_organisations_admin_cannot_distribute(world):
    stranger = UserFactory(real_name="他组织管理员")
    add_member(stranger, world.other_partner, Role.ORG_ADMIN)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    assert org_queue_for_admin(user=stranger).rows == []
    with pytest.raises(PermissionDenied):
        case_distribute_to_mediator(case=case, mediator=world.mediator, actor=stranger)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_SELECTION


@pytest.mark.parametrize("who", ["mediator", "clerk", "outsider", "applicant"])
def test_only_the_organisations_admin_distributes(world, who):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    with pytest.raises(PermissionDenied):
        case_distribute_to_mediator(case=case, mediator=world.mediator, actor=getattr(world, who))


def test_a_mediator_of_another_organisation_is_refused_as_assignee(world):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    before = counts()
    with pytest.raises(InvalidInput, match="不是“北京市总工会劳动争议调解中心”在册且资格有效的调解员"):
        case_distribute_to_mediator(case=case, mediator=world.other_mediator, actor=world.org_admin)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert counts() == before


@pytest.mark.parametrize("change", ["suspended", "certificate_expired", "membership_ended"])
def test_a_mediator_who_may_not_take_cases_now_is_refused_and_not_offered(world, change):
    profile = world.mediator.mediator_profile
    if change == "suspended":
        profile.status = MediatorStatus.SUSPENDED
        profile.save()
    elif change == "certificate_expired":
        profile.certificate_valid_until = dt.date(2020, 1, 1)
        profile.save()
    else:
        world.mediator.memberships.update(is_active=False)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    assert org_queue_for_admin(user=world.org_admin).rows[0].mediators == []
    with pytest.raises(InvalidInput):
        case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)


def test_a_mediator_off_the_courts_roster_is_refused_as_assignee(world):
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    before = counts()
    with pytest.raises(InvalidInput, match="不在本案管辖法院（北京市东城区人民法院）确认的调解员名册内"):
        case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_SELECTION
    assert counts() == before


def test_a_mediator_recused_from_the_case_is_refused_as_assignee(world):
    put_on_roster(world.mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    request = recusal_request(
        case=case, party=case.parties.get(role=PartyRole.RESPONDENT), actor=world.lawyer, grounds="调解员系申请人表兄。"
    )
    recusal_decide(request=request, grant=True, note="准予回避。", actor=world.clerk)
    case = Case.objects.get(pk=case.pk)
    assert case.status == CaseStatus.AWAITING_SELECTION
    with pytest.raises(InvalidInput, match="已因回避退出本案"):
        case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_SELECTION


def test_a_mediator_who_declined_the_case_is_refused_as_assignee(world):
    put_on_roster(world.mediator, world.court)
    case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    case = case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)
    case = mediator_decline(case=case, actor=world.mediator, reasons="超出本人擅长领域。")
    assert case.status == CaseStatus.AWAITING_SELECTION
    with pytest.raises(InvalidInput, match="已退出本案"):
        case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.AWAITING_SELECTION


def test_the_org_queue_offers_the_organisations_active_mediators(world):
    colleague = make_mediator(world.partner, specialties=[Sector.LABOUR])
    world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    offered = org_queue_for_admin(user=world.org_admin).rows[0].mediators
    assert set(offered) == {world.mediator, colleague}
    assert world.other_mediator not in offered


@pytest.mark.parametrize("who", ["mediator", "clerk", "outsider", "applicant"])
def test_the_org_queue_is_refused_to_anyone_but_an_org_admin(world, who):
    with pytest.raises(PermissionDenied):
        org_queue_for_admin(user=getattr(world, who))


# --- The clerk's queue ----------------------------------------------------------------------------------


def test_the_clerk_queue_holds_the_courts_cases_that_need_the_courts_action(world):
    waiting = {status: world.drive(world.new_case(), status) for status in (
        CaseStatus.SUBMITTED, CaseStatus.AWAITING_SELECTION, CaseStatus.ASSIGNED,
    )}
    for status in (CaseStatus.DRAFT, CaseStatus.RETURNED, CaseStatus.ACCEPTED, CaseStatus.IN_MEDIATION):
        world.drive(world.new_case(), status)
    assert set(case_ids(intake_queue_for_clerk(user=world.clerk))) == {case.pk for case in waiting.values()}


def test_another_courts_clerk_sees_none_of_its_cases(world):
    world.drive(world.new_case(), CaseStatus.SUBMITTED)
    queue = intake_queue_for_clerk(user=world.other_clerk)
    assert queue.rows == []
    assert queue.courts == [world.other_court]


def test_a_court_president_sees_the_queue_but_holds_no_clerk_actions(world):
    president = UserFactory(real_name="院长")
    add_member(president, world.court, Role.COURT_PRESIDENT)
    case = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    queue = intake_queue_for_clerk(user=president)
    assert case_ids(queue) == [case.pk]
    assert queue.clerk_court_ids == frozenset()


@pytest.mark.parametrize("who", ["judge", "mediator", "org_admin", "applicant", "lawyer", "outsider"])
def test_the_queue_is_refused_to_anyone_but_court_intake_staff(world, who):
    with pytest.raises(PermissionDenied):
        intake_queue_for_clerk(user=getattr(world, who))


def test_a_member_of_a_non_court_organisation_with_a_clerk_role_sees_no_queue(world):
    odd = UserFactory()
    add_member(odd, world.partner, Role.CLERK)
    with pytest.raises(PermissionDenied):
        intake_queue_for_clerk(user=odd)


def test_clocks_count_working_days_left_and_overdue_cases_sort_first(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False):  # a Monday
        fresh = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    with time_machine.travel(local(2025, 2, 24, 10), tick=False):  # the Monday before
        stale = world.drive(world.new_case(), CaseStatus.SUBMITTED)
    queue = intake_queue_for_clerk(user=world.clerk, now=local(2025, 3, 4, 9))
    assert case_ids(queue) == [stale.pk, fresh.pk]
    stale_row, fresh_row = queue.rows
    assert stale_row.overdue and not fresh_row.overdue
    (clock,) = fresh_row.clocks
    # Court designation: 3 working days after Mon 03-03 -> Thu 03-06; on Tue 03-04, Wed and Thu are left.
    assert (clock.kind, clock.last_day, clock.days, clock.overdue) == (
        TimerKind.COURT_DESIGNATION, dt.date(2025, 3, 6), 2, False,
    )
    assert clock.left_text == "剩余 2 个工作日"
    (late,) = stale_row.clocks
    # Due Thu 02-27; on Tue 03-04 it is Fri, Mon, Tue late (the weekend does not count).
    assert (late.overdue, late.days, late.left_text) == (True, 3, "已逾期 3 个工作日")


def test_a_lapsed_court_designation_clock_stays_overdue_on_the_clerk_queue(world):
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
        traveller.move_to(local(2025, 3, 7, 9))  # designation was due by the end of Thu 03-06
        fired = timers_sweep()
        assert {t.kind for t in fired} == {TimerKind.COURT_DESIGNATION, TimerKind.SELECTION_WINDOW}
        queue = intake_queue_for_clerk(user=world.clerk)
    (row,) = queue.rows
    assert row.case.pk == case.pk
    assert row.overdue
    clocks = {clock.kind: clock for clock in row.clocks}
    assert clocks[TimerKind.COURT_DESIGNATION].lapsed
    assert clocks[TimerKind.COURT_DESIGNATION].left_text == "已逾期 1 个工作日"
    assert clocks[TimerKind.SELECTION_WINDOW].overdue  # the parties did not choose: the court designates


def test_a_mediator_acceptance_lapse_returns_the_case_to_the_queue_for_re_designation(world):
    put_on_roster(world.mediator, world.court)
    with time_machine.travel(local(2025, 3, 3, 10), tick=False) as traveller:
        case = world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
        case = case_distribute_to_mediator(case=case, mediator=world.mediator, actor=world.org_admin)
        row = intake_queue_for_clerk(user=world.clerk).rows[0]
        assert row.case.status == CaseStatus.ASSIGNED
        assert [clock.kind for clock in row.clocks] == [TimerKind.MEDIATOR_ACCEPTANCE]
        assert case_ids(mediator_dashboard(user=world.mediator)) == [case.pk]

        traveller.move_to(local(2025, 3, 6, 23))  # the last day: overdue only after it ends
        assert not mediator_dashboard(user=world.mediator).rows[0].overdue
        traveller.move_to(local(2025, 3, 7, 0, 5))
        assert mediator_dashboard(user=world.mediator).rows[0].overdue  # not swept yet, already late
        timers_sweep()
        queue = intake_queue_for_clerk(user=world.clerk)
        dashboard = mediator_dashboard(user=world.mediator)
    (row,) = queue.rows
    assert row.case.status == CaseStatus.AWAITING_SELECTION
    # The lapsed acceptance clock no longer applies; a new choice window does. The court designated in time,
    # so its designation clock stopped then and is not shown again.
    assert [clock.kind for clock in row.clocks] == [TimerKind.SELECTION_WINDOW]
    assert not row.overdue
    assert dashboard.rows == []  # the lapse ended the mediator's assignment (D12)
    assert case_ids(org_queue_for_admin(user=world.org_admin)) == [case.pk]


def test_a_declined_case_reappears_for_designation_with_a_fresh_choice_window(world):
    from mediation.services.cases import case_transition

    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.mediator, note="与当事人有亲属关系")
    (row,) = intake_queue_for_clerk(user=world.clerk).rows
    assert row.case.status == CaseStatus.AWAITING_SELECTION
    selection = [clock for clock in row.clocks if clock.kind == TimerKind.SELECTION_WINDOW]
    assert len(selection) == 1 and not selection[0].lapsed


# --- The mediator's dashboard ----------------------------------------------------------------------------


def test_the_mediator_dashboard_holds_only_the_mediators_open_cases(world):
    mine = {status: world.drive(world.new_case(), status) for status in (
        CaseStatus.ASSIGNED, CaseStatus.ACCEPTED, CaseStatus.SCHEDULING, CaseStatus.IN_MEDIATION,
    )}
    pending = world.drive(world.new_case(one_sided=True), CaseStatus.RESPONDENT_PENDING)
    world.drive(world.new_case(), CaseStatus.CLOSED_SETTLED)
    world.drive(world.new_case(), CaseStatus.AWAITING_SELECTION)
    page = mediator_dashboard(user=world.mediator)
    assert set(case_ids(page)) == {case.pk for case in mine.values()} | {pending.pk}
    pending_row = next(row for row in page.rows if row.case.pk == pending.pk)
    assert TimerKind.RESPONDENT_CONTACT in {clock.kind for clock in pending_row.clocks}
    assert mediator_dashboard(user=world.other_mediator).rows == []


@pytest.mark.parametrize("who", ["clerk", "org_admin", "applicant", "outsider"])
def test_the_mediator_dashboard_is_refused_to_anyone_but_a_mediator(world, who):
    with pytest.raises(PermissionDenied):
        mediator_dashboard(user=getattr(world, who))


def test_only_mediation_organisations_are_eligible(world):
    court_child = Organisation.objects.create(
        name="东城区人民法庭", kind=OrganisationKind.COURT, court_level="tribunal", parent=world.court
    )
    assert court_child not in organisation_list_eligible_for_court(court=world.court)
